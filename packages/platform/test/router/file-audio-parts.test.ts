// Inputs beyond text and images (issue 11 §5): OpenAI-format `file` (PDF as file_data) and
// `input_audio` parts, and Anthropic-format `document` blocks, through the official SDKs to each
// provider — passed, translated, or refused naming the part type and the provider.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouterHarness, type MockProvider, type RouterHarness } from './support/router-harness.js';

const MODELS: Record<MockProvider, string> = { openai: 'openai:gpt-4o-mini', anthropic: 'anthropic:claude-sonnet-4-5', gemini: 'gemini:gemini-2.0-flash' };
const PDF = 'JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PC9UeXBlL0NhdGFsb2c+PgplbmRvYmoK';
const WAV = 'UklGRiQAAABXQVZFZm10IBAAAAABAAEARKwAAIhYAQACABAAZGF0YQAAAAA=';
const filePart = { type: 'file' as const, file: { file_data: `data:application/pdf;base64,${PDF}`, filename: 'report.pdf' } };
const audioPart = { type: 'input_audio' as const, input_audio: { data: WAV, format: 'wav' as const } };

let h: RouterHarness;
beforeAll(async () => {
  h = await startRouterHarness();
  for (const provider of Object.keys(MODELS) as MockProvider[]) await h.addKey(provider);
});
afterAll(async () => {
  await h?.close();
});

const lastBody = (provider: MockProvider) => h.upstreams[provider].requests.at(-1)!.body as Record<string, any>;
const ask = (provider: MockProvider, part: object) =>
  h.openai().chat.completions.create({ model: MODELS[provider], messages: [{ role: 'user', content: [{ type: 'text', text: 'What is in this?' }, part as any] }] });

describe('OpenAI-format file parts (PDF as file_data)', () => {
  it('pass unchanged to OpenAI', async () => {
    await ask('openai', filePart);
    expect(lastBody('openai').messages[0].content[1]).toEqual(filePart);
  });

  it('become an Anthropic document block', async () => {
    await ask('anthropic', filePart);
    const content = lastBody('anthropic').messages[0].content;
    expect(content[1]).toEqual({ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: PDF }, title: 'report.pdf' });
  });

  it('become Gemini inlineData', async () => {
    await ask('gemini', filePart);
    expect(lastBody('gemini').contents[0].parts[1]).toEqual({ inlineData: { mimeType: 'application/pdf', data: PDF } });
  });

  it('naming a stored file (file_id) are refused by name on every provider, before any call', async () => {
    for (const provider of Object.keys(MODELS) as MockProvider[]) {
      const before = h.upstreams[provider].requests.length;
      const error: any = await ask(provider, { type: 'file', file: { file_id: 'file-abc' } }).catch((e) => e);
      expect(error.status).toBe(400);
      expect(error.param).toBe('messages[0].content[1].file.file_id');
      expect(h.upstreams[provider].requests.length).toBe(before);
    }
  });
});

describe('OpenAI-format input_audio parts', () => {
  it('pass unchanged to OpenAI and become Gemini inlineData', async () => {
    await ask('openai', audioPart);
    expect(lastBody('openai').messages[0].content[1]).toEqual(audioPart);
    await ask('gemini', audioPart);
    expect(lastBody('gemini').contents[0].parts[1]).toEqual({ inlineData: { mimeType: 'audio/wav', data: WAV } });
  });

  it('are refused for Anthropic, naming the part type and the provider', async () => {
    const before = h.upstreams.anthropic.requests.length;
    const error: any = await ask('anthropic', audioPart).catch((e) => e);
    expect(error.status).toBe(400);
    expect(error.message).toContain('input_audio');
    expect(error.message).toContain('Anthropic');
    expect(error.message).not.toContain('text');
    expect(h.upstreams.anthropic.requests.length).toBe(before);
  });

  it('a part type nobody knows gets an error about its type, not a missing text', async () => {
    const error: any = await ask('openai', { type: 'video_url', video_url: { url: 'https://x/y.mp4' } }).catch((e) => e);
    expect(error.status).toBe(400);
    expect(error.message).not.toMatch(/required property 'text'|missing required parameter/i);
  });
});

describe('Anthropic-format document blocks to other providers', () => {
  const documentAsk = (provider: MockProvider) =>
    h.anthropic().messages.create({
      model: MODELS[provider],
      max_tokens: 20,
      messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: PDF }, title: 'report.pdf' }, { type: 'text', text: 'Summarise.' }] }],
    });

  it('reach Gemini as inlineData and OpenAI as a file part', async () => {
    await documentAsk('gemini');
    expect(lastBody('gemini').contents[0].parts[0]).toEqual({ inlineData: { mimeType: 'application/pdf', data: PDF } });
    await documentAsk('openai');
    expect(lastBody('openai').messages[0].content[0]).toEqual(filePart);
  });
});
