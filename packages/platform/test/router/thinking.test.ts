// Thinking across wires (issue 11 §6): Anthropic-format `thinking: {type: enabled, budget_tokens}`
// reaches Gemini as its thinking budget (thoughts come back as Anthropic thinking blocks) and
// OpenAI-wire models as the nearest reasoning_effort, through the Anthropic SDK.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouterHarness, type RouterHarness } from './support/router-harness.js';

let h: RouterHarness;
beforeAll(async () => {
  h = await startRouterHarness();
  for (const provider of ['openai', 'anthropic', 'gemini'] as const) await h.addKey(provider);
});
afterAll(async () => {
  await h?.close();
});

const ask = (model: string, budget: number) => ({ model, max_tokens: 20000, thinking: { type: 'enabled' as const, budget_tokens: budget }, messages: [{ role: 'user' as const, content: 'Think, then answer.' }] });
const lastBody = (provider: 'openai' | 'gemini' | 'anthropic') => h.upstreams[provider].requests.at(-1)!.body as Record<string, any>;

describe('Anthropic-format thinking to Gemini', () => {
  it('takes the budget as thinkingBudget, and the thoughts come back as a thinking block', async () => {
    h.upstreams.gemini.enqueue({ type: 'text', text: 'The answer is 4.', thoughts: 'Two plus two is four.' });
    const message = await h.anthropic().messages.create(ask('gemini:gemini-2.5-pro', 5000));
    expect(lastBody('gemini').generationConfig.thinkingConfig).toEqual({ thinkingBudget: 5000, includeThoughts: true });
    expect(message.content[0]).toMatchObject({ type: 'thinking', thinking: 'Two plus two is four.' });
    expect(message.content[1]).toMatchObject({ type: 'text', text: 'The answer is 4.' });
  });

  it('streamed: a thinking block with thinking deltas, then the text', async () => {
    h.upstreams.gemini.enqueue({ type: 'text', text: 'The answer is 4.', thoughts: 'Two plus two is four.' });
    const message = await h.anthropic().messages.stream(ask('gemini:gemini-2.5-pro', 5000)).finalMessage();
    expect(message.content.map((block) => block.type)).toEqual(['thinking', 'text']);
    expect(message.content[0]).toMatchObject({ thinking: 'Two plus two is four.' });
  });

  it('Gemini 3 takes the nearest thinking level', async () => {
    await h.anthropic().messages.create(ask('gemini:gemini-3-pro-preview', 16000));
    expect(lastBody('gemini').generationConfig.thinkingConfig).toEqual({ thinkingLevel: 'high', includeThoughts: true });
  });
});

describe('Anthropic-format thinking to OpenAI', () => {
  it.each([
    [1024, 'low'],
    [8000, 'medium'],
    [32000, 'high'],
  ])('budget %i → reasoning_effort %s', async (budget, effort) => {
    await h.anthropic().messages.create(ask('openai:o3-mini', budget));
    expect(lastBody('openai').reasoning_effort).toBe(effort);
    expect(lastBody('openai')).not.toHaveProperty('thinking_budget');
  });

  it('a model that does not reason gets no reasoning_effort (OpenAI would refuse it): the budget is dropped', async () => {
    await h.anthropic().messages.create(ask('openai:gpt-4o', 8000));
    expect(lastBody('openai')).not.toHaveProperty('reasoning_effort');
    expect(lastBody('openai')).not.toHaveProperty('thinking_budget');
    await h.anthropic().messages.create(ask('openai:gpt-5-mini', 8000));
    expect(lastBody('openai').reasoning_effort).toBe('medium');
  });

  it('adaptive thinking leaves the depth to the model', async () => {
    await h.anthropic().messages.create({ ...ask('openai:o3-mini', 1024), thinking: { type: 'adaptive' } } as any);
    expect(lastBody('openai')).not.toHaveProperty('reasoning_effort');
  });
});

describe('Anthropic models', () => {
  it('get thinking natively, untouched', async () => {
    await h.anthropic().messages.create(ask('anthropic:claude-sonnet-4-5', 4096));
    expect(lastBody('anthropic').thinking).toEqual({ type: 'enabled', budget_tokens: 4096 });
  });
});
