import { describe, expect, it } from 'vitest';
import { anthropicErrorBody, anthropicErrorStatus, anthropicErrorType } from './errors.js';

describe('HTTP status → Anthropic error type (Anthropic errors page)', () => {
  const table: Array<[number, string]> = [
    [400, 'invalid_request_error'],
    [401, 'authentication_error'],
    [402, 'billing_error'],
    [403, 'permission_error'],
    [404, 'not_found_error'],
    [413, 'request_too_large'],
    [422, 'invalid_request_error'],
    [429, 'rate_limit_error'],
    [500, 'api_error'],
    [502, 'api_error'],
    [504, 'timeout_error'],
    [529, 'overloaded_error'],
  ];
  for (const [status, type] of table) it(`${status} → ${type}`, () => expect(anthropicErrorType(status)).toBe(type));

  it('the body has Anthropic’s shape', () => {
    expect(anthropicErrorBody(429, 'Number of request tokens has exceeded your per-minute rate limit', 'req_011CSHoEeqs5C35K2UUqR7Fy')).toEqual({
      type: 'error',
      error: { type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit' },
      request_id: 'req_011CSHoEeqs5C35K2UUqR7Fy',
    });
    expect(anthropicErrorBody(504, 'Upstream timed out')).toEqual({ type: 'error', error: { type: 'timeout_error', message: 'Upstream timed out' } });
  });
});

describe('Anthropic error type → HTTP status (for in-stream error events, which carry only the type)', () => {
  const table: Array<[string | undefined, number]> = [
    ['overloaded_error', 529],
    ['rate_limit_error', 429],
    ['invalid_request_error', 400],
    ['api_error', 500],
    ['something_new', 500],
    [undefined, 500],
  ];
  for (const [type, status] of table) it(`${String(type)} → ${status}`, () => expect(anthropicErrorStatus(type)).toBe(status));
});
