// Media in the worst case a spending limit reserves before the call: an image by URL is a few
// dozen bytes in the request and thousands of tokens at the provider, and a document's pages
// cannot be told from the request at all. Each inbound format counts its media parts
// (limits/media-estimate.ts), so a call a limit cannot pay for with its media is refused (402)
// before the provider is called, and one it can pay for settles to what the provider reported.

import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCUMENT_TOKENS, IMAGE_TOKENS } from '../../src/limits/media-estimate.js';
import { setLimit } from '../../src/limits/spending-limits.js';
import { setModelPrice } from '../../src/usage/model-prices.js';
import { startRouterHarness, type RouterHarness } from './support/router-harness.js';
import { propagate } from './support/money-support.js';

let h: RouterHarness;
beforeAll(async () => {
  h = await startRouterHarness();
  await h.addKey('openai');
  await h.addKey('anthropic');
  await h.addKey('gemini');
  const ctx = h.tp.platform.ctx;
  // gpt-4o's prices: $2.50 in / $10 out per million tokens.
  await setModelPrice(ctx, { provider: 'openai', model: 'vision-model', inputUsdPerMtok: '2.5', outputUsdPerMtok: '10' });
  await setModelPrice(ctx, { provider: 'anthropic', model: 'vision-claude', inputUsdPerMtok: '3', outputUsdPerMtok: '15' });
  await setModelPrice(ctx, { provider: 'gemini', model: 'gemini-vision', inputUsdPerMtok: '2.5', outputUsdPerMtok: '10' });
  // A tenth of a cent per input token: token counts show in dollars.
  await setModelPrice(ctx, { provider: 'openai', model: 'budget-embedding', inputUsdPerMtok: '1000', outputUsdPerMtok: '0' });
}, 60_000);
afterAll(() => h?.close());

let users = 0;
async function userWithLimit(usd: string) {
  const user = await h.addUser(`media-${++users}-${Date.now()}@example.com`);
  const token = await h.tokenFor(user);
  const { id } = await setLimit(h.tp.platform.ctx, { organizationId: h.orgId, scope: 'user', userId: user.id, usd, period: 'day' });
  await propagate();
  return { id, token, openai: h.openai(token), anthropic: h.anthropic(token) };
}
async function spentNanoUsd(limitId: string): Promise<number> {
  const rows = await h.tp.platform.ctx.db.selectFrom('limit_periods').select('spent_nano_usd').where('limit_id', '=', limitId).execute();
  return rows.reduce((sum, row) => sum + Number(row.spent_nano_usd), 0);
}
const requestCount = () => h.upstreams.openai.requests.length + h.upstreams.anthropic.requests.length + h.upstreams.gemini.requests.length;

/** A refusal from the budget, in the SDK's error shape, with nothing sent to any provider. */
async function refusedBeforeTheProvider(call: () => Promise<unknown>): Promise<void> {
  const before = requestCount();
  const error = (await call().catch((e: unknown) => e)) as { status?: number; message?: string };
  expect(error.status, `expected a 402, got ${error.status ?? 'an answer'}: ${error.message ?? ''}`).toBe(402);
  expect(error.message).toMatch(/Spending limit reached/);
  expect(requestCount()).toBe(before);
}

/** The output limit the provider received (the OpenAI adapter may rename max_tokens). */
const sentMaxTokens = () => {
  const sent = h.upstreams.openai.requests.at(-1)!.body;
  return sent.max_completion_tokens ?? sent.max_tokens;
};

const TINY_PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const imageUrls = (count: number) => Array.from({ length: count }, (_, i) => `https://example.com/pictures/${i}.png`);
const chatImages = (urls: string[]) => [
  { type: 'text' as const, text: 'What differs between these pictures?' },
  ...urls.map((url) => ({ type: 'image_url' as const, image_url: { url, detail: 'high' as const } })),
];

describe('images by URL are counted at their worst case, not their bytes', () => {
  it('20 image URLs under a $0.01 limit: 402 before the provider (the URLs are ~600 tokens of bytes, the images up to 15,300+ tokens)', async () => {
    const { openai } = await userWithLimit('0.01');
    await refusedBeforeTheProvider(() =>
      openai.chat.completions.create({ model: 'openai:vision-model', messages: [{ role: 'user', content: chatImages(imageUrls(20)) }], max_tokens: 100 }),
    );
    // A tiny inline image is counted up to an image's worth too, not by its few bytes.
    await refusedBeforeTheProvider(() =>
      openai.chat.completions.create({ model: 'openai:vision-model', messages: [{ role: 'user', content: chatImages(Array(20).fill(TINY_PNG)) }], max_tokens: 100 }),
    );
  }, 30_000);

  it('under a limit that can pay for the worst case, the call runs and settles to what the provider reported', async () => {
    // 20 × IMAGE_TOKENS at $2.50 per million is $0.25 reserved; the provider reports 15,300 input tokens.
    const { id, openai } = await userWithLimit('1');
    h.upstreams.openai.enqueue({ type: 'text', text: 'ok', usage: { input: 15_300, output: 100 } });
    const answer = await openai.chat.completions.create({ model: 'openai:vision-model', messages: [{ role: 'user', content: chatImages(imageUrls(20)) }], max_tokens: 100 });
    expect(answer.choices[0]?.message.content).toBe('ok');
    // The reservation paid for the images, so max_tokens was not lowered.
    expect(sentMaxTokens()).toBe(100);
    await propagate();
    // 15,300 × $2.50 + 100 × $10 per million: $0.03925, the rest of the reservation given back.
    expect(await spentNanoUsd(id)).toBe(39_250_000);
  }, 30_000);

  it('the Responses route: input_image URLs are counted the same', async () => {
    const { openai } = await userWithLimit('0.01');
    const content = [{ type: 'input_text' as const, text: 'Compare them.' }, ...imageUrls(20).map((image_url) => ({ type: 'input_image' as const, image_url, detail: 'high' as const }))];
    await refusedBeforeTheProvider(() => openai.responses.create({ model: 'openai:vision-model', input: [{ role: 'user', content }], max_output_tokens: 100 }));
  }, 30_000);

  it('a Gemini model gets the same canonical parts counted', async () => {
    const { openai } = await userWithLimit('0.01');
    await refusedBeforeTheProvider(() =>
      openai.chat.completions.create({ model: 'gemini:gemini-vision', messages: [{ role: 'user', content: chatImages(imageUrls(20)) }], max_tokens: 100 }),
    );
  }, 30_000);

  it('a large inline image is counted by its bytes once, not its bytes and an image on top', async () => {
    // 60,000 base64 characters are 20,000 tokens of bytes, more than an image's worst case: nothing added.
    expect(20_000).toBeGreaterThan(IMAGE_TOKENS);
    const { openai } = await userWithLimit('0.1');
    const big = `data:image/png;base64,${'A'.repeat(60_000)}`;
    h.upstreams.openai.enqueue({ type: 'text', text: 'ok', usage: { input: 1_000, output: 10 } });
    await openai.chat.completions.create({ model: 'openai:vision-model', messages: [{ role: 'user', content: chatImages([big]) }], max_tokens: 100_000 });
    // $0.10 minus ~20,050 input tokens at $2.50 per million ($0.050) leaves ~5,000 output tokens at $10;
    // counting an image on top ($0.0125 more) would leave ~3,700.
    const lowered = sentMaxTokens() as number;
    expect(lowered).toBeGreaterThan(4_900);
    expect(lowered).toBeLessThan(5_000);
  }, 30_000);
});

describe('documents are counted at a large fixed figure: their pages cannot be told from the request', () => {
  it('an inline PDF (file part) under a $0.05 limit: 402 before the provider', async () => {
    // DOCUMENT_TOKENS at $2.50 per million is $0.50; the PDF's ~1 KB of bytes would be ~$0.001.
    expect((DOCUMENT_TOKENS * 2.5) / 1e6).toBeGreaterThan(0.05);
    const { openai } = await userWithLimit('0.05');
    const pdf = `data:application/pdf;base64,${Buffer.from('%PDF-1.7 '.repeat(100)).toString('base64')}`;
    const content = [
      { type: 'text' as const, text: 'Summarise this contract.' },
      { type: 'file' as const, file: { file_data: pdf, filename: 'contract.pdf' } },
    ];
    await refusedBeforeTheProvider(() => openai.chat.completions.create({ model: 'openai:vision-model', messages: [{ role: 'user', content }], max_tokens: 100 }));
    // The same limit pays for the question alone.
    h.upstreams.openai.enqueue({ type: 'text', text: 'ok', usage: { input: 20, output: 10 } });
    await openai.chat.completions.create({ model: 'openai:vision-model', messages: [{ role: 'user', content: 'Summarise this contract.' }], max_tokens: 100 });
  }, 30_000);
});

describe('the Anthropic route counts image and document blocks, in messages and in tool results', () => {
  const toolTurns = (images: unknown[]) => [
    { role: 'user', content: 'Take screenshots.' },
    { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'screenshot', input: {} }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: images }] },
  ];
  const urlImages = imageUrls(10).map((url) => ({ type: 'image', source: { type: 'url', url } }));

  it('native passthrough: images by URL in a tool result, a document by URL, a PDF inline', async () => {
    // 10 images at $3 per million: $0.15 at IMAGE_TOKENS each; the limit, $0.05, pays for text calls.
    const { anthropic } = await userWithLimit('0.05');
    const ask = (messages: unknown[]) =>
      anthropic.messages.create({ model: 'anthropic:vision-claude', max_tokens: 100, tools: [{ name: 'screenshot', input_schema: { type: 'object' } }], messages: messages as never });
    await refusedBeforeTheProvider(() => ask(toolTurns(urlImages)));
    await refusedBeforeTheProvider(() => ask([{ role: 'user', content: [{ type: 'text', text: 'Summarise.' }, ...urlImages] }]));
    await refusedBeforeTheProvider(() => ask([{ role: 'user', content: [{ type: 'document', source: { type: 'url', url: 'https://example.com/report.pdf' } }, { type: 'text', text: 'Summarise.' }] }]));
    const pdf = { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: Buffer.from('%PDF-1.7 '.repeat(100)).toString('base64') } };
    await refusedBeforeTheProvider(() => ask([{ role: 'user', content: [pdf, { type: 'text', text: 'Summarise.' }] }]));
    // A text-only call passes under the same limit.
    h.upstreams.anthropic.enqueue({ type: 'text', text: 'ok', usage: { input: 20, output: 10 } });
    const answer = await ask([{ role: 'user', content: 'Summarise.' }]);
    expect(answer.content[0]).toMatchObject({ type: 'text', text: 'ok' });
  }, 30_000);

  it('translated to another provider: the image blocks become canonical parts, counted the same', async () => {
    const { anthropic } = await userWithLimit('0.01');
    const error = await anthropic.messages
      .create({ model: 'openai:vision-model', max_tokens: 100, messages: [{ role: 'user', content: [{ type: 'text', text: 'Compare.' }, ...urlImages] }] as never })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ error: { type: 'billing_error' } });
  }, 30_000);
});

describe('embeddings given as token ids are counted as that many tokens', () => {
  it('3,000 token ids are 3,000 tokens ($3 here), not the ~2,000 that bytes ÷ 3 of "[1,1,…]" would make', async () => {
    const { openai } = await userWithLimit('2.5');
    const before = requestCount();
    const error = (await openai.embeddings.create({ model: 'openai:budget-embedding', input: Array(3_000).fill(1) }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error.status).toBe(402);
    expect(requestCount()).toBe(before);
    // 1,000 ids in two arrays are $1: paid.
    const ok = await openai.embeddings.create({ model: 'openai:budget-embedding', input: [Array(500).fill(7), Array(500).fill(9)] });
    expect(ok.data).toHaveLength(2);
  }, 30_000);
});
