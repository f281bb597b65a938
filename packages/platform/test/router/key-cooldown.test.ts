// Keys that just failed are rested (issue 11 §4), through the OpenAI SDK: after a key answers 429
// the next call starts with the other key of its rank; when the Retry-After is over one call
// probes the rested key again, and a success brings it back.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouterHarness, type RouterHarness } from './support/router-harness.js';

const KEY_A = `sk-key-a-${'a'.repeat(24)}`;
const KEY_B = `sk-key-b-${'b'.repeat(24)}`;
const ANT_A = `sk-ant-a-${'c'.repeat(24)}`;
const ANT_B = `sk-ant-b-${'d'.repeat(24)}`;

let h: RouterHarness;
beforeAll(async () => {
  h = await startRouterHarness();
  // Same rank (org, not primary): the older one, A, is tried first.
  await h.addKey('openai', { apiKey: KEY_A });
  await h.addKey('openai', { apiKey: KEY_B });
  await h.addKey('anthropic', { apiKey: ANT_A });
  await h.addKey('anthropic', { apiKey: ANT_B });
});
afterAll(async () => {
  await h?.close();
});

const keyOf = (n: number) => String(h.upstreams.openai.requests.at(n)!.headers.authorization).replace('Bearer ', '');
const hi = { model: 'openai:gpt-4o-mini', messages: [{ role: 'user' as const, content: 'hi' }] };

describe('a key that answered 429', () => {
  it('is skipped by the next calls while it rests, then probed once and back', async () => {
    h.upstreams.openai.enqueue({ type: 'error', status: 429, message: 'Rate limit reached', headers: { 'retry-after': '1' } });
    await h.openai().chat.completions.create(hi);
    expect([keyOf(-2), keyOf(-1)]).toEqual([KEY_A, KEY_B]);

    // Before the fix the next call went to A first and met the same 429.
    await h.openai().chat.completions.create(hi);
    expect(keyOf(-1)).toBe(KEY_B);
    const stream = await h.openai().chat.completions.create({ ...hi, stream: true });
    for await (const _ of stream);
    expect(keyOf(-1)).toBe(KEY_B);

    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const before = h.upstreams.openai.requests.length;
    await h.openai().chat.completions.create(hi);
    expect(h.upstreams.openai.requests.length).toBe(before + 1);
    expect(keyOf(-1)).toBe(KEY_A);
    await h.openai().chat.completions.create(hi);
    expect(keyOf(-1)).toBe(KEY_A);
  });

  it('a probe that fails (a 503 rests for the bounded default) rests the key again, and the call still succeeds on the other key', async () => {
    h.upstreams.openai.enqueue({ type: 'error', status: 429, message: 'Rate limit reached', headers: { 'retry-after': '1' } });
    await h.openai().chat.completions.create(hi);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    h.upstreams.openai.enqueue({ type: 'error', status: 503, message: 'Still overloaded' });
    const completion = await h.openai().chat.completions.create(hi);
    expect(completion.choices[0]!.message.content).toBeTruthy();
    expect([keyOf(-2), keyOf(-1)]).toEqual([KEY_A, KEY_B]);
    await h.openai().chat.completions.create(hi);
    expect(keyOf(-1)).toBe(KEY_B);
  });
});

describe('a key that answered a 5xx with Retry-After (the native Anthropic passthrough)', () => {
  const antKeyOf = (n: number) => String(h.upstreams.anthropic.requests.at(n)!.headers['x-api-key']);
  const ask = () => h.anthropic().messages.create({ model: 'anthropic:claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });

  it('rests for the Retry-After the provider gave, not the 30-second default', async () => {
    h.upstreams.anthropic.enqueue({ type: 'error', status: 529, message: 'Overloaded', headers: { 'retry-after': '1' } });
    await ask();
    // Both keys were added in the same instant: either may be first.
    const [rested, other] = [antKeyOf(-2), antKeyOf(-1)];
    expect([rested, other].sort()).toEqual([ANT_A, ANT_B]);
    await ask();
    expect(antKeyOf(-1)).toBe(other);
    // Before the fix a 5xx's Retry-After was ignored and the key stayed behind the other for 30 s.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await ask();
    expect(antKeyOf(-1)).toBe(rested);
  });
});
