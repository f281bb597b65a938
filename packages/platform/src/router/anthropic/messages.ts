// POST …/v1/messages and …/messages: the Anthropic Messages wire. With an Anthropic model the
// native body goes through untouched (nothing Anthropic-only is lost) and usage is read off the
// answer; with any other provider the body is translated to the canonical request and back.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AnthropicMessagesRequest } from '../../providers/anthropic/wire.js';
import { openProviderCall } from '../access/account-state.js';
import { formatSseEvent } from '../../providers/sse.js';
import {
  anthropicErrorBody,
  anthropicErrorStatus,
  anthropicErrorType,
  anthropicToChatRequest,
  buildAnthropicPassthroughRequest,
  chatCompletionToAnthropicMessage,
  createAnthropicStreamEncoder,
  createAnthropicStreamUsageReader,
  encodeAnthropicStreamError,
  anthropicAccountState,
  InvalidToolArgumentsError,
  readAnthropicUsage,
  streamEventWithCallerModel,
  withCallerModel,
} from '../inbound/anthropic-messages/index.js';
import { completeChat, planChat, streamChat } from '../chat/run-chat.js';
import type { RouterCall } from '../http/router-call.js';
import { relayChatStream } from '../http/relay-chat-stream.js';
import { SseWriter } from '../http/sse-writer.js';
import { finishStream, ForwardedStreamError } from '../http/stream-outcome.js';
import { resolveModelId, type QualifiedModel } from '../model-id.js';
import type { RouterContext } from '../router-context.js';
import { RouterError, toRouterError } from '../router-error.js';
import { readJsonBody, readUpstreamEvents, sendToProvider, targetOf, withKeyFailover } from '../upstream/provider-call.js';
import { UpstreamFailure } from '../upstream/upstream-client.js';
import { UpstreamRouterError, upstreamFailureError, upstreamStatusError } from '../upstream/upstream-errors.js';
import type { SseEvent } from '../../providers/provider-adapter.js';

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
  if (qualified.provider === 'anthropic') return passthrough(router, call, request, reply, body, qualified);

  const plan = await planChat(router, call.caller, anthropicToChatRequest(body), call.signal, call.meter);
  if (!body.stream) {
    const completion = await completeChat(router, plan);
    const message = chatCompletionToAnthropicMessage(completion, body.model);
    call.meter.finish(200, 'ok');
    return reply.send(message);
  }
  const stream = await streamChat(router, plan);
  const encoder = createAnthropicStreamEncoder({ model: body.model });
  await relayChatStream(router, call, request, reply, stream, {
    push: (chunk) => encoder.push(chunk),
    end: () => encoder.end(),
    error: encodeStreamError,
  });
}

async function passthrough(
  router: RouterContext,
  call: RouterCall,
  request: FastifyRequest,
  reply: FastifyReply,
  body: AnthropicMessagesRequest,
  qualified: QualifiedModel,
) {
  const { adapter, model } = qualified;
  const { meter, signal } = call;
  const native = body as unknown as Record<string, unknown>;
  const providerCall = await openProviderCall(router, call.caller, qualified, call, anthropicAccountState(native));
  if (!body.stream) {
    const answer = await withKeyFailover(providerCall, async (key) => {
      const response = await sendToProvider(router.upstream, providerCall, key, buildAnthropicPassthroughRequest(native, model, targetOf(key), request.headers));
      return readJsonBody(providerCall, response);
    });
    meter.markFirstToken();
    const usage = readAnthropicUsage(answer);
    if (usage) meter.usage = usage;
    meter.finish(200, 'ok');
    return reply.send(withCallerModel(answer, body.model));
  }
  const usageReader = createAnthropicStreamUsageReader();
  const opened = await withKeyFailover(providerCall, async (key) => {
    const response = await sendToProvider(router.upstream, providerCall, key, buildAnthropicPassthroughRequest(native, model, targetOf(key), request.headers));
    const events = readUpstreamEvents(response, signal, 'sse');
    let first: IteratorResult<SseEvent>;
    try {
      first = await events.next();
    } catch (error) {
      await events.return(undefined);
      throw error instanceof UpstreamFailure ? upstreamFailureError(adapter, error) : error;
    }
    // Failing before anything was forwarded gets a real status, and may fail over to the next key.
    if (first.done) throw new UpstreamRouterError(502, 'upstream_error', `${adapter.displayName} ended its stream without sending any event.`, 'upstream_bad_response', true);
    const failed = streamErrorOf(first.value);
    if (failed) {
      await events.return(undefined);
      throw upstreamStatusError(adapter, anthropicErrorStatus(failed.type), first.value.data, {}, key.apiKey);
    }
    return { first: first.value, events };
  });
  const writer = new SseWriter(request, reply);
  await finishStream(
    router,
    call,
    writer,
    async () => {
      let sawStop = false;
      const forward = async (event: SseEvent) => {
        if (event.event === 'message_stop' || (event.event === undefined && /"type"\s*:\s*"message_stop"/.test(event.data))) sawStop = true;
        usageReader.push(event);
        if (event.event === 'content_block_delta') meter.markFirstToken();
        const usage = usageReader.usage();
        if (usage) meter.usage = usage;
        const named = streamEventWithCallerModel(event, body.model);
        await writer.write(formatSseEvent(named.data, named.event));
        // Forwarded as the provider sent it (the SDK raises it); the stream ends there.
        const failed = streamErrorOf(event);
        if (failed) throw new ForwardedStreamError(`Anthropic stream error (${failed.type ?? 'unknown'}): ${failed.message}`);
      };
      await forward(opened.first);
      try {
        for await (const event of opened.events) await forward(event);
      } catch (error) {
        throw error instanceof UpstreamFailure ? upstreamFailureError(adapter, error) : error;
      }
      // A stream that stops short would otherwise look complete to the caller.
      if (!sawStop) throw new UpstreamRouterError(502, 'upstream_error', `${adapter.displayName} ended its stream before message_stop; the answer is incomplete.`, 'upstream_stream_truncated', false);
    },
    encodeStreamError,
    () => opened.events.return(undefined),
  );
}

/** An Anthropic in-stream `error` event (`event: error`, `{type:'error',error:{type,message}}`), or undefined. */
function streamErrorOf(event: SseEvent): { type: string | undefined; message: string } | undefined {
  if (event.event !== 'error' && !(event.event === undefined && event.data.includes('"error"'))) return undefined;
  let data: { type?: unknown; error?: { type?: unknown; message?: unknown } };
  try {
    data = JSON.parse(event.data) as typeof data;
  } catch {
    return event.event === 'error' ? { type: undefined, message: event.data.slice(0, 500) } : undefined;
  }
  if (event.event !== 'error' && data.type !== 'error') return undefined;
  const type = typeof data.error?.type === 'string' ? data.error.type : undefined;
  const message = typeof data.error?.message === 'string' ? data.error.message : 'the provider reported an error in its stream';
  return { type, message };
}
