// A local OpenAI: Chat Completions, embeddings and models on `/v1`, plus Azure's deployment and v1
// paths, with OpenAI's own error bodies and SSE framing (usage chunk with empty choices last when
// `stream_options.include_usage` is set, then `data: [DONE]`).

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

/** Always refused with OpenAI's 401 `invalid_api_key`, whatever `apiKey` option is set. */
export const INVALID_OPENAI_MOCK_KEY = 'sk-invalid';
export const OPENAI_MOCK_MODELS = ['gpt-4o-mini', 'gpt-4o', 'o3-mini', 'text-embedding-3-small'];
const EMBEDDING_DIMENSIONS = 8;

export interface OpenAIUpstreamOptions {
  /** When set, only this key is accepted; otherwise any non-empty key but INVALID_OPENAI_MOCK_KEY. */
  apiKey?: string;
}

type OpenAIRoute = 'chat' | 'embeddings' | 'models';

function routeOf(request: RecordedRequest): { route: OpenAIRoute; azure: boolean } | undefined {
  const path = request.path.split('?')[0] ?? '';
  const azureDeployment = /^\/openai\/deployments\/[^/]+\/(chat\/completions|embeddings)$/.exec(path);
  if (request.method === 'POST' && azureDeployment) {
    return { route: azureDeployment[1] === 'embeddings' ? 'embeddings' : 'chat', azure: true };
  }
  const v1 = /^\/(openai\/)?v1\/(chat\/completions|embeddings|models)$/.exec(path);
  if (!v1) return undefined;
  const azure = v1[1] !== undefined;
  if (v1[2] === 'models') return request.method === 'GET' ? { route: 'models', azure } : undefined;
  return request.method === 'POST' ? { route: v1[2] === 'embeddings' ? 'embeddings' : 'chat', azure } : undefined;
}

function presentedKey(request: RecordedRequest, azure: boolean): string | undefined {
  const auth = request.headers.authorization;
  if (typeof auth === 'string' && auth.startsWith('Bearer ')) return auth.slice('Bearer '.length);
  const apiKey = request.headers['api-key'];
  if (azure && typeof apiKey === 'string') return apiKey;
  return undefined;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** OpenAI's error envelope. */
function errorBody(message: string, type: string, code: string | null, param: string | null = null) {
  return { error: { message, type, param, code } };
}

const ERRORS_BY_STATUS: Record<number, { message: string; type: string; code: string | null }> = {
  400: { message: "Invalid value for 'messages'.", type: 'invalid_request_error', code: null },
  401: { message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key' },
  403: { message: 'You are not allowed to sample from this model', type: 'invalid_request_error', code: null },
  404: { message: 'The model does not exist or you do not have access to it.', type: 'invalid_request_error', code: 'model_not_found' },
  429: {
    message: 'Rate limit reached for gpt-4o-mini in organization org-mock on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 1s.',
    type: 'requests',
    code: 'rate_limit_exceeded',
  },
  500: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', code: null },
  503: { message: 'The engine is currently overloaded, please try again later.', type: 'server_error', code: null },
};

function writeError(res: ServerResponse, reply: Extract<MockReply, { type: 'error' }>): void {
  const known = ERRORS_BY_STATUS[reply.status] ?? { message: `HTTP ${reply.status}`, type: 'server_error', code: null };
  const headers: Record<string, string> = {};
  if (reply.status === 429) {
    headers['retry-after'] = '1';
    headers['x-ratelimit-limit-requests'] = '3';
    headers['x-ratelimit-remaining-requests'] = '0';
    headers['x-ratelimit-reset-requests'] = '1s';
  }
  sendJson(res, reply.status, errorBody(reply.message ?? known.message, known.type, known.code), { ...headers, ...reply.headers });
}

function unauthorized(res: ServerResponse, key: string | undefined): void {
  if (!key) {
    sendJson(
      res,
      401,
      errorBody(
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username. You can obtain an API key from https://platform.openai.com/account/api-keys.",
        'invalid_request_error',
        null,
      ),
    );
    return;
  }
  const masked = `${key.slice(0, 3)}*****${key.slice(-4)}`;
  sendJson(
    res,
    401,
    errorBody(
      `Incorrect API key provided: ${masked}. You can find your API key at https://platform.openai.com/account/api-keys.`,
      'invalid_request_error',
      'invalid_api_key',
    ),
  );
}

function openAIUsage(usage: MockUsage | undefined) {
  const u = usage ?? { input: 10, output: 5 };
  return {
    prompt_tokens: u.input,
    completion_tokens: u.output,
    total_tokens: u.input + u.output,
    prompt_tokens_details: { cached_tokens: u.cached ?? 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: u.reasoning ?? 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

interface StreamContext {
  id: string;
  created: number;
  model: string;
  includeUsage: boolean;
  res: ServerResponse;
}

function writeChunk(ctx: StreamContext, choices: unknown[], usage?: unknown): void {
  const chunk: Record<string, unknown> = {
    id: ctx.id,
    object: 'chat.completion.chunk',
    created: ctx.created,
    model: ctx.model,
    service_tier: 'default',
    system_fingerprint: 'fp_mock',
    choices,
  };
  if (ctx.includeUsage) chunk.usage = usage ?? null;
  ctx.res.write(`data: ${JSON.stringify(chunk)}\n\n`);
}

function delta(content: Record<string, unknown>, finish: string | null = null) {
  return { index: 0, delta: content, logprobs: null, finish_reason: finish };
}

function writeChat(request: RecordedRequest, reply: MockReply, res: ServerResponse): void {
  const body = (request.body ?? {}) as { model?: string; stream?: boolean; stream_options?: { include_usage?: boolean } };
  const model = body.model ?? 'gpt-4o-mini';
  const id = `chatcmpl-${randomUUID().replace(/-/g, '').slice(0, 24)}`;
  const created = Math.floor(Date.now() / 1000);
  if (reply.type === 'error') return writeError(res, reply);

  if (!body.stream) {
    if (reply.type === 'stall_after_first_chunk') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`{"id":"${id}","object":"chat.completion",`);
      return;
    }
    if (reply.type === 'error_mid_stream') {
      return writeError(res, { type: 'error', status: 500, ...(reply.message ? { message: reply.message } : {}) });
    }
    const message: Record<string, unknown> = { role: 'assistant', content: null, refusal: null, annotations: [] };
    let finish = 'stop';
    if (reply.type === 'text') {
      message.content = reply.text;
      finish = reply.finish ?? 'stop';
    } else if (reply.type === 'tool_calls') {
      message.content = reply.text ?? null;
      message.tool_calls = reply.calls.map((call, i) => ({
        id: call.id ?? `call_mock${i}`,
        type: 'function',
        function: { name: call.name, arguments: call.arguments },
      }));
      finish = 'tool_calls';
    }
    const usage = reply.type === 'text' || reply.type === 'tool_calls' ? reply.usage : undefined;
    sendJson(res, 200, {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
      usage: openAIUsage(usage),
      service_tier: 'default',
      system_fingerprint: 'fp_mock',
    });
    return;
  }

  const ctx: StreamContext = { id, created, model, includeUsage: body.stream_options?.include_usage === true, res };
  writeSseHeaders(res);
  if (reply.type === 'stall_after_first_chunk') {
    writeChunk(ctx, [delta({ role: 'assistant', content: splitForStream(reply.text)[0] ?? '', refusal: null })]);
    return;
  }
  if (reply.type === 'error_mid_stream') {
    writeChunk(ctx, [delta({ role: 'assistant', content: '', refusal: null })]);
    for (const piece of splitForStream(reply.text)) writeChunk(ctx, [delta({ content: piece })]);
    // OpenAI reports a failure after the 200 as a data event carrying the usual error envelope.
    res.write(`data: ${JSON.stringify(errorBody(reply.message ?? ERRORS_BY_STATUS[500]!.message, 'server_error', null))}\n\n`);
    res.end();
    return;
  }
  let finish = 'stop';
  let usage: MockUsage | undefined;
  if (reply.type === 'text') {
    writeChunk(ctx, [delta({ role: 'assistant', content: '', refusal: null })]);
    for (const piece of splitForStream(reply.text)) writeChunk(ctx, [delta({ content: piece })]);
    finish = reply.finish ?? 'stop';
    usage = reply.usage;
  } else if (reply.type === 'tool_calls') {
    writeChunk(ctx, [delta({ role: 'assistant', content: reply.text === undefined ? null : '', refusal: null })]);
    if (reply.text !== undefined) for (const piece of splitForStream(reply.text)) writeChunk(ctx, [delta({ content: piece })]);
    reply.calls.forEach((call, index) => {
      // OpenAI opens each call with its id and name, then streams the arguments in fragments.
      writeChunk(ctx, [
        delta({ tool_calls: [{ index, id: call.id ?? `call_mock${index}`, type: 'function', function: { name: call.name, arguments: '' } }] }),
      ]);
      for (const piece of splitForStream(call.arguments, 4)) writeChunk(ctx, [delta({ tool_calls: [{ index, function: { arguments: piece } }] })]);
    });
    finish = 'tool_calls';
    usage = reply.usage;
  }
  writeChunk(ctx, [delta({}, finish)]);
  if (ctx.includeUsage) writeChunk(ctx, [], openAIUsage(usage));
  res.write('data: [DONE]\n\n');
  res.end();
}

function embeddingFor(text: string, dimensions: number): number[] {
  const vector: number[] = [];
  for (let i = 0; i < dimensions; i++) vector.push(Number((((text.charCodeAt(i % Math.max(text.length, 1)) || 0) % 97) / 97).toFixed(6)));
  return vector;
}

function writeEmbeddings(request: RecordedRequest, reply: MockReply, res: ServerResponse): void {
  if (reply.type === 'error') return writeError(res, reply);
  const body = (request.body ?? {}) as { model?: string; input?: unknown; dimensions?: number; encoding_format?: string };
  const inputs = Array.isArray(body.input) && typeof body.input[0] !== 'number' ? (body.input as unknown[]) : [body.input];
  const dimensions = body.dimensions ?? EMBEDDING_DIMENSIONS;
  let tokens = 0;
  const data = inputs.map((input, index) => {
    const text = typeof input === 'string' ? input : JSON.stringify(input);
    tokens += Math.max(1, Math.ceil(text.length / 4));
    const vector = embeddingFor(text, dimensions);
    const embedding = body.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
    return { object: 'embedding', index, embedding };
  });
  sendJson(res, 200, { object: 'list', data, model: body.model ?? 'text-embedding-3-small', usage: { prompt_tokens: tokens, total_tokens: tokens } });
}

function writeModels(reply: MockReply, res: ServerResponse): void {
  if (reply.type === 'error') return writeError(res, reply);
  sendJson(res, 200, {
    object: 'list',
    data: OPENAI_MOCK_MODELS.map((id) => ({ id, object: 'model', created: 1686935002, owned_by: 'system' })),
  });
}

export function startOpenAIUpstream(options: OpenAIUpstreamOptions = {}): Promise<MockUpstream> {
  return startMockServer((request, reply, res) => {
    const matched = routeOf(request);
    if (!matched) return false;
    const key = presentedKey(request, matched.azure);
    if (!key || key === INVALID_OPENAI_MOCK_KEY || (options.apiKey !== undefined && key !== options.apiKey)) {
      unauthorized(res, key);
      return true;
    }
    if (matched.route === 'chat') writeChat(request, reply, res);
    else if (matched.route === 'embeddings') writeEmbeddings(request, reply, res);
    else writeModels(reply, res);
    return true;
  });
}
