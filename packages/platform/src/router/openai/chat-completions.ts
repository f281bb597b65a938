// POST …/chat/completions: the canonical wire in and out. Streams are re-framed chunk by chunk;
// the usage chunk every adapter emits is passed on only when the caller asked for it
// (`stream_options.include_usage`), and always metered.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ChatCompletionChunk, ChatCompletionRequest } from '../../providers/openai-chat.js';
import { formatSseEvent } from '../../providers/sse.js';
import { completeChat, planChat, streamChat } from '../chat/run-chat.js';
import type { RouterCall } from '../http/router-call.js';
import { relayChatStream } from '../http/relay-chat-stream.js';
import { ClientGoneError } from '../http/sse-writer.js';
import type { RouterContext } from '../router-context.js';
import { openAIErrorBody } from '../router-error.js';
import { sendAnswer } from '../http/send-answer.js';

/**
 * The caller's SSE text for each canonical chunk of one stream. A stream's chunks share id,
 * object, created and model, so the JSON up to `"choices":` is made once per stream and only the
 * choices (and usage) are serialised per chunk: the same bytes as JSON.stringify of the whole chunk.
 */
export function openAIChunkEncoder(includeUsage: boolean): (chunk: ChatCompletionChunk) => string {
  let head = '';
  let headOf: Pick<ChatCompletionChunk, 'id' | 'object' | 'created' | 'model'> | undefined;
  return (chunk) => {
    const isUsageChunk = chunk.choices.length === 0 && chunk.usage;
    if (isUsageChunk && !includeUsage) return '';
    // JSON.stringify leaves out undefined fields; such a chunk takes the general path.
    if (chunk.id === undefined || chunk.object === undefined || chunk.created === undefined || chunk.model === undefined) return encodeOpenAIChunk(chunk, includeUsage);
    if (!headOf || headOf.id !== chunk.id || headOf.object !== chunk.object || headOf.created !== chunk.created || headOf.model !== chunk.model) {
      headOf = { id: chunk.id, object: chunk.object, created: chunk.created, model: chunk.model };
      head = `{"id":${JSON.stringify(chunk.id)},"object":${JSON.stringify(chunk.object)},"created":${JSON.stringify(chunk.created)},"model":${JSON.stringify(chunk.model)},"choices":`;
    }
    const choices = JSON.stringify(chunk.choices);
    return formatSseEvent(includeUsage ? `${head}${choices},"usage":${JSON.stringify(chunk.usage ?? null)}}` : `${head}${choices}}`);
  };
}

/** One chunk as the caller's SSE text (prompt_tokens details never on this wire): the reference for openAIChunkEncoder. */
export function encodeOpenAIChunk(chunk: ChatCompletionChunk, includeUsage: boolean): string {
  const isUsageChunk = chunk.choices.length === 0 && chunk.usage;
  if (isUsageChunk && !includeUsage) return '';
  const wire = includeUsage
    ? { id: chunk.id, object: chunk.object, created: chunk.created, model: chunk.model, choices: chunk.choices, usage: chunk.usage ?? null }
    : { id: chunk.id, object: chunk.object, created: chunk.created, model: chunk.model, choices: chunk.choices };
  return formatSseEvent(JSON.stringify(wire));
}

export async function handleChatCompletions(router: RouterContext, call: RouterCall, request: FastifyRequest, reply: FastifyReply) {
  const body = request.body as ChatCompletionRequest;
  const { meter, signal } = call;
  meter.stream = body.stream === true;
  const plan = await planChat(router, call.caller, body, signal, meter);
  if (!body.stream) {
    const completion = await completeChat(router, plan);
    return sendAnswer(reply, meter, completion);
  }
  const includeUsage = body.stream_options?.include_usage === true;
  const stream = await streamChat(router, plan);
  await relayChatStream(router, call, request, reply, stream, {
    push: openAIChunkEncoder(includeUsage),
    end: () => formatSseEvent('[DONE]'),
    error: (error) => formatSseEvent(JSON.stringify(openAIErrorBody(error))),
  });
}

export { ClientGoneError };
