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

export function encodeOpenAIChunk(chunk: ChatCompletionChunk, includeUsage: boolean): string {
  const isUsageChunk = chunk.choices.length === 0 && chunk.usage;
  if (isUsageChunk && !includeUsage) return '';
  // Built field by field rather than copied and pruned (prompt_tokens is never on this wire): this runs for every chunk of every stream.
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
    meter.finish(200, 'ok');
    return reply.send(completion);
  }
  const includeUsage = body.stream_options?.include_usage === true;
  const stream = await streamChat(router, plan);
  await relayChatStream(router, call, request, reply, stream, {
    push: (chunk) => encodeOpenAIChunk(chunk, includeUsage),
    end: () => formatSseEvent('[DONE]'),
    error: (error) => formatSseEvent(JSON.stringify(openAIErrorBody(error))),
  });
}

export { ClientGoneError };
