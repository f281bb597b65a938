// A local Gemini API (generativelanguage v1beta): generateContent, streamGenerateContent (SSE with
// `alt=sse`, a JSON array without), embedContent, batchEmbedContents and the model list, with
// Google's error envelope `{"error":{"code","message","status","details"}}`.

import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import {
  splitForStream,
  startMockServer,
  writeSseHeaders,
  type MockReply,
  type MockUpstream,
  type MockUsage,
  type RecordedRequest,
} from './mock-upstream.js';

/** Always refused with Gemini's 400 API_KEY_INVALID, whatever `apiKey` option is set. */
export const INVALID_GEMINI_MOCK_KEY = 'invalid-gemini-key';
const EMBEDDING_DIMENSIONS = 8;

export interface GeminiUpstreamOptions {
  /** When set, only this key is accepted; otherwise any non-empty key but INVALID_GEMINI_MOCK_KEY. */
  apiKey?: string;
}

export const GEMINI_MOCK_MODELS = [
  { name: 'models/gemini-2.0-flash', supportedGenerationMethods: ['generateContent', 'countTokens', 'createCachedContent'] },
  { name: 'models/gemini-2.5-pro', supportedGenerationMethods: ['generateContent', 'countTokens', 'createCachedContent', 'batchGenerateContent'] },
  { name: 'models/text-embedding-004', supportedGenerationMethods: ['embedContent'] },
  { name: 'models/gemini-embedding-001', supportedGenerationMethods: ['embedContent', 'countTextTokens', 'countTokens'] },
];

const STATUS_NAMES: Record<number, { status: string; message: string }> = {
  400: { status: 'INVALID_ARGUMENT', message: 'Request contains an invalid argument.' },
  401: { status: 'UNAUTHENTICATED', message: 'Request had invalid authentication credentials.' },
  403: { status: 'PERMISSION_DENIED', message: 'The caller does not have permission' },
  404: { status: 'NOT_FOUND', message: 'models/unknown is not found for API version v1beta, or is not supported for generateContent.' },
  429: { status: 'RESOURCE_EXHAUSTED', message: 'You exceeded your current quota, please check your plan and billing details.' },
  500: { status: 'INTERNAL', message: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting' },
  503: { status: 'UNAVAILABLE', message: 'The model is overloaded. Please try again later.' },
  504: { status: 'DEADLINE_EXCEEDED', message: 'The request timed out. Please try again.' },
};

function errorBody(code: number, message?: string, details?: unknown[]) {
  const known = STATUS_NAMES[code] ?? { status: 'UNKNOWN', message: `HTTP ${code}` };
  const error: Record<string, unknown> = { code, message: message ?? known.message, status: known.status };
  if (details) error.details = details;
  return { error };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
  res.end(JSON.stringify(body));
}

function writeError(res: ServerResponse, reply: Extract<MockReply, { type: 'error' }>): void {
  // Gemini tells when to retry in the body (google.rpc.RetryInfo), not in a Retry-After header.
  const details =
    reply.status === 429
      ? [
          { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests', quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier' }] },
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1s' },
        ]
      : undefined;
  sendJson(res, reply.status, errorBody(reply.status, reply.message, details), reply.headers);
}

type GeminiRoute = { method: 'generateContent' | 'streamGenerateContent' | 'embedContent' | 'batchEmbedContents' | 'countTokens'; model: string; sse: boolean } | { method: 'models' };

function routeOf(request: RecordedRequest): GeminiRoute | undefined {
  const [path = '', query = ''] = request.path.split('?');
  if (request.method === 'GET' && path === '/v1beta/models') return { method: 'models' };
  const match = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent|embedContent|batchEmbedContents|countTokens)$/.exec(path);
  if (request.method !== 'POST' || !match) return undefined;
  return { method: match[2] as 'generateContent', model: decodeURIComponent(match[1]!), sse: new URLSearchParams(query).get('alt') === 'sse' };
}

function geminiUsage(usage: MockUsage | undefined, final: boolean) {
  const u = usage ?? { input: 10, output: 5 };
  const out: Record<string, unknown> = { promptTokenCount: u.input, totalTokenCount: u.input };
  if (final) {
    out.candidatesTokenCount = u.output;
    out.totalTokenCount = u.input + u.output + (u.reasoning ?? 0);
    if (u.cached) out.cachedContentTokenCount = u.cached;
    if (u.reasoning) out.thoughtsTokenCount = u.reasoning;
  }
  out.promptTokensDetails = [{ modality: 'TEXT', tokenCount: u.input }];
  return out;
}

function parseArgs(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function response(model: string, responseId: string, parts: unknown[], finishReason: string | undefined, usage: Record<string, unknown>) {
  const candidate: Record<string, unknown> = { content: { parts, role: 'model' }, index: 0 };
  if (finishReason) candidate.finishReason = finishReason;
  return { candidates: [candidate], usageMetadata: usage, modelVersion: model, responseId };
}

function writeGenerate(route: Extract<GeminiRoute, { model: string }>, reply: MockReply, res: ServerResponse): void {
  if (reply.type === 'error') return writeError(res, reply);
  const responseId = randomUUID().replace(/-/g, '').slice(0, 22);
  const stream = route.method === 'streamGenerateContent';

  if (!stream) {
    if (reply.type === 'stall_after_first_chunk') {
      res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
      res.write('{\n  "candidates": [\n');
      return;
    }
    if (reply.type === 'error_mid_stream') return writeError(res, { type: 'error', status: 500, ...(reply.message ? { message: reply.message } : {}) });
    if (reply.type === 'text') {
      const thought = reply.thoughts ? [{ text: reply.thoughts, thought: true }] : [];
      sendJson(res, 200, response(route.model, responseId, [...thought, { text: reply.text }], reply.finish === 'length' ? 'MAX_TOKENS' : 'STOP', geminiUsage(reply.usage, true)));
    } else if (reply.type === 'tool_calls') {
      const parts: unknown[] = reply.text ? [{ text: reply.text }] : [];
      for (const call of reply.calls) parts.push({ functionCall: { name: call.name, args: parseArgs(call.arguments) } });
      sendJson(res, 200, response(route.model, responseId, parts, 'STOP', geminiUsage(reply.usage, true)));
    }
    return;
  }

  // Without alt=sse Gemini streams one JSON array; Keyward always asks for SSE, but the mock speaks both.
  const events: unknown[] = [];
  let stallAfterFirst = false;
  let trailingError: unknown;
  if (reply.type === 'text' || reply.type === 'stall_after_first_chunk' || reply.type === 'error_mid_stream') {
    const pieces = splitForStream(reply.text);
    const usage = reply.type === 'text' ? reply.usage : undefined;
    if (reply.type === 'text' && reply.thoughts) events.push(response(route.model, responseId, [{ text: reply.thoughts, thought: true }], undefined, geminiUsage(usage, false)));
    pieces.forEach((piece, i) => {
      const last = i === pieces.length - 1 && reply.type === 'text';
      const finish = last ? (reply.type === 'text' && reply.finish === 'length' ? 'MAX_TOKENS' : 'STOP') : undefined;
      events.push(response(route.model, responseId, [{ text: piece }], finish, geminiUsage(usage, last)));
    });
    stallAfterFirst = reply.type === 'stall_after_first_chunk';
    if (reply.type === 'error_mid_stream') trailingError = errorBody(500, reply.message);
  } else if (reply.type === 'tool_calls') {
    if (reply.text) for (const piece of splitForStream(reply.text)) events.push(response(route.model, responseId, [{ text: piece }], undefined, geminiUsage(reply.usage, false)));
    // Function calls are never split: the whole call, arguments parsed, in one event.
    const parts = reply.calls.map((call) => ({ functionCall: { name: call.name, args: parseArgs(call.arguments) } }));
    events.push(response(route.model, responseId, parts, 'STOP', geminiUsage(reply.usage, true)));
  }

  if (!route.sse) {
    res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
    res.write(`[${JSON.stringify(events[0])}`);
    if (stallAfterFirst) return;
    for (const event of events.slice(1)) res.write(`,\r\n${JSON.stringify(event)}`);
    if (trailingError) res.write(`,\r\n${JSON.stringify(trailingError)}`);
    res.end(']');
    return;
  }
  writeSseHeaders(res);
  for (const event of stallAfterFirst ? events.slice(0, 1) : events) res.write(`data: ${JSON.stringify(event)}\r\n\r\n`);
  if (stallAfterFirst) return;
  if (trailingError) res.write(`data: ${JSON.stringify(trailingError)}\r\n\r\n`);
  res.end();
}

function values(text: string, dimensions: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < dimensions; i++) out.push(Number((((text.charCodeAt(i % Math.max(text.length, 1)) || 0) % 89) / 89).toFixed(6)));
  return out;
}

interface EmbedRequestBody {
  content?: { parts?: Array<{ text?: string }> };
  outputDimensionality?: number;
}

function embedText(body: EmbedRequestBody | undefined): [string, number] {
  const text = (body?.content?.parts ?? []).map((p) => p.text ?? '').join('');
  return [text, body?.outputDimensionality ?? EMBEDDING_DIMENSIONS];
}

function writeEmbeddings(route: Extract<GeminiRoute, { model: string }>, request: RecordedRequest, reply: MockReply, res: ServerResponse): void {
  if (reply.type === 'error') return writeError(res, reply);
  if (route.method === 'embedContent') {
    const [text, dimensions] = embedText(request.body as EmbedRequestBody);
    return sendJson(res, 200, { embedding: { values: values(text, dimensions) } });
  }
  const requests = ((request.body ?? {}) as { requests?: EmbedRequestBody[] }).requests ?? [];
  sendJson(res, 200, { embeddings: requests.map((r) => ({ values: values(...embedText(r)) })) });
}

/** countTokens: one token per whitespace-separated word of every text part, like a tokenizer would roughly. */
function writeCountTokens(request: RecordedRequest, res: ServerResponse): void {
  const body = (request.body ?? {}) as { contents?: unknown; generateContentRequest?: { contents?: unknown; systemInstruction?: unknown } };
  const texts = JSON.stringify([body.contents, body.generateContentRequest?.contents, body.generateContentRequest?.systemInstruction]).match(/"text":"((?:[^"\\]|\\.)*)"/g) ?? [];
  const totalTokens = texts.reduce((sum, text) => sum + text.slice(8, -1).split(/\s+/).filter(Boolean).length, 0);
  sendJson(res, 200, { totalTokens, promptTokensDetails: [{ modality: 'TEXT', tokenCount: totalTokens }] });
}

function writeModels(reply: MockReply, res: ServerResponse): void {
  if (reply.type === 'error') return writeError(res, reply);
  sendJson(res, 200, {
    models: GEMINI_MOCK_MODELS.map((m) => ({
      ...m,
      version: '001',
      displayName: m.name.replace('models/', ''),
      inputTokenLimit: 1048576,
      outputTokenLimit: 8192,
    })),
  });
}

export function startGeminiUpstream(options: GeminiUpstreamOptions = {}): Promise<MockUpstream> {
  return startMockServer((request, reply, res) => {
    const route = routeOf(request);
    if (!route) return false;
    const key = request.headers['x-goog-api-key'];
    if (typeof key !== 'string' || !key) {
      sendJson(
        res,
        403,
        errorBody(403, "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API."),
      );
      return true;
    }
    if (key === INVALID_GEMINI_MOCK_KEY || (options.apiKey !== undefined && key !== options.apiKey)) {
      sendJson(
        res,
        400,
        errorBody(400, 'API key not valid. Please pass a valid API key.', [
          { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } },
        ]),
      );
      return true;
    }
    if (route.method === 'models') writeModels(reply, res);
    else if (route.method === 'countTokens') writeCountTokens(request, res);
    else if (route.method === 'embedContent' || route.method === 'batchEmbedContents') writeEmbeddings(route, request, reply, res);
    else writeGenerate(route, reply, res);
    return true;
  });
}
