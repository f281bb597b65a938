// The Responses API (POST …/responses) with the official OpenAI SDK, for the parts apps build on:
// function tools (the call as an output item, streamed as function_call_arguments deltas, then a
// follow-up turn with function_call_output) and structured output (`text.format` json_schema),
// against the OpenAI and Anthropic upstreams.

import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectUpstream } from './support/normalized-chat.js';
import { startRouterHarness, type MockProvider, type RouterHarness } from './support/router-harness.js';

let h: RouterHarness;
beforeAll(async () => {
  h = await startRouterHarness();
  await h.addKey('openai');
  await h.addKey('anthropic');
});
afterAll(() => h?.close());

const MODELS: Record<'openai' | 'anthropic', string> = { openai: 'openai:gpt-4o-mini', anthropic: 'anthropic:claude-sonnet-4-5' };
const weatherTool = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'Current weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  strict: true,
};
const ARGS = { city: 'Paris', unit: 'celsius' };
const weatherSchema = {
  type: 'object',
  properties: { city: { type: 'string' }, temperature: { type: 'number' } },
  required: ['city', 'temperature'],
  additionalProperties: false,
};
const WEATHER_JSON = JSON.stringify({ city: 'Paris', temperature: 21 });

const lastUpstream = (provider: MockProvider) => h.upstreams[provider].requests.at(-1)!.body;
const callId = (provider: MockProvider) => (provider === 'anthropic' ? 'toolu_01WeatherCall' : 'call_weather_1');

type StreamEvent = OpenAI.Responses.ResponseStreamEvent;

async function collect(stream: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

for (const provider of ['openai', 'anthropic'] as const) {
  const model = MODELS[provider];

  describe(`Responses API function tools → ${provider}`, () => {
    it('non-streaming: the model’s call is a function_call output item', async () => {
      h.upstreams[provider].enqueue({ type: 'tool_calls', calls: [{ id: callId(provider), name: 'get_weather', arguments: JSON.stringify(ARGS) }] });
      const response = await h.openai().responses.create({ model, input: 'What is the weather in Paris?', tools: [weatherTool] });
      expect(response.status).toBe('completed');
      const calls = response.output.filter((item) => item.type === 'function_call');
      expect(calls).toHaveLength(1);
      expect(calls[0]).toMatchObject({ type: 'function_call', call_id: callId(provider), name: 'get_weather', status: 'completed', id: expect.stringMatching(/^fc_/) });
      expect(JSON.parse(calls[0]!.arguments)).toEqual(ARGS);
      expect(response.output_text).toBe('');
      expect(response.tools).toHaveLength(1);
      expect(response.model).toBe(model);
      expect(inspectUpstream(provider, lastUpstream(provider)).toolNames).toEqual(['get_weather']);
    });

    it('streaming: output_item.added, function_call_arguments.delta … done, output_item.done, response.completed', async () => {
      h.upstreams[provider].enqueue({ type: 'tool_calls', calls: [{ id: callId(provider), name: 'get_weather', arguments: JSON.stringify(ARGS) }] });
      const events = await collect(await h.openai().responses.create({ model, input: 'What is the weather in Paris?', tools: [weatherTool], stream: true }));
      const types = events.map((e) => e.type);
      expect(types.slice(0, 3)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added']);
      expect(types.at(-1)).toBe('response.completed');
      expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));

      const added = events.find((e) => e.type === 'response.output_item.added') as OpenAI.Responses.ResponseOutputItemAddedEvent;
      expect(added.item).toMatchObject({ type: 'function_call', call_id: callId(provider), name: 'get_weather', arguments: '', status: 'in_progress' });
      const itemId = added.item.id;
      const deltas = events.filter((e) => e.type === 'response.function_call_arguments.delta') as OpenAI.Responses.ResponseFunctionCallArgumentsDeltaEvent[];
      expect(deltas.length).toBeGreaterThan(1);
      for (const d of deltas) expect(d).toMatchObject({ item_id: itemId, output_index: added.output_index });
      expect(JSON.parse(deltas.map((d) => d.delta).join(''))).toEqual(ARGS);

      const done = events.filter((e) => e.type === 'response.function_call_arguments.done') as OpenAI.Responses.ResponseFunctionCallArgumentsDoneEvent[];
      expect(done).toHaveLength(1);
      expect(done[0]).toMatchObject({ item_id: itemId, output_index: added.output_index, name: 'get_weather' });
      expect(done[0]!.arguments).toBe(deltas.map((d) => d.delta).join(''));
      const itemDone = events.find((e) => e.type === 'response.output_item.done') as OpenAI.Responses.ResponseOutputItemDoneEvent;
      expect(itemDone.item).toMatchObject({ id: itemId, type: 'function_call', status: 'completed', arguments: done[0]!.arguments });
      expect(types.indexOf('response.function_call_arguments.done')).toBeLessThan(types.indexOf('response.output_item.done'));

      const completed = events.at(-1) as OpenAI.Responses.ResponseCompletedEvent;
      expect(completed.response.status).toBe('completed');
      expect(completed.response.output).toEqual([itemDone.item]);
      expect(completed.response.usage?.input_tokens).toBeGreaterThan(0);
    });

    it('the SDK’s responses.stream() helper assembles the same call', async () => {
      h.upstreams[provider].enqueue({ type: 'tool_calls', calls: [{ id: callId(provider), name: 'get_weather', arguments: JSON.stringify(ARGS) }] });
      const stream = h.openai().responses.stream({ model, input: 'What is the weather in Paris?', tools: [weatherTool] });
      let argumentDeltas = '';
      stream.on('response.function_call_arguments.delta', (event) => {
        argumentDeltas += event.delta;
      });
      const final = await stream.finalResponse();
      const call = final.output.find((item) => item.type === 'function_call');
      expect(call).toMatchObject({ call_id: callId(provider), name: 'get_weather' });
      expect(JSON.parse(argumentDeltas)).toEqual(ARGS);
    });

    it('streaming parallel calls: one function_call item each, arguments kept apart', async () => {
      const calls = [
        { id: `${callId(provider)}_a`, name: 'get_weather', arguments: JSON.stringify({ city: 'Paris' }) },
        { id: `${callId(provider)}_b`, name: 'get_weather', arguments: JSON.stringify({ city: 'Tokyo' }) },
      ];
      h.upstreams[provider].enqueue({ type: 'tool_calls', text: 'Checking both.', calls });
      const final = await h.openai().responses.stream({ model, input: 'Weather in Paris and Tokyo?', tools: [weatherTool] }).finalResponse();
      expect(final.output.map((item) => item.type)).toEqual(['message', 'function_call', 'function_call']);
      const got = final.output.filter((item) => item.type === 'function_call');
      expect(got.map((c) => c.call_id)).toEqual(calls.map((c) => c.id));
      expect(got.map((c) => JSON.parse(c.arguments))).toEqual([{ city: 'Paris' }, { city: 'Tokyo' }]);
      expect(new Set(final.output.map((item) => item.id)).size).toBe(3);
    });

    for (const stream of [false, true]) {
      it(`a follow-up turn with function_call_output reaches the provider as a tool result (stream: ${stream})`, async () => {
        h.upstreams[provider].enqueue({ type: 'tool_calls', calls: [{ id: callId(provider), name: 'get_weather', arguments: JSON.stringify(ARGS) }] });
        const input: OpenAI.Responses.ResponseInput = [{ role: 'user', content: 'What is the weather in Paris?' }];
        const first = await h.openai().responses.create({ model, input, tools: [weatherTool] });
        const call = first.output.find((item) => item.type === 'function_call')!;

        h.upstreams[provider].enqueue({ type: 'text', text: 'It is 21 °C and sunny in Paris.' });
        // What apps do: send the previous output back, then the tool's result.
        const followUp = [...input, ...first.output, { type: 'function_call_output' as const, call_id: call.call_id, output: JSON.stringify({ temperature: 21 }) }];
        let text: string;
        if (stream) {
          const events = await collect(await h.openai().responses.create({ model, input: followUp, tools: [weatherTool], stream: true }));
          text = events.filter((e) => e.type === 'response.output_text.delta').map((e) => (e as OpenAI.Responses.ResponseTextDeltaEvent).delta).join('');
          expect(events.at(-1)!.type).toBe('response.completed');
        } else {
          text = (await h.openai().responses.create({ model, input: followUp, tools: [weatherTool] })).output_text;
        }
        expect(text).toBe('It is 21 °C and sunny in Paris.');

        const upstream = lastUpstream(provider);
        const seen = inspectUpstream(provider, upstream);
        expect(seen.toolUses).toBe(1);
        expect(seen.toolResults).toBe(1);
        if (provider === 'anthropic') {
          const blocks = upstream.messages.flatMap((m: any) => (Array.isArray(m.content) ? m.content : []));
          expect(blocks.find((b: any) => b.type === 'tool_use')).toMatchObject({ id: call.call_id, name: 'get_weather', input: ARGS });
          expect(blocks.find((b: any) => b.type === 'tool_result')).toMatchObject({ tool_use_id: call.call_id });
          expect(upstream.messages.map((m: any) => m.role)).toEqual(['user', 'assistant', 'user']);
        } else {
          expect(upstream.messages.map((m: any) => m.role)).toEqual(['user', 'assistant', 'tool']);
          expect(upstream.messages[1].tool_calls[0]).toMatchObject({ id: call.call_id, function: { name: 'get_weather', arguments: call.arguments } });
          expect(upstream.messages[2]).toMatchObject({ tool_call_id: call.call_id, content: JSON.stringify({ temperature: 21 }) });
        }
      });
    }

    it('function_call_output given as content parts is passed on as text', async () => {
      h.upstreams[provider].enqueue({ type: 'text', text: 'Noted.' });
      const out = await h.openai().responses.create({
        model,
        tools: [weatherTool],
        input: [
          { role: 'user', content: 'Weather?' },
          { type: 'function_call', call_id: callId(provider), name: 'get_weather', arguments: JSON.stringify(ARGS) },
          { type: 'function_call_output', call_id: callId(provider), output: [{ type: 'input_text', text: '21 degrees' }] },
        ],
      });
      expect(out.output_text).toBe('Noted.');
      expect(JSON.stringify(lastUpstream(provider))).toContain('21 degrees');
      expect(JSON.stringify(lastUpstream(provider))).not.toContain('input_text');
    });
  });

  describe(`Responses API text.format json_schema → ${provider}`, () => {
    for (const stream of [false, true]) {
      it(`the schema reaches the provider and the JSON comes back as output_text (stream: ${stream})`, async () => {
        h.upstreams[provider].enqueue({ type: 'text', text: WEATHER_JSON });
        const params = {
          model,
          input: 'Weather in Paris as JSON',
          text: { format: { type: 'json_schema' as const, name: 'weather', schema: weatherSchema, strict: true } },
        };
        let text: string;
        let format: unknown;
        if (stream) {
          const final = await h.openai().responses.stream(params).finalResponse();
          // The stream helper's final response has no output_text convenience: read the message item.
          text = final.output.flatMap((item) => (item.type === 'message' ? item.content : [])).map((c) => (c.type === 'output_text' ? c.text : '')).join('');
          format = final.text?.format;
        } else {
          const response = await h.openai().responses.create(params);
          text = response.output_text;
          format = response.text?.format;
        }
        expect(JSON.parse(text)).toEqual({ city: 'Paris', temperature: 21 });
        expect(format).toMatchObject({ type: 'json_schema', name: 'weather' });
        expect(inspectUpstream(provider, lastUpstream(provider)).schema).toMatchObject({ properties: weatherSchema.properties, required: weatherSchema.required });
      });
    }

    it('json_schema without a schema is a 400 naming text.format', async () => {
      const error: any = await h
        .openai()
        .responses.create({ model, input: 'x', text: { format: { type: 'json_schema', name: 'weather' } as any } })
        .catch((e) => e);
      expect(error.status).toBe(400);
      expect(error.message).toContain('text.format');
    });
  });
}
