// A local Anthropic API: POST /v1/messages and GET /v1/models in Anthropic's real JSON and SSE
// framing (named events, a ping after the first block starts, an in-stream `error` event),
// shaped after the examples in Anthropic's Messages, streaming and errors documentation.

import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type {
  AnthropicErrorBody,
  AnthropicErrorType,
  AnthropicMessage,
  AnthropicResponseBlock,
  AnthropicStopReason,
  AnthropicStreamEvent,
  AnthropicUsage,
} from '../../src/providers/anthropic/wire.js';
import {
  type MockReply,
  type MockUpstream,
  type MockUsage,
  type RecordedRequest,
  splitForStream,
  startMockServer,
  writeSseHeaders,
} from './mock-upstream.js';

export const ANTHROPIC_MOCK_MODELS = [
  { id: 'claude-sonnet-4-5-20250929', display_name: 'Claude Sonnet 4.5', created_at: '2025-09-29T00:00:00Z' },
  { id: 'claude-haiku-4-5-20251001', display_name: 'Claude Haiku 4.5', created_at: '2025-10-15T00:00:00Z' },
];

const DEFAULT_USAGE: MockUsage = { input: 25, output: 12 };

export async function startAnthropicUpstream(): Promise<MockUpstream> {
  return startMockServer((request, reply, res) => {
    const path = request.path.split('?')[0];
    if (request.method === 'POST' && path === '/v1/messages') {
      if (rejectedHeaders(request, res)) return true;
      answerMessages(request, reply, res);
      return true;
    }
    if (request.method === 'POST' && path === '/v1/messages/count_tokens') {
      if (rejectedHeaders(request, res)) return true;
      // One token per word of the request's text, like a tokenizer would roughly.
      const words = JSON.stringify(request.body).match(/"(?:text|content|system)":"((?:[^"\\]|\\.)*)"/g) ?? [];
      writeJson(res, 200, { input_tokens: words.reduce((sum, w) => sum + w.split(':').slice(1).join(':').split(/\s+/).filter(Boolean).length, 0) });
      return true;
    }
    if (request.method === 'GET' && path === '/v1/models') {
      if (rejectedHeaders(request, res)) return true;
      writeJson(res, 200, {
        data: ANTHROPIC_MOCK_MODELS.map((model) => ({ type: 'model', ...model })),
        has_more: false,
        first_id: ANTHROPIC_MOCK_MODELS[0]?.id ?? null,
        last_id: ANTHROPIC_MOCK_MODELS.at(-1)?.id ?? null,
      });
      return true;
    }
    return false;
  });
}

/**
 * The real API's answers to a missing key and a missing version header. The key arrives as
 * `x-api-key` (the documented header, what the adapter sends) or as `Authorization: Bearer`
 * (what @anthropic-ai/sdk 1.x sends, with `anthropic-version: 2026-10-21`).
 */
function rejectedHeaders(request: RecordedRequest, res: ServerResponse): boolean {
  const bearer = /^Bearer\s+\S/i.test(request.headers.authorization ?? '');
  if (!request.headers['x-api-key'] && !bearer) {
    writeError(res, 401, 'authentication_error', 'x-api-key header is required');
    return true;
  }
  if (!request.headers['anthropic-version']) {
    writeError(res, 400, 'invalid_request_error', 'anthropic-version: header is required');
    return true;
  }
  return false;
}

function answerMessages(request: RecordedRequest, reply: MockReply, res: ServerResponse): void {
  const body = (request.body ?? {}) as { model?: string; stream?: boolean };
  const model = body.model ?? 'claude-sonnet-4-5-20250929';
  const stream = body.stream === true;
  switch (reply.type) {
    case 'error':
      writeError(res, reply.status, errorTypeFor(reply.status), reply.message ?? defaultErrorMessage(reply.status), reply.headers);
      return;
    case 'text':
    case 'tool_calls': {
      const message = messageFor(reply, model);
      if (!stream) return writeJson(res, 200, message);
      writeSseHeaders(res);
      for (const event of streamEventsFor(message)) writeEvent(res, event);
      res.end();
      return;
    }
    case 'stall_after_first_chunk': {
      if (!stream) {
        res.writeHead(200, { 'content-type': 'application/json', 'request-id': requestId() });
        res.write('{"id":"msg_');
        return;
      }
      const message = messageFor({ type: 'text', text: reply.text }, model);
      const events = streamEventsFor(message);
      writeSseHeaders(res);
      // message_start, content_block_start, ping, the first text delta: then silence.
      for (const event of events.slice(0, 4)) writeEvent(res, event);
      return;
    }
    case 'error_mid_stream': {
      const message = reply.message ?? 'Overloaded';
      if (!stream) return writeError(res, 529, 'overloaded_error', message);
      const events = streamEventsFor(messageFor({ type: 'text', text: reply.text }, model));
      writeSseHeaders(res);
      for (const event of events.filter((e) => e.type !== 'content_block_stop' && e.type !== 'message_delta' && e.type !== 'message_stop')) {
        writeEvent(res, event);
      }
      writeEvent(res, { type: 'error', error: { type: 'overloaded_error', message } });
      res.end();
      return;
    }
    case 'hang':
      return;
  }
}

function messageFor(reply: Extract<MockReply, { type: 'text' | 'tool_calls' }>, model: string): AnthropicMessage {
  const content: AnthropicResponseBlock[] = [];
  let stopReason: AnthropicStopReason;
  if (reply.type === 'text') {
    content.push({ type: 'text', text: reply.text });
    stopReason = reply.finish === 'length' ? 'max_tokens' : 'end_turn';
  } else {
    if (reply.text) content.push({ type: 'text', text: reply.text });
    for (const call of reply.calls) {
      content.push({ type: 'tool_use', id: call.id ?? `toolu_${randomId()}`, name: call.name, input: JSON.parse(call.arguments || '{}') as Record<string, unknown> });
    }
    stopReason = 'tool_use';
  }
  return {
    id: `msg_${randomId()}`,
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: anthropicUsage(reply.usage ?? DEFAULT_USAGE),
  };
}

/** MockUsage.input counts every prompt token; Anthropic reports cache reads and writes apart from input_tokens. */
function anthropicUsage(usage: MockUsage): AnthropicUsage {
  const cached = usage.cached ?? 0;
  const written = usage.cacheWrite ?? 0;
  const out: AnthropicUsage = {
    input_tokens: usage.input - cached - written,
    cache_creation_input_tokens: written,
    cache_read_input_tokens: cached,
    output_tokens: usage.output,
  };
  if (usage.reasoning !== undefined) out.output_tokens_details = { thinking_tokens: usage.reasoning };
  return out;
}

/** The event sequence the streaming docs describe, for a finished message. */
function streamEventsFor(message: AnthropicMessage): AnthropicStreamEvent[] {
  const events: AnthropicStreamEvent[] = [
    {
      type: 'message_start',
      message: { ...message, content: [], stop_reason: null, stop_sequence: null, usage: { ...message.usage, output_tokens: 1 } },
    },
  ];
  message.content.forEach((block, index) => {
    if (block.type === 'text') {
      events.push({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      if (index === 0) events.push({ type: 'ping' });
      for (const piece of splitForStream(block.text)) events.push({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } });
    } else if (block.type === 'tool_use') {
      events.push({ type: 'content_block_start', index, content_block: { ...block, input: {} } });
      if (index === 0) events.push({ type: 'ping' });
      events.push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: '' } });
      for (const piece of splitForStream(JSON.stringify(block.input), 4)) {
        events.push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } });
      }
    }
    events.push({ type: 'content_block_stop', index });
  });
  events.push({
    type: 'message_delta',
    delta: { stop_reason: message.stop_reason, stop_sequence: null },
    usage: { ...message.usage },
  });
  events.push({ type: 'message_stop' });
  return events;
}

function writeEvent(res: ServerResponse, event: AnthropicStreamEvent): void {
  res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
}

function writeJson(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': requestId(), ...headers });
  res.end(JSON.stringify(body));
}

function writeError(res: ServerResponse, status: number, type: AnthropicErrorType, message: string, headers?: Record<string, string>): void {
  const body: AnthropicErrorBody = { type: 'error', error: { type, message }, request_id: requestId() };
  writeJson(res, status, body, headers);
}

/** The status → type table of Anthropic's errors page. */
function errorTypeFor(status: number): AnthropicErrorType {
  const byStatus: Record<number, AnthropicErrorType> = {
    400: 'invalid_request_error',
    401: 'authentication_error',
    402: 'billing_error',
    403: 'permission_error',
    404: 'not_found_error',
    413: 'request_too_large',
    429: 'rate_limit_error',
    500: 'api_error',
    504: 'timeout_error',
    529: 'overloaded_error',
  };
  return byStatus[status] ?? (status < 500 ? 'invalid_request_error' : 'api_error');
}

function defaultErrorMessage(status: number): string {
  if (status === 429) return 'Number of request tokens has exceeded your per-minute rate limit';
  if (status === 529) return 'Overloaded';
  if (status === 401) return 'invalid x-api-key';
  return 'Internal server error';
}

function randomId(): string {
  return randomBytes(12).toString('base64url');
}

function requestId(): string {
  return `req_${randomId()}`;
}
