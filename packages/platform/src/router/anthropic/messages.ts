// POST …/v1/messages and …/messages: the Anthropic Messages wire. With an Anthropic model the
// native body goes through untouched (nothing Anthropic-only is lost) and usage is read off the
// answer; with any other provider the body is translated to the canonical request and back.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AnthropicMessagesRequest } from '../../providers/anthropic/wire.js';
import { resolveProviderKey } from '../../keys/resolve-provider-key.js';
import { formatSseEvent } from '../../providers/sse.js';
import {
  anthropicErrorBody,
  anthropicErrorType,
  anthropicToChatRequest,
  buildAnthropicPassthroughRequest,
  chatCompletionToAnthropicMessage,
  createAnthropicStreamEncoder,
  createAnthropicStreamUsageReader,
  encodeAnthropicStreamError,
  InvalidToolArgumentsError,
  readAnthropicUsage,
} from '../inbound/anthropic-messages/index.js';
import { completeChat, planChat, streamChat } from '../chat/run-chat.js';
import type { RouterCall } from '../http/router-call.js';
import { SseWriter } from '../http/sse-writer.js';
import { finishStream } from '../http/stream-outcome.js';
import { resolveModelId } from '../model-id.js';
import type { RouterContext } from '../router-context.js';
import { RouterError, toRouterError } from '../router-error.js';
import { readJsonBody, readUpstreamEvents, sendToProvider, targetOf, withKeyFailover, type ProviderCall } from '../upstream/provider-call.js';
import { UpstreamFailure } from '../upstream/upstream-client.js';
import { upstreamFailureError } from '../upstream/upstream-errors.js';

export function anthropicRouterErrorBody(error: unknown, requestId?: string) {
  const routerError = anthropicRouterError(error);
  return { status: routerError.status, body: anthropicErrorBody(routerError.status, routerError.message, requestId), headers: routerError.headers };
}

function anthropicRouterError(error: unknown): RouterError {
  if (error instanceof InvalidToolArgumentsError) return new RouterError(502, 'upstream_error', error.message, 'upstream_bad_response');
  return toRouterError(error);
}

const encodeStreamError = (error: unknown) => {
  const routerError = anthropicRouterError(error);
  return encodeAnthropicStreamError(anthropicErrorType(routerError.status), routerError.message);
};

export async function handleAnthropicMessages(router: RouterContext, call: RouterCall, request: FastifyRequest, reply: FastifyReply) {
  const body = request.body as AnthropicMessagesRequest;
  call.meter.stream = body.stream === true;
  const qualified = await resolveModelId(router, call.caller, body.model);
  if (qualified.provider === 'anthropic') return passthrough(router, call, request, reply, body, qualified.model);

  const plan = await planChat(router, call.caller, anthropicToChatRequest(body), call.signal, call.meter);
  if (!body.stream) {
    const completion = await completeChat(router, plan);
    const message = chatCompletionToAnthropicMessage(completion, body.model);
    call.meter.finish(200, 'ok');
    return reply.send(message);
  }
  const stream = await streamChat(router, plan);
  const encoder = createAnthropicStreamEncoder({ model: body.model });
  const writer = new SseWriter(request, reply);
  await finishStream(
    router,
    call,
    writer,
    async () => {
      for (const chunk of stream.first) {
        call.meter.observeChunk(chunk);
        await writer.write(encoder.push(chunk));
      }
      for await (const chunk of stream.rest) {
        call.meter.observeChunk(chunk);
        await writer.write(encoder.push(chunk));
      }
      await writer.write(encoder.end());
    },
    encodeStreamError,
    () => stream.rest.return(undefined),
  );
}

async function passthrough(
  router: RouterContext,
  call: RouterCall,
  request: FastifyRequest,
  reply: FastifyReply,
  body: AnthropicMessagesRequest,
  model: string,
) {
  const { meter, signal } = call;
  const adapter = (await resolveModelId(router, call.caller, body.model)).adapter;
  meter.provider = 'anthropic';
  meter.model = model;
  const keys = await resolveProviderKey(router.keys, { organizationId: call.caller.organizationId, provider: 'anthropic', caller: call.caller.keyCaller });
  const providerCall: ProviderCall = { adapter, keys, signal, meter, log: router.app.log };
  const native = body as unknown as Record<string, unknown>;
  if (!body.stream) {
    const answer = await withKeyFailover(providerCall, async (key) => {
      const response = await sendToProvider(router.upstream, providerCall, key, buildAnthropicPassthroughRequest(native, model, targetOf(key), request.headers));
      return readJsonBody(providerCall, response);
    });
    meter.markFirstToken();
    const usage = readAnthropicUsage(answer);
    if (usage) meter.usage = usage;
    meter.finish(200, 'ok');
    return reply.send(answer);
  }
  const usageReader = createAnthropicStreamUsageReader();
  const opened = await withKeyFailover(providerCall, async (key) => {
    const response = await sendToProvider(router.upstream, providerCall, key, buildAnthropicPassthroughRequest(native, model, targetOf(key), request.headers));
    const events = readUpstreamEvents(response, signal, 'sse');
    try {
      const first = await events.next();
      return { first: first.done ? undefined : first.value, events };
    } catch (error) {
      await events.return(undefined);
      throw error instanceof UpstreamFailure ? upstreamFailureError(adapter, error) : error;
    }
  });
  const writer = new SseWriter(request, reply);
  await finishStream(
    router,
    call,
    writer,
    async () => {
      const forward = async (event: { event?: string; data: string }) => {
        usageReader.push(event);
        if (event.event === 'content_block_delta') meter.markFirstToken();
        const usage = usageReader.usage();
        if (usage) meter.usage = usage;
        await writer.write(formatSseEvent(event.data, event.event));
      };
      if (opened.first) await forward(opened.first);
      try {
        for await (const event of opened.events) await forward(event);
      } catch (error) {
        throw error instanceof UpstreamFailure ? upstreamFailureError(adapter, error) : error;
      }
    },
    encodeStreamError,
    () => opened.events.return(undefined),
  );
}
