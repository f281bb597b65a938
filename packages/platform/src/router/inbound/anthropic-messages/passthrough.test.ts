import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnthropicUpstream } from '../../../../test/upstreams/anthropic-upstream.js';
import type { MockUpstream } from '../../../../test/upstreams/mock-upstream.js';
import type { SseEvent } from '../../../providers/provider-adapter.js';
import { createSseReader } from '../../../providers/sse.js';
import { buildAnthropicPassthroughRequest, createAnthropicStreamUsageReader, readAnthropicUsage } from './passthrough.js';

let upstream: MockUpstream;
beforeAll(async () => {
  upstream = await startAnthropicUpstream();
});
afterAll(() => upstream.close());

const inbound = {
  model: 'anthropic:claude-sonnet-4-5-20250929',
  max_tokens: 1024,
  thinking: { type: 'enabled', budget_tokens: 2048 },
  system: [{ type: 'text', text: 'Long cached prompt', cache_control: { type: 'ephemeral' } }],
  messages: [{ role: 'user', content: 'Hi' }],
};

describe('native passthrough request', () => {
  it('keeps the body as sent, with the provider-local model, and forwards version and beta headers', () => {
    const request = buildAnthropicPassthroughRequest(inbound, 'claude-sonnet-4-5-20250929', { baseUrl: 'https://api.anthropic.com', apiKey: 'sk-ant-key' }, {
      'anthropic-version': '2026-10-21',
      'anthropic-beta': ['context-1m-2025-08-07', 'fine-grained-tool-streaming-2025-05-14'],
      authorization: 'Bearer kw-router-token',
    });
    expect(request).toEqual({
      method: 'POST',
      url: 'https://api.anthropic.com/v1/messages',
      headers: {
        'x-api-key': 'sk-ant-key',
        'anthropic-version': '2026-10-21',
        'anthropic-beta': 'context-1m-2025-08-07,fine-grained-tool-streaming-2025-05-14',
        'content-type': 'application/json',
      },
      body: { ...inbound, model: 'claude-sonnet-4-5-20250929' },
    });
    expect(inbound.model).toBe('anthropic:claude-sonnet-4-5-20250929');
  });

  it('defaults anthropic-version when the caller sent none', () => {
    const request = buildAnthropicPassthroughRequest(inbound, 'claude', { baseUrl: 'https://api.anthropic.com', apiKey: 'k' });
    expect(request.headers['anthropic-version']).toBe('2023-06-01');
    expect(request.headers).not.toHaveProperty('anthropic-beta');
  });
});

describe('metering native answers', () => {
  it('reads usage from a non-streaming Message body, cache reads included', async () => {
    upstream.enqueue({ type: 'text', text: 'Hi', usage: { input: 1000, output: 20, cached: 900 } });
    const request = buildAnthropicPassthroughRequest(inbound, 'claude-sonnet-4-5-20250929', { baseUrl: upstream.baseUrl, apiKey: 'k' });
    const response = await fetch(request.url, { method: 'POST', headers: request.headers, body: JSON.stringify(request.body) });
    expect(upstream.requests.at(-1)?.body).toEqual({ ...inbound, model: 'claude-sonnet-4-5-20250929' });
    expect(readAnthropicUsage(await response.json())).toEqual({ prompt_tokens: 1000, completion_tokens: 20, total_tokens: 1020, prompt_tokens_details: { cached_tokens: 900 } });
  });

  it('reads usage from native stream events as they pass', async () => {
    upstream.enqueue({ type: 'tool_calls', calls: [{ name: 'get_weather', arguments: '{"location":"Oslo"}' }], usage: { input: 50, output: 33, cached: 10 } });
    const request = buildAnthropicPassthroughRequest({ ...inbound, stream: true }, 'claude-sonnet-4-5-20250929', { baseUrl: upstream.baseUrl, apiKey: 'k' });
    const response = await fetch(request.url, { method: 'POST', headers: request.headers, body: JSON.stringify(request.body) });
    const meter = createAnthropicStreamUsageReader();
    const seen: SseEvent[] = [];
    const reader = createSseReader((event) => {
      seen.push(event);
      meter.push(event);
    });
    reader.feed(await response.text());
    expect(seen.map((event) => event.event)).toContain('ping');
    expect(meter.usage()).toEqual({ prompt_tokens: 50, completion_tokens: 33, total_tokens: 83, prompt_tokens_details: { cached_tokens: 10 } });
  });

  it('message_start alone gives input counts; message_delta overwrites with cumulative totals', () => {
    const meter = createAnthropicStreamUsageReader();
    expect(meter.usage()).toBeUndefined();
    meter.push({ event: 'message_start', data: '{"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":472,"cache_read_input_tokens":28,"output_tokens":2}}}' });
    expect(meter.usage()).toMatchObject({ prompt_tokens: 500, completion_tokens: 2 });
    meter.push({ event: 'ping', data: '{"type": "ping"}' });
    meter.push({ event: 'content_block_delta', data: 'not json' });
    meter.push({ event: 'message_delta', data: '{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":89}}' });
    expect(meter.usage()).toEqual({ prompt_tokens: 500, completion_tokens: 89, total_tokens: 589, prompt_tokens_details: { cached_tokens: 28 } });
  });

  it('web searches: 0 at message_start, the cumulative count from message_delta; kept in the canonical usage only when there are some', () => {
    const meter = createAnthropicStreamUsageReader();
    meter.push({ event: 'message_start', data: '{"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":2679,"output_tokens":3,"server_tool_use":{"web_search_requests":0}}}}' });
    expect(meter.usage()).not.toHaveProperty('web_search_requests');
    meter.push({ event: 'message_delta', data: '{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":510,"server_tool_use":{"web_search_requests":2}}}' });
    expect(meter.usage()).toMatchObject({ prompt_tokens: 2679, completion_tokens: 510, web_search_requests: 2 });
    expect(() => meter.push({ event: 'message_delta', data: '{"type":"message_delta","delta":{},"usage":{"output_tokens":511,"server_tool_use":{"web_search_requests":"3"}}}' })).toThrow(
      'usage.server_tool_use.web_search_requests is not a count of requests',
    );
  });

  it('a body without usage meters nothing', () => {
    expect(readAnthropicUsage({ type: 'error', error: { type: 'api_error', message: 'x' } })).toBeUndefined();
  });
});
