// Translation, both directions, streaming and not, for OpenAI, Anthropic and Gemini behind the
// router, through both inbound wires with the official SDKs (issue 4 §6). Each check asserts what
// the provider received and what the caller got back, and is recorded for the conformance table.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MockReply } from '../upstreams/mock-upstream.js';
import { recordConformance, writeConformance } from './support/conformance.js';
import { callAnthropic, callOpenAI, inspectUpstream, type CanonicalCall, type NormalizedAnswer } from './support/normalized-chat.js';
import { startRouterHarness, type MockProvider, type RouterHarness } from './support/router-harness.js';

const MODELS: Record<MockProvider, string> = {
  openai: 'openai:gpt-4o-mini',
  anthropic: 'anthropic:claude-sonnet-4-5',
  gemini: 'gemini:gemini-2.0-flash',
};
const PROVIDERS = Object.keys(MODELS) as MockProvider[];
const INBOUNDS = ['openai', 'anthropic'] as const;
type Inbound = (typeof INBOUNDS)[number];

// A 1×1 PNG.
const PIXEL = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const WEATHER_TOOL = { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };

let h: RouterHarness;
beforeAll(async () => {
  h = await startRouterHarness();
  for (const provider of PROVIDERS) await h.addKey(provider);
});
afterAll(async () => {
  writeConformance('translation');
  await h?.close();
});

interface Run {
  provider: MockProvider;
  inbound: Inbound;
  stream: boolean;
}

async function send(run: Run, call: Omit<CanonicalCall, 'model'>, reply?: MockReply): Promise<{ answer: NormalizedAnswer; upstream: ReturnType<typeof inspectUpstream> }> {
  const mock = h.upstreams[run.provider];
  if (reply) mock.enqueue(reply);
  const before = mock.requests.length;
  const full = { ...call, model: MODELS[run.provider] };
  const answer = run.inbound === 'openai' ? await callOpenAI(h.openai(), full, run.stream) : await callAnthropic(h.anthropic(), full, run.stream);
  expect(mock.requests.length).toBe(before + 1);
  return { answer, upstream: inspectUpstream(run.provider, mock.requests.at(-1)!.body) };
}

interface Feature {
  name: string;
  /** Skip combinations where the feature does not exist (recorded as n/a with the reason). */
  notApplicable?: (run: Run) => string | undefined;
  check: (run: Run) => Promise<void | 'refused'>;
}

const FEATURES: Feature[] = [
  {
    name: 'system and developer messages',
    async check(run) {
      const { upstream, answer } = await send(run, { system: 'Be terse.', developer: 'Answer in French.', messages: [{ role: 'user', text: 'hi' }] });
      expect(upstream.system).toContain('Be terse.');
      expect(upstream.system).toContain('Answer in French.');
      expect(answer.text.length).toBeGreaterThan(0);
    },
  },
  {
    name: 'text parts',
    async check(run) {
      const { upstream } = await send(run, { messages: [{ role: 'user', parts: ['first part', 'second part'] }] });
      expect(upstream.texts).toEqual(expect.arrayContaining(['first part', 'second part']));
    },
  },
  {
    name: 'image parts (data URL)',
    async check(run) {
      const { upstream } = await send(run, { messages: [{ role: 'user', text: 'what is this?', imageDataUrl: PIXEL }] });
      expect(upstream.hasImage).toBe(true);
    },
  },
  {
    name: 'tools, parallel tool calls, arguments streamed in fragments',
    async check(run) {
      const args1 = JSON.stringify({ city: 'Paris', units: { temp: 'celsius', note: 'a "quoted" value, with commas' } });
      const args2 = JSON.stringify({ city: 'Tokyo' });
      const { answer, upstream } = await send(
        run,
        { tools: [WEATHER_TOOL], messages: [{ role: 'user', text: 'weather in Paris and Tokyo?' }] },
        { type: 'tool_calls', calls: [{ id: 'call_a', name: 'get_weather', arguments: args1 }, { id: 'call_b', name: 'get_weather', arguments: args2 }] },
      );
      expect(upstream.toolNames).toEqual(['get_weather']);
      expect(answer.toolCalls.map((c) => c.name)).toEqual(['get_weather', 'get_weather']);
      expect(answer.toolCalls.map((c) => JSON.parse(c.arguments))).toEqual([JSON.parse(args1), JSON.parse(args2)]);
      expect(answer.toolCalls.every((c) => c.id.length > 0)).toBe(true);
      expect(answer.finish).toBe('tool_calls');
    },
  },
  {
    name: 'assistant tool calls and tool results',
    async check(run) {
      const { upstream, answer } = await send(run, {
        tools: [WEATHER_TOOL],
        messages: [
          { role: 'user', text: 'weather in Paris?' },
          { role: 'assistant', toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }] },
          { role: 'tool', toolCallId: 'call_1', content: '18°C and sunny' },
        ],
      });
      expect(upstream.toolUses).toBe(1);
      expect(upstream.toolResults).toBe(1);
      expect(answer.text.length).toBeGreaterThan(0);
    },
  },
  {
    name: 'tool_choice (a named function)',
    async check(run) {
      const { upstream } = await send(
        run,
        { tools: [WEATHER_TOOL], toolChoice: { name: 'get_weather' }, messages: [{ role: 'user', text: 'weather?' }] },
        { type: 'tool_calls', calls: [{ name: 'get_weather', arguments: '{"city":"Oslo"}' }] },
      );
      expect(upstream.forcedTool).toBe('get_weather');
    },
  },
  {
    name: 'response_format json_schema',
    async check(run) {
      const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'], additionalProperties: false };
      const { upstream, answer } = await send(run, { jsonSchema: { name: 'answer', schema }, messages: [{ role: 'user', text: 'json please' }] }, { type: 'text', text: '{"answer":"yes"}' });
      expect(upstream.schema).toMatchObject({ type: 'object', properties: { answer: { type: 'string' } } });
      expect(JSON.parse(answer.text)).toEqual({ answer: 'yes' });
    },
  },
  {
    name: 'max_tokens / max_completion_tokens',
    async check(run) {
      const { upstream } = await send(run, { maxTokens: 77, messages: [{ role: 'user', text: 'hi' }] });
      expect(upstream.maxTokens).toBe(77);
    },
  },
  {
    name: 'temperature and top_p',
    async check(run) {
      const { upstream } = await send(run, { temperature: 0.4, topP: 0.9, messages: [{ role: 'user', text: 'hi' }] });
      expect(upstream.temperature).toBe(0.4);
      expect(upstream.topP).toBe(0.9);
    },
  },
  {
    name: 'stop sequences',
    async check(run) {
      const { upstream } = await send(run, { stop: ['END', '###'], messages: [{ role: 'user', text: 'hi' }] });
      expect(upstream.stop).toEqual(['END', '###']);
    },
  },
  {
    name: 'finish reason length',
    async check(run) {
      const { answer } = await send(run, { maxTokens: 5, messages: [{ role: 'user', text: 'hi' }] }, { type: 'text', text: 'cut short', finish: 'length' });
      expect(answer.finish).toBe('length');
    },
  },
  {
    name: 'usage (input, output, cached, reasoning)',
    async check(run) {
      const { answer } = await send(run, { messages: [{ role: 'user', text: 'hi' }] }, { type: 'text', text: 'counted', usage: { input: 20, output: 7, cached: 5, reasoning: 3 } });
      expect(answer.usage).not.toBeNull();
      expect(answer.usage!.input).toBe(20);
      expect(answer.usage!.cached).toBe(5);
      expect(answer.usage!.output).toBeGreaterThanOrEqual(7);
      // Reasoning tokens exist on the OpenAI wire only (Anthropic's wire has no such count).
      if (run.inbound === 'openai' && run.provider !== 'anthropic') expect(answer.usage!.reasoning).toBe(3);
    },
  },
  {
    name: 'stream_options.include_usage honoured',
    notApplicable: (run) => (run.inbound !== 'openai' ? 'OpenAI stream option' : !run.stream ? 'streams only' : undefined),
    async check(run) {
      const call = { model: MODELS[run.provider], messages: [{ role: 'user' as const, text: 'hi' }] };
      const without = await callOpenAI(h.openai(), call, true, false);
      expect(without.usageChunks).toBe(0);
      const withUsage = await callOpenAI(h.openai(), call, true, true);
      expect(withUsage.usageChunks).toBe(1);
    },
  },
  {
    name: 'a field the provider cannot honour is refused by name',
    notApplicable: (run) => (run.inbound === 'openai' && run.provider === 'openai' ? 'OpenAI honours every canonical field' : run.inbound === 'anthropic' && run.provider === 'anthropic' ? 'native passthrough' : undefined),
    async check(run) {
      const mock = h.upstreams[run.provider];
      const before = mock.requests.length;
      // Gemini honours top_k (topK); the MCP connector exists only on Anthropic.
      const [field, extra]: [string, Record<string, unknown>] =
        run.inbound === 'openai' ? ['logprobs', { logprobs: true }] : run.provider === 'gemini' ? ['mcp_servers', { mcp_servers: [{ type: 'url', url: 'https://mcp.example/sse', name: 'x' }] }] : ['top_k', { top_k: 5 }];
      const error: any = await (run.inbound === 'openai'
        ? callOpenAI(h.openai(), { model: MODELS[run.provider], messages: [{ role: 'user', text: 'hi' }], extra }, run.stream)
        : callAnthropic(h.anthropic(), { model: MODELS[run.provider], messages: [{ role: 'user', text: 'hi' }], extra }, run.stream)
      ).catch((e) => e);
      expect(error?.status).toBe(400);
      expect(String(error.message)).toContain(field);
      expect(mock.requests.length).toBe(before);
      return 'refused';
    },
  },
];

for (const [order, feature] of FEATURES.entries()) {
  describe(feature.name, () => {
    for (const inbound of INBOUNDS) {
      for (const provider of PROVIDERS) {
        for (const stream of [false, true]) {
          const run: Run = { provider, inbound, stream };
          const label = `${inbound} in → ${provider}, ${stream ? 'streaming' : 'not streaming'}`;
          const reason = feature.notApplicable?.(run);
          if (reason) {
            recordConformance({ order, feature: feature.name, provider, inbound, stream, result: 'n/a', note: reason });
            continue;
          }
          it(label, async () => {
            try {
              const result = await feature.check(run);
              recordConformance({ order, feature: feature.name, provider, inbound, stream, result: result === 'refused' ? 'refused' : 'pass' });
            } catch (error) {
              recordConformance({ order, feature: feature.name, provider, inbound, stream, result: 'fail', note: String((error as Error).message).slice(0, 200) });
              throw error;
            }
          });
        }
      }
    }
  });
}
