// Anthropic's web search runs on Anthropic's side and is billed per search on top of tokens
// ($10 per 1,000). On the native route: the searches it reports (`usage.server_tool_use`, in the
// answer and in a stream's message_delta) are recorded and priced; under a spending limit each
// web search tool's max_uses is set or lowered to what the limit pays for before the call, and
// that many searches are reserved; without one, the request goes as it was sent; a search count
// that is not a count is a malformed answer (502), never a 500. The answers are the recorded
// fixtures, shaped like the examples of Anthropic's web search tool documentation.

import Anthropic from '@anthropic-ai/sdk';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setLimit } from '../../src/limits/spending-limits.js';
import { setModelPrice } from '../../src/usage/model-prices.js';
import { testEngine } from '../support/test-platform.js';
import type { MockReply } from '../upstreams/mock-upstream.js';
import { keywardCli, propagate } from './support/money-support.js';
import { startRouterHarness, type RouterHarness } from './support/router-harness.js';
import { waitForUsage } from './support/usage-records.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/anthropic/${name}`, import.meta.url), 'utf8');
/** The non-streamed answer: 6,039 input and 931 output tokens, 2 searches. */
const ANSWER = fixture('web-search.json');
/** The stream: 10,682 input and 510 output tokens, 2 searches (in message_delta). */
const STREAM = fixture('stream-web-search.sse');
const answer = (body = ANSWER): MockReply => ({ type: 'raw', headers: { 'content-type': 'application/json' }, body });
const stream = (body = STREAM): MockReply => ({ type: 'raw', headers: { 'content-type': 'text/event-stream' }, body });
/** The fixture's usage with `server_tool_use` replaced. */
const answerWithSearchUsage = (serverToolUse: unknown) => {
  const body = JSON.parse(ANSWER) as { usage: Record<string, unknown> };
  if (serverToolUse === undefined) delete body.usage.server_tool_use;
  else body.usage.server_tool_use = serverToolUse;
  return answer(JSON.stringify(body));
};

// Catalogue prices ($3 in, $15 out per million tokens; $10 per 1,000 searches) for the cost of a call.
const CATALOGUE_MODEL = 'anthropic:claude-sonnet-4-5';
// An override ($1 in, $5 out) for a name the catalogue lacks: its searches are billed at Anthropic's list price.
const LIMITED_MODEL = 'anthropic:search-claude';
const SEARCH = { type: 'web_search_20250305' as const, name: 'web_search' as const };
const WEATHER = { name: 'get_weather', description: 'The weather in a city', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } };
const question = { max_tokens: 100, messages: [{ role: 'user' as const, content: 'When was Claude Shannon born?' }] };

let h: RouterHarness;
beforeAll(async () => {
  h = await startRouterHarness();
  await h.addKey('anthropic');
  await setModelPrice(h.tp.platform.ctx, { provider: 'anthropic', model: 'search-claude', inputUsdPerMtok: '1', outputUsdPerMtok: '5' });
}, 60_000);
afterAll(() => h?.close());

const keyward = keywardCli(() => h);
let users = 0;
/** A user with a daily limit of `usd`; the limit binds once it has propagated. */
async function limitedUser(usd: string) {
  const user = await h.addUser(`search-${++users}-${Date.now()}@example.com`);
  const limit = await setLimit(h.tp.platform.ctx, { organizationId: h.orgId, scope: 'user', userId: user.id, usd, period: 'day' });
  return { user, limit, anthropic: h.anthropic(await h.tokenFor(user)) };
}
const sentToUpstream = () => h.upstreams.anthropic.requests.at(-1)!.body as { max_tokens: number; tools: Array<Record<string, unknown>> };

describe(`web searches are priced (${testEngine()})`, () => {
  it('a non-streamed answer with 2 searches costs its tokens plus 2 × $0.01, and its record counts them', async () => {
    h.upstreams.anthropic.enqueue(answer());
    const requestId = `search-cost-${Date.now()}`;
    const { data: message, response } = await h
      .anthropic()
      .messages.create({ model: CATALOGUE_MODEL, ...question, tools: [SEARCH] }, { headers: { 'x-request-id': requestId, 'x-keyward-include-cost': 'true' } })
      .withResponse();
    // Forwarded as Anthropic sent it: the server tool blocks and the usage the SDK reads.
    expect(message.content.map((block) => block.type)).toEqual(['text', 'server_tool_use', 'web_search_tool_result', 'text', 'server_tool_use', 'web_search_tool_result', 'text', 'text']);
    expect(message.usage.server_tool_use).toEqual({ web_search_requests: 2 });
    // 6,039 × $3 + 931 × $15 per million = $0.032082, and 2 searches at $0.01.
    expect(response.headers.get('x-keyward-cost-usd')).toBe('0.052082');
    const [row] = await waitForUsage(h.tp, requestId);
    expect(row).toMatchObject({ outcome: 'ok', input_tokens: 6_039, output_tokens: 931, web_search_requests: 2 });
    expect(Number(row!.cost_nano_usd)).toBe(52_082_000);
  });

  it('a stream’s searches come from its message_delta: priced the same way', async () => {
    h.upstreams.anthropic.enqueue(stream());
    const requestId = `search-stream-${Date.now()}`;
    const message = await h
      .anthropic()
      .messages.stream({ model: CATALOGUE_MODEL, ...question, tools: [SEARCH] }, { headers: { 'x-request-id': requestId } })
      .finalMessage();
    expect(message.usage.server_tool_use).toEqual({ web_search_requests: 2 });
    expect(message.content.filter((block) => block.type === 'server_tool_use')).toHaveLength(2);
    const [row] = await waitForUsage(h.tp, requestId);
    expect(row).toMatchObject({ outcome: 'ok', stream: 1, input_tokens: 10_682, output_tokens: 510, web_search_requests: 2 });
    // 10,682 × $3 + 510 × $15 per million = $0.039696, and 2 searches at $0.01.
    expect(Number(row!.cost_nano_usd)).toBe(59_696_000);
  });

  it('an answer without searches (no server_tool_use, or null as the SDK allows) records 0 and costs its tokens', async () => {
    const requestIds: string[] = [];
    for (const serverToolUse of [undefined, null]) {
      h.upstreams.anthropic.enqueue(answerWithSearchUsage(serverToolUse));
      const requestId = `search-none-${String(serverToolUse)}-${Date.now()}`;
      await h.anthropic().messages.create({ model: CATALOGUE_MODEL, ...question }, { headers: { 'x-request-id': requestId } });
      requestIds.push(requestId);
    }
    // The records of both, once written (one wait for the usage flush).
    for (const requestId of requestIds) {
      const [row] = await waitForUsage(h.tp, requestId);
      expect(row).toMatchObject({ outcome: 'ok', web_search_requests: 0 });
      expect(Number(row!.cost_nano_usd)).toBe(32_082_000);
    }
  });

  it('a search count that is not a count is a malformed answer: 502 naming the field, never a 500', async () => {
    const bad = [{ web_search_requests: 'two' }, { web_search_requests: -1 }, { web_search_requests: 1.5 }, 'two'];
    const requestIds: string[] = [];
    for (const [i, serverToolUse] of bad.entries()) {
      h.upstreams.anthropic.enqueue(answerWithSearchUsage(serverToolUse));
      const requestId = `search-bad-${i}-${Date.now()}`;
      const error = await h
        .anthropic()
        .messages.create({ model: CATALOGUE_MODEL, ...question, tools: [SEARCH] }, { headers: { 'x-request-id': requestId } })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Anthropic.APIError);
      expect((error as InstanceType<typeof Anthropic.APIError>).status).toBe(502);
      expect(String((error as Error).message)).toContain('usage.server_tool_use');
      requestIds.push(requestId);
    }
    for (const requestId of requestIds) {
      const [row] = await waitForUsage(h.tp, requestId);
      expect(row).toMatchObject({ outcome: 'upstream_error', status: 502 });
    }
  });

  it('in a stream, a bad count in message_delta ends the stream with an error event; the record says so', async () => {
    h.upstreams.anthropic.enqueue(stream(STREAM.replace('"server_tool_use":{"web_search_requests":2}', '"server_tool_use":{"web_search_requests":"2"}')));
    const requestId = `search-bad-stream-${Date.now()}`;
    const error = await h
      .anthropic()
      .messages.stream({ model: CATALOGUE_MODEL, ...question, tools: [SEARCH] }, { headers: { 'x-request-id': requestId } })
      .finalMessage()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    const [row] = await waitForUsage(h.tp, requestId);
    expect(row).toMatchObject({ outcome: 'upstream_error', status: 200 });
    expect(row!.error_message).toContain('usage.server_tool_use.web_search_requests');
  });
});

describe(`web searches are bounded before the call under a spending limit (${testEngine()})`, () => {
  // Each test's own user and limit, made together: one wait for all of them to propagate.
  const LIMITS = { unset: '1', lowered: '0.03', shared: '0.05', fits: '1', tooLittle: '0.005', charged: '1' };
  const limited = {} as Record<keyof typeof LIMITS, Awaited<ReturnType<typeof limitedUser>>>;
  beforeAll(async () => {
    for (const [name, usd] of Object.entries(LIMITS)) limited[name as keyof typeof LIMITS] = await limitedUser(usd);
    await propagate();
  }, 30_000);

  it('a search tool with no max_uses gets one (5); other tools and the rest of the request go as sent', async () => {
    const { anthropic } = limited.unset;
    h.upstreams.anthropic.enqueue(answer());
    await anthropic.messages.create({ model: LIMITED_MODEL, ...question, tools: [WEATHER, SEARCH] });
    const sent = sentToUpstream();
    expect(sent.tools).toEqual([WEATHER, { ...SEARCH, max_uses: 5 }]);
    expect(sent.max_tokens).toBe(100);
  });

  it('max_uses is lowered to the searches the limit has left, before max_tokens is', async () => {
    // $0.03: the input estimate and 100 output tokens (a fraction of a cent), then 2 searches at $0.01.
    const { anthropic } = limited.lowered;
    h.upstreams.anthropic.enqueue(answer());
    await anthropic.messages.create({ model: LIMITED_MODEL, ...question, tools: [{ ...SEARCH, max_uses: 10 }] });
    const sent = sentToUpstream();
    expect(sent.tools).toEqual([{ ...SEARCH, max_uses: 2 }]);
    expect(sent.max_tokens).toBe(100);
  });

  it('several search tools share what the limit pays for, in order, each keeping one; a max_uses below 1 counts as none given', async () => {
    // $0.05: 4 searches after the tokens. Asked: 3, and 5 for the tool whose max_uses is 0.
    const { anthropic } = limited.shared;
    h.upstreams.anthropic.enqueue(answer());
    const news = { ...SEARCH, name: 'news_search', max_uses: 0 };
    // The SDK's types name a web search tool `web_search` only; Keyward bounds whatever search tools it is sent.
    const tools = [{ ...SEARCH, max_uses: 3 }, WEATHER, news] as unknown as Anthropic.Messages.ToolUnion[];
    await anthropic.messages.create({ model: LIMITED_MODEL, ...question, tools });
    expect(sentToUpstream().tools).toEqual([{ ...SEARCH, max_uses: 3 }, WEATHER, { ...news, max_uses: 1 }]);
  });

  it('a max_uses the limit pays for is left as the caller set it', async () => {
    const { anthropic } = limited.fits;
    h.upstreams.anthropic.enqueue(answer());
    await anthropic.messages.create({ model: LIMITED_MODEL, ...question, tools: [{ ...SEARCH, max_uses: 3 }] });
    expect(sentToUpstream().tools).toEqual([{ ...SEARCH, max_uses: 3 }]);
  });

  it('a limit that cannot pay for one search is refused like a call that cannot pay 16 output tokens (402, nothing sent)', async () => {
    const { anthropic } = limited.tooLittle;
    const before = h.upstreams.anthropic.requests.length;
    const error = await anthropic.messages.create({ model: LIMITED_MODEL, ...question, tools: [SEARCH] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as InstanceType<typeof Anthropic.APIError>).status).toBe(402);
    expect((error as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: 'error', error: { type: 'billing_error', message: expect.stringMatching(/Spending limit reached/) } });
    expect(h.upstreams.anthropic.requests.length).toBe(before);
    // The same call without the tool fits.
    h.upstreams.anthropic.enqueue(answerWithSearchUsage(undefined));
    await anthropic.messages.create({ model: LIMITED_MODEL, ...question });
    expect(h.upstreams.anthropic.requests.length).toBe(before + 1);
  });

  it('the limit is charged the searches: spend after the call is its tokens plus 2 × $0.01', async () => {
    const { limit, anthropic } = limited.charged;
    h.upstreams.anthropic.enqueue(answer());
    await anthropic.messages.create({ model: LIMITED_MODEL, ...question, tools: [{ ...SEARCH, max_uses: 5 }] });
    await propagate();
    const listed = (await keyward('limit', 'list')).limits.find((l: { id: string }) => l.id === limit.id);
    // 6,039 × $1 + 931 × $5 per million = $0.010694, and $0.02 of searches.
    expect(listed.spentUsd).toBe(0.030694);
  }, 30_000);
});

describe(`without a spending limit (${testEngine()})`, () => {
  it('the request reaches Anthropic as it was sent: no max_uses added, none changed', async () => {
    h.upstreams.anthropic.enqueue(answer(), answer());
    await h.anthropic().messages.create({ model: LIMITED_MODEL, ...question, tools: [WEATHER, SEARCH] });
    expect(sentToUpstream().tools).toEqual([WEATHER, SEARCH]);
    await h.anthropic().messages.create({ model: LIMITED_MODEL, ...question, tools: [{ ...SEARCH, max_uses: 50 }] });
    expect(sentToUpstream().tools).toEqual([{ ...SEARCH, max_uses: 50 }]);
  });
});
