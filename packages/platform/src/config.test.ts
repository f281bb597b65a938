import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('settings a start refuses with a message naming them', () => {
  it('PUBLIC_URL under a path: Keyward is served at the root of its origin', () => {
    expect(() => loadConfig({ PUBLIC_URL: 'https://example.com/keyward' })).toThrow(ConfigError);
    expect(() => loadConfig({ PUBLIC_URL: 'https://example.com/keyward/' })).toThrow(/PUBLIC_URL must be the root of its origin.*"\/keyward\/"/);
    expect(loadConfig({ PUBLIC_URL: 'https://keyward.example.com/' }).publicUrl).toBe('https://keyward.example.com');
    expect(loadConfig({ PUBLIC_URL: 'http://127.0.0.1:9000' }).publicUrl).toBe('http://127.0.0.1:9000');
  });

  it('an unknown KEYWARD_LOG_LEVEL, instead of a stack trace from the logger', () => {
    expect(() => loadConfig({ KEYWARD_LOG_LEVEL: 'verbose' })).toThrow(/KEYWARD_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"/);
    expect(loadConfig({ KEYWARD_LOG_LEVEL: 'warn' }).logLevel).toBe('warn');
    expect(loadConfig({}).logLevel).toBe('info');
  });

  it('KEYWARD_UNUSED_APP_TTL_DAYS outside 0–3650 or not a whole number', () => {
    expect(loadConfig({}).unusedAppTtlDays).toBe(7);
    expect(loadConfig({ KEYWARD_UNUSED_APP_TTL_DAYS: '0' }).unusedAppTtlDays).toBe(0);
    expect(loadConfig({ KEYWARD_UNUSED_APP_TTL_DAYS: '30' }).unusedAppTtlDays).toBe(30);
    expect(() => loadConfig({ KEYWARD_UNUSED_APP_TTL_DAYS: '-1' })).toThrow(/KEYWARD_UNUSED_APP_TTL_DAYS/);
    expect(() => loadConfig({ KEYWARD_UNUSED_APP_TTL_DAYS: '1.5' })).toThrow(/KEYWARD_UNUSED_APP_TTL_DAYS/);
  });
});
