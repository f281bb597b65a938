import { describe, expect, it } from 'vitest';
import { MAX_RETRY_AFTER_SECONDS, safeRetryAfter, scrubProviderKey, SCRUBBED_KEY } from './provider-text.js';

const KEY = 'sk-proj-AbC123dEf456GhI789jKl012MnO345';

describe('scrubProviderKey', () => {
  const cases: Array<[string, string]> = [
    ['exact copy', `invalid key ${KEY} provided`],
    ['upper case', `invalid key ${KEY.toUpperCase()} provided`],
    ['lower case', `invalid key ${KEY.toLowerCase()} provided`],
    ['without its prefix', `invalid key ${KEY.slice('sk-proj-'.length)} provided`],
    ['prefix-less and upper case', `invalid key ${KEY.slice('sk-proj-'.length).toUpperCase()} provided`],
    ['cut short', `invalid key ${KEY.slice(0, 20)}… provided`],
    ['its tail only', `invalid key …${KEY.slice(-14)} provided`],
    ['inside JSON', JSON.stringify({ error: { message: `key=${KEY}` } })],
  ];
  for (const [name, text] of cases) {
    it(`removes the key: ${name}`, () => {
      const out = scrubProviderKey(text, KEY);
      expect(out).toContain(SCRUBBED_KEY);
      expect(out.toLowerCase()).not.toContain(KEY.slice(8, 8 + 12).toLowerCase());
      expect(out.toLowerCase()).not.toContain(KEY.slice(-12).toLowerCase());
    });
  }

  it('keeps the words around it', () => {
    expect(scrubProviderKey(`bad key ${KEY}, try again`, KEY)).toBe(`bad key ${SCRUBBED_KEY}, try again`);
    expect(scrubProviderKey(`a ${KEY} b ${KEY.toUpperCase()} c`, KEY)).toBe(`a ${SCRUBBED_KEY} b ${SCRUBBED_KEY} c`);
  });

  it('leaves short fragments and unrelated text alone', () => {
    const masked = `Incorrect API key provided: sk-*****O345. The key prefix sk-proj- is fine; AbC123dEf45 is 11 characters.`;
    expect(scrubProviderKey(masked, KEY)).toBe(masked);
    expect(scrubProviderKey('The server had an error while processing your request.', KEY)).toBe('The server had an error while processing your request.');
  });

  it('a short key is removed only as a whole; an empty or tiny one not at all', () => {
    expect(scrubProviderKey('key Ollama1 refused (OLLAMA1)', 'ollama1')).toBe(`key ${SCRUBBED_KEY} refused (${SCRUBBED_KEY})`);
    expect(scrubProviderKey('anything at all', '')).toBe('anything at all');
    expect(scrubProviderKey('an answer', 'an')).toBe('an answer');
  });

  it('keeps indices right around characters whose lower case is longer', () => {
    expect(scrubProviderKey(`İİ ${KEY} İ`, KEY)).toBe(`İİ ${SCRUBBED_KEY} İ`);
  });
});

describe('safeRetryAfter', () => {
  it('forwards delta-seconds, capped', () => {
    expect(safeRetryAfter('7')).toBe('7');
    expect(safeRetryAfter(' 0 ')).toBe('0');
    expect(safeRetryAfter(['3', '9'])).toBe('3');
    expect(safeRetryAfter('99999999')).toBe(String(MAX_RETRY_AFTER_SECONDS));
  });

  it('forwards an HTTP date as IMF-fixdate, in any of the three forms', () => {
    const soon = new Date(Math.floor(Date.now() / 1000) * 1000 + 60_000);
    const fixdate = soon.toUTCString();
    expect(safeRetryAfter(fixdate)).toBe(fixdate);
    expect(safeRetryAfter('Sunday, 06-Nov-94 08:49:37 GMT')).toBe('Sun, 06 Nov 1994 08:49:37 GMT');
    expect(safeRetryAfter('Sun Nov  6 08:49:37 1994')).toBe('Sun, 06 Nov 1994 08:49:37 GMT');
  });

  it('a date far ahead is capped too', () => {
    expect(safeRetryAfter(new Date(Date.now() + 365 * 86_400_000).toUTCString())).toBe(String(MAX_RETRY_AFTER_SECONDS));
  });

  it('drops anything else', () => {
    for (const value of [undefined, '', '-1', '1.5', '7 sk-proj-AbC123dEf456GhI789', 'soon', 'Sun, 06 Nov 1994 08:49:37 GMT\r\nX-Evil: 1', '1e3', '0x10', 'Sun, 99 Nov 1994 08:49:37 GMT', '1'.repeat(13)]) {
      expect(safeRetryAfter(value)).toBeUndefined();
    }
  });
});
