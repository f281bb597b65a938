// POST …/responses: the Responses API's basic surface, translated to and from the canonical
// chat call so every provider behind the router answers it.

import type { FastifyReply, FastifyRequest } from 'fastify';
import { completeChat, planChat, qualify, streamChat } from '../../chat/run-chat.js';
import type { RouterCall } from '../../http/router-call.js';
import { relayChatStream } from '../../http/relay-chat-stream.js';
import type { RouterContext } from '../../router-context.js';
import { responsesToChatRequest, type ResponsesRequest } from './request.js';
import { chatCompletionToResponse } from './response.js';
import { createResponsesStreamEncoder } from './stream.js';
import { sendAnswer } from '../../http/send-answer.js';

export async function handleResponses(router: RouterContext, call: RouterCall, request: FastifyRequest, reply: FastifyReply) {
  const body = request.body as ResponsesRequest;
  call.meter.stream = body.stream === true;
  const plan = await planChat(router, call.caller, responsesToChatRequest(body), call.signal, call.meter);
  if (!body.stream) {
    const completion = await completeChat(router, plan);
    return sendAnswer(reply, call.meter, chatCompletionToResponse(completion, body, completion.model));
  }
  const stream = await streamChat(router, plan);
  const encoder = createResponsesStreamEncoder(body, qualify(plan, plan.qualified.model));
  await relayChatStream(router, call, request, reply, stream, {
    push: (chunk) => encoder.push(chunk),
    end: () => encoder.end(),
    error: (error) => encoder.error(error.code ?? 'upstream_error', error.message),
  });
}
