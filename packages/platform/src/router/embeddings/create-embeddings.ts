// POST …/embeddings: through the provider's embeddings adapter, with key failover. The OpenAI SDK
// asks for base64 by default; a provider that only returns floats is re-encoded here so the SDK
// decodes what it expects.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../../providers/openai-chat.js';
import { openProviderCall } from '../access/account-state.js';
import { admitCall } from '../access/admit-call.js';
import type { RouterCall } from '../http/router-call.js';
import { resolveModelId } from '../model-id.js';
import type { RouterContext } from '../router-context.js';
import { RouterError } from '../router-error.js';
import { callProvider, targetOf } from '../upstream/provider-call.js';
import { sendAnswer } from '../http/send-answer.js';

function toBase64(vector: number[]): string {
  return Buffer.from(new Float32Array(vector).buffer).toString('base64');
}

/** Text, counted by its bytes; otherwise token ids, counted one by one (bytes ÷ 3 of `[1,2,3]` would count them short). */
const isText = (input: EmbeddingsRequest['input']) => typeof input === 'string' || typeof input[0] === 'string';

function tokenArrayLength(input: EmbeddingsRequest['input']): number {
  if (isText(input)) return 0;
  let tokens = 0;
  for (const item of input as Array<number | number[]>) tokens += Array.isArray(item) ? item.length : 1;
  return tokens;
}

export async function handleEmbeddings(router: RouterContext, call: RouterCall, request: FastifyRequest, reply: FastifyReply) {
  const body = request.body as EmbeddingsRequest;
  const qualified = await resolveModelId(router, call.caller, body.model);
  // Metered with its model even when refused below, before any key is looked up.
  call.meter.provider = qualified.provider;
  call.meter.model = qualified.model;
  const embeddings = qualified.adapter.embeddings;
  if (!embeddings) throw RouterError.invalid(`${qualified.adapter.displayName} has no embeddings API behind this router.`, 'model', 'unsupported_endpoint');
  const providerCall = await openProviderCall(router, call.caller, qualified, call);
  const upstreamRequest: EmbeddingsRequest = { ...body, model: qualified.model };
  await admitCall(router, call.caller, call.meter, {
    provider: qualified.provider,
    model: qualified.model,
    requestBytes: () => (isText(body.input) ? Buffer.byteLength(JSON.stringify(body.input)) : 0),
    extraInputTokens: () => tokenArrayLength(body.input),
    maxOutputTokens: undefined,
    producesOutput: false,
  });
  embeddings.buildRequest(upstreamRequest, targetOf(providerCall.keys[0]!));
  const result: EmbeddingsResponse = await callProvider(
    router.upstream,
    providerCall,
    (key) => embeddings.buildRequest(upstreamRequest, targetOf(key)),
    (answer) => embeddings.parseResponse(answer, upstreamRequest),
  );
  if (body.encoding_format === 'base64') {
    for (const item of result.data) if (Array.isArray(item.embedding)) item.embedding = toBase64(item.embedding);
  }
  call.meter.usage = { prompt_tokens: result.usage.prompt_tokens, completion_tokens: 0, total_tokens: result.usage.total_tokens };
  return sendAnswer(reply, call.meter, { ...result, model: `${qualified.provider}:${result.model || qualified.model}` });
}
