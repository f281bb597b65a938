// Spending and rate limits, enforced before the call: 402 budget_exceeded / 429 rate_limit_exceeded
// in each wire's shape through the official SDKs, max_tokens lowered to what the budget pays for,
// reservations settled to the actual cost (stream, non-stream, abort, upstream failure; a stream
// left before its usage is charged its reservation), and the
// `keyward limit` commands.

import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouterHarness, type RouterHarness } from './support/router-harness.js';
import { keywardCli, propagate } from './support/money-support.js';
import { runKeyward } from '../support/cli.js';
import { operatorActor } from '../../src/accounts/actors.js';
import { setUserDisabled } from '../../src/accounts/user-management.js';

let h: RouterHarness;
// $1000 in / $10000 out per million tokens: a tenth of a cent per input token, a cent per output token.
const MODEL = 'openai:budget-model';
beforeAll(async () => {
  h = await startRouterHarness();
  await h.addKey('openai');
  await h.addKey('anthropic');
  await keyward('price', 'set', '--provider', 'openai', '--model', 'budget-model', '--input-usd-per-mtok', '1000', '--output-usd-per-mtok', '10000');
  await keyward('price', 'set', '--provider', 'anthropic', '--model', 'budget-claude', '--input-usd-per-mtok', '1000', '--output-usd-per-mtok', '10000');
}, 60_000);
afterAll(() => h?.close());

const cliEnv = () => ({ KEYWARD_DATA_DIR: h.tp.config.dataDir, DATABASE_URL: h.tp.config.databaseUrl ?? '' });
const keyward = keywardCli(() => h);
let users = 0;
async function freshUser() {
  const user = await h.addUser(`money-${++users}-${Date.now()}@example.com`);
  return { user, openai: h.openai(await h.tokenFor(user)), token: await h.tokenFor(user) };
}
async function spentUsd(id: string): Promise<number> {
  const list = await keyward('limit', 'list');
  return list.limits.find((l: { id: string }) => l.id === id).spentUsd;
}
const ask = (openai: OpenAI, extra: Partial<OpenAI.Chat.ChatCompletionCreateParamsNonStreaming> = {}) =>
  openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 1000, ...extra });

describe('keyward limit set / list / remove', () => {
  it('sets a user limit and lists it with its spend and reset time; remove deletes it', async () => {
    const { user } = await freshUser();
    const set = await keyward('limit', 'set', '--scope', 'user', '--user', user.email, '--usd', '2.5', '--period', 'month', '--requests-per-minute', '100', '--alert-percent', '80');
    expect(set).toEqual({ id: expect.any(String) });
    const list = await keyward('limit', 'list');
    const now = new Date();
    expect(list.limits.find((l: { id: string }) => l.id === set.id)).toMatchObject({
      scope: 'user',
      user: user.email,
      usd: 2.5,
      spentUsd: 0,
      period: 'month',
      resetsAt: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString(),
      requestsPerMinute: 100,
      alertPercent: 80,
    });
    // Setting again for the same subject replaces, not duplicates.
    expect((await keyward('limit', 'set', '--scope', 'user', '--user', user.email, '--usd', '3', '--period', 'day')).id).toBe(set.id);
    expect(await keyward('limit', 'remove', '--id', set.id)).toEqual({ id: set.id, removed: true });
    expect((await keyward('limit', 'list')).limits.find((l: { id: string }) => l.id === set.id)).toBeUndefined();
  }, 60_000);

  it('refuses incomplete or malformed limits with a clear message', async () => {
    const noUser = await runKeyward(['limit', 'set', '--scope', 'app', '--client', 'x', '--usd', '1', '--period', 'day', '--json'], cliEnv());
    expect(noUser.code).not.toBe(0);
    expect(noUser.json.error.message).toMatch(/app limit needs --user/);
    const noPeriod = await runKeyward(['limit', 'set', '--scope', 'org', '--usd', '1', '--json'], cliEnv());
    expect(noPeriod.json.error.message).toMatch(/needs --period/);
    const nothing = await runKeyward(['limit', 'set', '--scope', 'org', '--json'], cliEnv());
    expect(nothing.json.error.message).toMatch(/at least one of/);
    const missing = await runKeyward(['limit', 'remove', '--id', 'nope', '--json'], cliEnv());
    expect(missing.code).not.toBe(0);
  }, 60_000);
});

describe('a spending limit is enforced before the call', () => {
  it('402 budget_exceeded (OpenAI SDK) naming the limit and its reset, and nothing reaches the provider', async () => {
    const { user, openai } = await freshUser();
    const { id } = await keyward('limit', 'set', '--scope', 'user', '--user', user.email, '--usd', '0.05', '--period', 'day');
    await propagate();
    const before = h.upstreams.openai.requests.length;
    const error = await ask(openai).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    const apiError = error as InstanceType<typeof OpenAI.APIError>;
    expect(apiError.status).toBe(402);
    expect(apiError.code).toBe('budget_exceeded');
    expect(apiError.message).toContain(id);
    expect(apiError.message).toMatch(/user limit .* per day .* resets at \d{4}-\d\d-\d\dT00:00:00\.000Z/);
    expect(h.upstreams.openai.requests.length).toBe(before);
  }, 30_000);

  it('402 billing_error on the Anthropic route (Anthropic SDK)', async () => {
    const { user, token } = await freshUser();
    await keyward('limit', 'set', '--scope', 'user', '--user', user.email, '--usd', '0.05', '--period', 'week');
    await propagate();
    const anthropic = h.anthropic(token);
    for (const model of ['anthropic:budget-claude', MODEL]) {
      const error = await anthropic.messages.create({ model, max_tokens: 500, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Anthropic.APIError);
      const apiError = error as InstanceType<typeof Anthropic.APIError>;
      expect(apiError.status).toBe(402);
      expect(apiError.error).toMatchObject({ type: 'error', error: { type: 'billing_error', message: expect.stringMatching(/Spending limit reached.*resets at/) } });
    }
  }, 30_000);

  it('lowers max_tokens to what the remaining budget pays for (what the provider received)', async () => {
    const { user, openai } = await freshUser();
    await keyward('limit', 'set', '--scope', 'user', '--user', user.email, '--usd', '0.5', '--period', 'day');
    await propagate();
    h.upstreams.openai.enqueue({ type: 'text', text: 'ok', usage: { input: 30, output: 10 } });
    await ask(openai);
    const sent = h.upstreams.openai.requests.at(-1)!.body;
    const lowered = sent.max_completion_tokens ?? sent.max_tokens;
    // $0.50 minus the input estimate, at a cent per output token: well under the 1000 asked for.
    expect(lowered).toBeGreaterThan(16);
    expect(lowered).toBeLessThan(50);
  }, 30_000);

  it('n answers are reserved n times over: max_tokens lowered so that all of them fit, or 402 when not even the minimum does', async () => {
    const { user, openai } = await freshUser();
    await keyward('limit', 'set', '--scope', 'user', '--user', user.email, '--usd', '0.5', '--period', 'day');
    await propagate();
    h.upstreams.openai.enqueue({ type: 'text', text: 'ok', usage: { input: 30, output: 10 } });
    await ask(openai, { n: 2 });
    const sent = h.upstreams.openai.requests.at(-1)!.body;
    expect(sent.n).toBe(2);
    // Half of what one answer gets (under 50 tokens, see above): both answers together stay within $0.50.
    const lowered = sent.max_completion_tokens ?? sent.max_tokens;
    expect(lowered).toBeGreaterThan(16);
    expect(lowered).toBeLessThan(25);
    // 100 answers of at least 16 tokens would cost $16: refused before the provider.
    const before = h.upstreams.openai.requests.length;
    const refused = await ask(openai, { n: 100 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.APIError);
    expect((refused as InstanceType<typeof OpenAI.APIError>).status).toBe(402);
    expect(h.upstreams.openai.requests.length).toBe(before);
  }, 30_000);

  it('a free model (price 0) runs under a spending limit and spends nothing', async () => {
    const { user, openai } = await freshUser();
    await keyward('price', 'set', '--provider', 'openai', '--model', 'free-model', '--input-usd-per-mtok', '0', '--output-usd-per-mtok', '0');
    const { id } = await keyward('limit', 'set', '--scope', 'user', '--user', user.email, '--usd', '0.01', '--period', 'day');
    await propagate();
    h.upstreams.openai.enqueue({ type: 'text', text: 'ok', usage: { input: 30, output: 10 } });
    await expect(ask(openai, { model: 'openai:free-model' })).resolves.toBeTruthy();
    await propagate();
    expect(await spentUsd(id)).toBe(0);
  }, 30_000);

  it('an unpriced model is refused under a limit by default, allowed when the org says so', async () => {
    const { user, openai } = await freshUser();
    await keyward('limit', 'set', '--scope', 'user', '--user', user.email, '--usd', '10', '--period', 'day');
    await propagate();
    const refused = (await ask(openai, { model: 'openai:no-price-known-model' }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(refused).toMatchObject({ status: 402, code: 'budget_exceeded' });
    expect(refused.message).toMatch(/has no known price/);
    await keyward('limit', 'unpriced', '--policy', 'allow');
    await propagate();
    h.upstreams.openai.enqueue({ type: 'text', text: 'ok', usage: { input: 3, output: 3 } });
    await expect(ask(openai, { model: 'openai:no-price-known-model' })).resolves.toBeTruthy();
    await keyward('limit', 'unpriced', '--policy', 'refuse');
  }, 30_000);
});

describe('reservations settle to the actual cost', () => {
  it('non-stream and stream settle to their cost; an upstream failure releases its reservation', async () => {
    const { user, openai } = await freshUser();
    const { id } = await keyward('limit', 'set', '--scope', 'user', '--user', user.email, '--usd', '5', '--period', 'total');
    await propagate();
    // 100 input tokens × $0.001 + 20 output × $0.01 = $0.30 per call.
    h.upstreams.openai.enqueue({ type: 'text', text: 'ok', usage: { input: 100, output: 20 } });
    await ask(openai);
    await propagate();
    expect(await spentUsd(id)).toBeCloseTo(0.3, 9);

    h.upstreams.openai.enqueue({ type: 'text', text: 'streamed answer', usage: { input: 100, output: 20 } });
    const stream = await openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 100, stream: true, stream_options: { include_usage: true } });
    for await (const _chunk of stream) void _chunk;
    await propagate();
    expect(await spentUsd(id)).toBeCloseTo(0.6, 9);

    h.upstreams.openai.enqueue({ type: 'error', status: 503 });
    await expect(ask(openai)).rejects.toMatchObject({ status: 502 });
    await propagate();
    expect(await spentUsd(id)).toBeCloseTo(0.6, 9);
  }, 60_000);

  /**
   * A $5 limit's spend after a call (100 output tokens at most) that the provider has not answered
   * when `end` ends it: the client leaving, or Keyward (the user disabled).
   */
  async function spentAfterUnanswered(stream: boolean, end: 'client leaves' | 'user disabled' = 'client leaves'): Promise<number> {
    const { user, openai } = await freshUser();
    const { id } = await keyward('limit', 'set', '--scope', 'user', '--user', user.email, '--usd', '5', '--period', 'total');
    await propagate();
    h.upstreams.openai.enqueue({ type: 'hang' });
    const aborted = h.upstreams.openai.waitForAbort();
    const controller = new AbortController();
    const call = openai.chat.completions
      .create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 100, stream }, { signal: controller.signal })
      .then(
        () => 'answered',
        (error: unknown) => (error instanceof OpenAI.APIError && error.status ? error.status : 'aborted'),
      );
    await new Promise((r) => setTimeout(r, 300));
    if (end === 'client leaves') controller.abort();
    else await setUserDisabled(h.tp.platform.ctx, await operatorActor(h.tp.platform.ctx.db), user.id, true);
    expect(await call).toBe(end === 'client leaves' ? 'aborted' : 403);
    await aborted;
    await propagate();
    return spentUsd(id);
  }
  const spentAfterLeaving = (stream: boolean) => spentAfterUnanswered(stream);

  it('a non-streamed call Keyward ends after sending it (its user disabled) is charged its whole reservation too', async () => {
    const spent = await spentAfterUnanswered(false, 'user disabled');
    expect(spent).toBeGreaterThanOrEqual(1);
    expect(spent).toBeLessThan(1.2);
  }, 30_000);

  it('a non-streamed call left before its answer is charged its whole reservation: the provider may finish it', async () => {
    const spent = await spentAfterLeaving(false);
    // The $1 reserved for 100 output tokens, plus the input estimate (a few dozen tokens at $0.001).
    expect(spent).toBeGreaterThanOrEqual(1);
    expect(spent).toBeLessThan(1.2);
  }, 30_000);

  it('a stream left before the provider opened it is charged its input estimate: closing it stops the generation', async () => {
    const spent = await spentAfterLeaving(true);
    // The input estimate, never the $1 reserved for 100 output tokens.
    expect(spent).toBeGreaterThan(0);
    expect(spent).toBeLessThan(0.2);
  }, 30_000);
});

describe('a stream left before its usage arrives is charged what it was allowed, not its input', () => {
  // $1000 in / $10000 out per million tokens; max_tokens 100: the reservation is about $1 (100 output tokens) plus the input estimate.
  it('OpenAI route: the client reads the first chunk and leaves', async () => {
    const { user, openai } = await freshUser();
    const { id } = await keyward('limit', 'set', '--scope', 'user', '--user', user.email, '--usd', '5', '--period', 'total');
    await propagate();
    h.upstreams.openai.enqueue({ type: 'stall_after_first_chunk', text: 'the answer, whose usage never comes' });
    const stream = await openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 100, stream: true, stream_options: { include_usage: true } });
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) break; // leaves: the SDK closes the connection
    }
    await h.upstreams.openai.waitForAbort();
    await propagate();
    const spent = await spentUsd(id);
    expect(spent).toBeGreaterThanOrEqual(1);
    expect(spent).toBeLessThan(1.2);
  }, 30_000);

  it('Anthropic route: the client reads the first text and leaves', async () => {
    const { user, token } = await freshUser();
    const { id } = await keyward('limit', 'set', '--scope', 'user', '--user', user.email, '--usd', '5', '--period', 'total');
    await propagate();
    h.upstreams.anthropic.enqueue({ type: 'stall_after_first_chunk', text: 'the answer, whose usage never comes' });
    const stream = h.anthropic(token).messages.stream({ model: 'anthropic:budget-claude', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
    for await (const event of stream) {
      if (event.type === 'content_block_delta') break;
    }
    await h.upstreams.anthropic.waitForAbort();
    await propagate();
    const spent = await spentUsd(id);
    expect(spent).toBeGreaterThanOrEqual(1);
    expect(spent).toBeLessThan(1.2);
  }, 30_000);
});

describe('a rate limit answers 429 with Retry-After', () => {
  it('requests per minute, on the OpenAI and the Anthropic routes', async () => {
    const { user, openai, token } = await freshUser();
    await keyward('limit', 'set', '--scope', 'user', '--user', user.email, '--requests-per-minute', '2');
    await propagate();
    await ask(openai, { model: 'openai:gpt-4o-mini' });
    await ask(openai, { model: 'openai:gpt-4o-mini' });
    const error = (await ask(openai, { model: 'openai:gpt-4o-mini' }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(error.status).toBe(429);
    expect(error.code).toBe('rate_limit_exceeded');
    expect(Number(error.headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(error.headers?.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(error.message).toMatch(/2 requests per minute/);
    const anthropicError = (await h
      .anthropic(token)
      .messages.create({ model: 'anthropic:claude-3-5-haiku-latest', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(anthropicError).toBeInstanceOf(Anthropic.RateLimitError);
    expect(anthropicError.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
  }, 30_000);

  it('token counts asked of a provider are requests too (429 past the limit, nothing sent), and spend no budget', async () => {
    const { user, token } = await freshUser();
    const { id } = await keyward('limit', 'set', '--scope', 'user', '--user', user.email, '--requests-per-minute', '2', '--usd', '0.000001', '--period', 'day');
    await propagate();
    const anthropic = h.anthropic(token);
    const count = () => anthropic.messages.countTokens({ model: 'anthropic:budget-claude', messages: [{ role: 'user', content: 'hi' }] });
    h.upstreams.anthropic.enqueue({ type: 'raw', status: 200, headers: { 'content-type': 'application/json' }, body: '{"input_tokens":7}' });
    h.upstreams.anthropic.enqueue({ type: 'raw', status: 200, headers: { 'content-type': 'application/json' }, body: '{"input_tokens":7}' });
    expect((await count()).input_tokens).toBe(7);
    expect((await count()).input_tokens).toBe(7);
    const before = h.upstreams.anthropic.requests.length;
    const error = (await count().catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    expect(h.upstreams.anthropic.requests.length).toBe(before);
    await propagate();
    expect(await spentUsd(id)).toBe(0);
  }, 30_000);

  it('tokens per minute: once the minute’s tokens are used, the next call waits', async () => {
    const { user, openai } = await freshUser();
    await keyward('limit', 'set', '--scope', 'user', '--user', user.email, '--tokens-per-minute', '100');
    await propagate();
    h.upstreams.openai.enqueue({ type: 'text', text: 'ok', usage: { input: 80, output: 40 } });
    await ask(openai, { model: 'openai:gpt-4o-mini' });
    const error = (await ask(openai, { model: 'openai:gpt-4o-mini' }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(error.status).toBe(429);
    expect(error.message).toMatch(/100 tokens per minute/);
  }, 30_000);
});
