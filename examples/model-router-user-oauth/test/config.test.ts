import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config.js';

const PROXY = '3f2b8c1e-5d4a-4e2f-9b7c-1a2b3c4d5e6f';

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('settings', () => {
  it('needs only LLM_PROXY_ID; everything else has the documented default', () => {
    expect(parseConfig({ LLM_PROXY_ID: PROXY })).toMatchObject({
      keywardBaseUrl: new URL('http://localhost:9000'),
      appBaseUrl: new URL('http://localhost:5174'),
      redirectUri: 'http://localhost:5174/oauth/callback',
      llmProxyId: PROXY,
      model: 'openai:gpt-4o-mini',
      port: 5174,
    });
  });

  it('takes the port from APP_BASE_URL, and APP_BASE_URL from PORT', () => {
    expect(parseConfig({ LLM_PROXY_ID: PROXY, APP_BASE_URL: 'http://127.0.0.1:8080' }).port).toBe(8080);
    expect(parseConfig({ LLM_PROXY_ID: PROXY, PORT: '3000' }).redirectUri).toBe('http://localhost:3000/oauth/callback');
  });

  it('accepts https anywhere and a Keyward under a path', () => {
    const config = parseConfig({ LLM_PROXY_ID: PROXY, KEYWARD_BASE_URL: 'https://ai.example.com/keyward/', APP_BASE_URL: 'https://app.example.com' });
    expect(config.keywardBaseUrl.href).toBe('https://ai.example.com/keyward');
    expect(config.redirectUri).toBe('https://app.example.com/oauth/callback');
  });

  const broken: Array<[string, Record<string, string>, string]> = [
    ['missing LLM_PROXY_ID', {}, 'LLM_PROXY_ID is missing. Set it to the id of an LLM proxy'],
    ['LLM_PROXY_ID not a UUID', { LLM_PROXY_ID: 'default' }, 'LLM_PROXY_ID must be the proxy\'s id, a UUID like'],
    ['KEYWARD_BASE_URL not a URL', { LLM_PROXY_ID: PROXY, KEYWARD_BASE_URL: 'localhost:9000' }, 'KEYWARD_BASE_URL must '],
    ['KEYWARD_BASE_URL not http', { LLM_PROXY_ID: PROXY, KEYWARD_BASE_URL: 'ftp://localhost:9000' }, 'KEYWARD_BASE_URL must start with http:// or https://'],
    ['KEYWARD_BASE_URL plain http to another machine', { LLM_PROXY_ID: PROXY, KEYWARD_BASE_URL: 'http://keyward.example.com' }, 'KEYWARD_BASE_URL must use https://'],
    ['KEYWARD_BASE_URL with a query', { LLM_PROXY_ID: PROXY, KEYWARD_BASE_URL: 'http://localhost:9000/?x=1' }, 'KEYWARD_BASE_URL must be a plain URL'],
    ['APP_BASE_URL not a URL', { LLM_PROXY_ID: PROXY, APP_BASE_URL: 'my app' }, 'APP_BASE_URL must be a URL like APP_BASE_URL=http://localhost:5174'],
    ['APP_BASE_URL with a path', { LLM_PROXY_ID: PROXY, APP_BASE_URL: 'http://localhost:5174/app' }, "APP_BASE_URL must be the app's origin without a path"],
    ['MODEL without provider', { LLM_PROXY_ID: PROXY, MODEL: 'gpt-4o-mini' }, 'MODEL must be "<provider>:<model>", like MODEL=openai:gpt-4o-mini'],
    ['PORT not a number', { LLM_PROXY_ID: PROXY, PORT: 'eighty' }, 'PORT must be a port number between 1 and 65535'],
    ['PORT out of range', { LLM_PROXY_ID: PROXY, PORT: '70000' }, 'PORT must be a port number between 1 and 65535'],
  ];
  for (const [what, env, message] of broken) {
    it(`stops on ${what}, saying what to set`, () => {
      const problems = problemsOf(env);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toContain(message);
    });
  }

  it('lists every problem at once, and the error tells where to set them', () => {
    const error = (() => {
      try {
        parseConfig({ KEYWARD_BASE_URL: 'nope', MODEL: 'x' });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(error?.problems).toHaveLength(3);
    expect(error?.message).toContain('Set these in .env (copy .env.example)');
  });

  it('treats empty values as missing (as in a fresh copy of .env.example)', () => {
    expect(problemsOf({ LLM_PROXY_ID: '', KEYWARD_BASE_URL: '' })).toEqual([expect.stringContaining('LLM_PROXY_ID is missing')]);
  });
});
