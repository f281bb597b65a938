// POST …/v1/messages and …/messages: the Anthropic Messages wire. With an Anthropic model the
// native body goes through untouched (nothing Anthropic-only is lost) and usage is read off the
// answer; with any other provider the body is translated to the canonical request and back.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { UsableProviderKey } from '../../keys/resolve-provider-key.js';
import type { AnthropicMessagesRequest } from '../../providers/anthropic/wire.js';
import { openProviderCall } from '../access/account-state.js';
import { admitCall } from '../access/admit-call.js';
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
  anthropicMediaTokens,
  readAnthropicUsage,
  streamEventWithCallerModel,
  webSearchToolUses,
  withCallerModel,
  withWebSearchUses,
} from '../inbound/anthropic-messages/index.js';
import { completeChat, planChat, streamChat } from '../chat/run-chat.js';
import type { RouterCall } from '../http/router-call.js';
import { relayChatStream } from '../http/relay-chat-stream.js';
import { SseWriter } from '../http/sse-writer.js';
import { finishStream, ForwardedStreamError } from '../http/stream-outcome.js';
import { resolveModelId, type QualifiedModel } from '../model-id.js';
import type { RouterContext } from '../router-context.js';
import type { RouterError } from '../router-error.js';
import { callProvider, openProviderStream, readProviderAnswer, targetOf } from '../upstream/provider-call.js';
import { scrubProviderKey } from '../upstream/provider-text.js';
import { UpstreamRouterError, upstreamStatusError } from '../upstream/upstream-errors.js';
import { MalformedUpstreamResponse, type SseEvent } from '../../providers/provider-adapter.js';
import { readAnthropicMessage } from '../../providers/anthropic/response.js';
import { readAnthropicStreamEvent } from '../../providers/anthropic/stream.js';
import { sendAnswer } from '../http/send-answer.js';

export function anthropicRouterErrorBody(routerError: RouterError, requestId?: string) {
  return { status: routerError.status, body: anthropicErrorBody(routerError.status, routerError.message, requestId), headers: routerError.headers };
}

const encodeStreamError = (error: RouterError) => encodeAnthropicStreamError(anthropicErrorType(error.status), error.message);

export async function handleAnthropicMessages(router: RouterContext, call: RouterCall, request: FastifyRequest, reply: FastifyReply) {
  const body = request.body as AnthropicMessagesRequest;
  call.meter.stream = body.stream === true;
  const qualified = await resolveModelId(router, call.caller, body.model);
  if (qualified.provider === 'anthropic') return passthrough(router, call, request, reply, body, qualified);

  const plan = await planChat(router, call.caller, anthropicToChatRequest(body), call.signal, call.meter);
  if (!body.stream) {
    const completion = await completeChat(router, plan);
    const message = chatCompletionToAnthropicMessage(completion, body.model);
    return sendAnswer(reply, call.meter, message);
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
  const { meter } = call;
  let native = body as unknown as Record<string, unknown>;
  const providerCall = await openProviderCall(router, call.caller, qualified, call, anthropicAccountState(native));
  // Limits are checked (and the worst case reserved) before the call; max_tokens and web searches'
  // max_uses lowered to what they can pay for.
  const asked = typeof native.max_tokens === 'number' ? native.max_tokens : undefined;
  const bounds = await admitCall(router, call.caller, meter, {
    provider: 'anthropic',
    model,
    requestBytes: () => Buffer.byteLength(JSON.stringify(native)),
    extraInputTokens: () => anthropicMediaTokens(native, model),
    maxOutputTokens: asked,
    producesOutput: true,
    webSearchTools: () => webSearchToolUses(native),
  });
  if (bounds.maxOutputTokens !== undefined) native = { ...native, max_tokens: bounds.maxOutputTokens };
  if (bounds.webSearchUses) native = withWebSearchUses(native, bounds.webSearchUses);
  const build = (key: UsableProviderKey) => buildAnthropicPassthroughRequest(native, model, targetOf(key), request.headers);
  if (!body.stream) {
    // Forwarded as it is, but only once it is a message whose usage can be metered.
    const answer = await callProvider(router.upstream, providerCall, build, (answer) => {
      readAnthropicMessage(answer);
      return answer;
    });
    meter.markFirstToken();
    const usage = readAnthropicUsage(answer);
    if (usage) meter.usage = usage;
    return sendAnswer(reply, meter, withCallerModel(answer, body.model));
  }
  const usageReader = createAnthropicStreamUsageReader();
  /** The provider's events, each checked before it is forwarded and its usage read; an error event first is a failed call (real status, next key). */
  async function* nativeEvents(batches: AsyncGenerator<SseEvent[]>, key: UsableProviderKey): AsyncGenerator<SseEvent[]> {
    let first = true;
    for await (const events of batches) {
      let checked = 0;
      try {
        for (const event of events) {
          const failed = streamErrorOf(event);
          if (failed && first) throw upstreamStatusError(adapter, anthropicErrorStatus(failed.type), event.data, {}, key.apiKey);
          first = false;
          if (!failed) {
            readProviderAnswer(() => {
              readAnthropicStreamEvent(event);
              usageReader.push(event);
            });
          }
          checked += 1;
        }
      } catch (error) {
        // The events checked before the bad one still reach the caller first, as they would one at a time.
        if (checked) yield events.slice(0, checked);
        throw error;
      }
      yield events;
    }
    if (first) throw new MalformedUpstreamResponse('the stream carried no event');
  }
  const opened = await openProviderStream(router.upstream, providerCall, build, 'sse', nativeEvents);
  const writer = new SseWriter(request, reply);
  await finishStream(
    router,
    call,
    writer,
    async () => {
      let sawStop = false;
      const forward = async (event: SseEvent) => {
        if (event.event === 'message_stop' || (event.event === undefined && /"type"\s*:\s*"message_stop"/.test(event.data))) sawStop = true;
        const failed = streamErrorOf(event);
        if (failed) {
          // Forwarded as the provider sent it (the SDK raises it), less the key; the stream ends there.
          await writer.write(formatSseEvent(scrubProviderKey(event.data, opened.key.apiKey), event.event));
          throw new ForwardedStreamError(`Anthropic stream error (${failed.type ?? 'unknown'}): ${failed.message}`);
        }
        if (event.event === 'content_block_delta') meter.markFirstToken();
        const usage = usageReader.usage();
        if (usage) meter.usage = usage;
        const named = streamEventWithCallerModel(event, body.model);
        await writer.write(formatSseEvent(named.data, named.event));
      };
      for (const events of opened.first) for (const event of events) await forward(event);
      for await (const events of opened.rest) for (const event of events) await forward(event);
      // A stream that stops short would otherwise look complete to the caller.
      if (!sawStop) throw new UpstreamRouterError(502, 'upstream_error', `${adapter.displayName} ended its stream before message_stop; the answer is incomplete.`, 'upstream_stream_truncated', false);
    },
    encodeStreamError,
    () => opened.rest.return(undefined),
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
