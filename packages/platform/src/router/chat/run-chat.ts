// A canonical chat call from end to end, whatever the inbound format: pick the model's adapter and
// keys, build the provider request, call with failover, and translate the answer — whole, or as
// canonical chunks that are translated one upstream event at a time, never buffered.

import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest } from '../../providers/openai-chat.js';
import { MalformedUpstreamResponse, UpstreamStreamError, type SseEvent, type StreamTranslator, type UpstreamRequest } from '../../providers/provider-adapter.js';
import type { UsableProviderKey } from '../../keys/resolve-provider-key.js';
import { openProviderCall } from '../access/account-state.js';
import { admitCall } from '../access/admit-call.js';
import { dataUrlType, fileTokens, imageUrlTokens } from '../../limits/media-estimate.js';
import { isGeminiApiUrl } from '../../providers/gemini/account-state.js';
import type { RouterCaller } from '../access/authorize-proxy.js';
import type { UsageMeter } from '../metering.js';
import { resolveModelId, type QualifiedModel } from '../model-id.js';
import { applyFieldPolicy } from '../policy/field-policy.js';
import type { RouterContext } from '../router-context.js';
import type { UpstreamSignal } from '../../upstream/call-signal.js';
import { callProvider, openProviderStream, readProviderAnswer, targetOf, type ProviderCall } from '../upstream/provider-call.js';

export interface ChatPlan {
  qualified: QualifiedModel;
  /** The canonical request with the provider's own model id. */
  request: ChatCompletionRequest;
  call: ProviderCall;
  /**
   * The provider request for the first key, built while planning (which refuses an untranslatable
   * field before any network call) and sent as is by the first attempt, unless the limits lowered
   * max_tokens after it was built.
   */
  prepared?: { key: UsableProviderKey; stream: boolean; upstream: UpstreamRequest };
}

/** The canonical request as sent: streamed, or whole (no stream options). */
function asSent(request: ChatCompletionRequest, stream: boolean): ChatCompletionRequest {
  if (stream) return { ...request, stream: true };
  const whole: ChatCompletionRequest = { ...request, stream: false };
  delete whole.stream_options;
  return whole;
}

/** Builds each attempt's provider request; the first key's is the one planning built. */
function builder(plan: ChatPlan, request: ChatCompletionRequest, stream: boolean): (key: UsableProviderKey) => UpstreamRequest {
  const { prepared } = plan;
  return (key) =>
    prepared && prepared.key === key && prepared.stream === stream ? prepared.upstream : plan.qualified.adapter.chat.buildRequest(request, targetOf(key));
}

/** Resolves model, provider and keys; `body.model` is the caller's "provider:model". */
export async function planChat(
  router: RouterContext,
  caller: RouterCaller,
  body: ChatCompletionRequest,
  signal: UpstreamSignal,
  meter: UsageMeter,
): Promise<ChatPlan> {
  const qualified = await resolveModelId(router, caller, body.model);
  // Same wire: unknown fields pass for the provider to judge; translated: advisory dropped, unknown refused.
  const request = applyFieldPolicy({ ...body, model: qualified.model }, qualified.adapter.wire);
  const call = await openProviderCall(router, caller, qualified, { meter, signal }, qualified.adapter.chat.accountState?.(request));
  // Refuse an untranslatable field before any network call.
  const stream = request.stream === true;
  const key = call.keys[0]!;
  const upstream = qualified.adapter.chat.buildRequest(asSent(request, stream), targetOf(key));
  // Limits are checked (and the worst case reserved) before the call; max_tokens lowered to what they can pay for.
  const asked = request.max_completion_tokens ?? request.max_tokens ?? undefined;
  const { maxOutputTokens: maxOutput } = await admitCall(router, caller, meter, {
    provider: qualified.provider,
    model: qualified.model,
    requestBytes: () => requestBytes(request),
    extraInputTokens: () => mediaTokens(request, qualified.provider, qualified.model),
    maxOutputTokens: asked,
    producesOutput: true,
    answers: request.n ?? 1,
  });
  if (maxOutput !== undefined) {
    if (request.max_completion_tokens != null) request.max_completion_tokens = maxOutput;
    else request.max_tokens = maxOutput;
    return { qualified, request, call };
  }
  return { qualified, request, call, prepared: { key, stream, upstream } };
}

/** What the input estimate is made from: the prompt as sent (messages, tools, schema). */
const requestBytes = (request: ChatCompletionRequest) => Buffer.byteLength(JSON.stringify(request));

/**
 * What the prompt's media cost beyond their bytes (limits/media-estimate.ts): images by URL or
 * inline, files (PDFs). Only user messages carry them; a string content is skipped unread.
 * Inline audio is counted by its bytes alone (far more than its tokens).
 */
function mediaTokens(request: ChatCompletionRequest, provider: string, model: string): number {
  let tokens = 0;
  for (const message of request.messages) {
    if (message.role !== 'user' || typeof message.content === 'string') continue;
    for (const part of message.content) {
      if (part.type === 'image_url') {
        const url = part.image_url.url;
        // A Gemini Files API URI may name any file, a video as well as an image.
        tokens += provider === 'gemini' && !url.startsWith('data:') && isGeminiApiUrl(url) ? fileTokens(model, undefined) : imageUrlTokens(model, url);
      } else if (part.type === 'file') {
        const data = part.file.file_data;
        tokens += data ? fileTokens(model, dataUrlType(data), data.length) : fileTokens(model, undefined);
      }
    }
  }
  return tokens;
}

/** The model id the caller sees in answers: provider-qualified, like the one it sent. */
export const qualify = (plan: ChatPlan, model: string) => (model.startsWith(`${plan.qualified.provider}:`) ? model : `${plan.qualified.provider}:${model}`);

export async function completeChat(router: RouterContext, plan: ChatPlan): Promise<ChatCompletion> {
  const request = asSent(plan.request, false);
  const adapter = plan.qualified.adapter;
  const completion = await callProvider(router.upstream, plan.call, builder(plan, request, false), (body) => adapter.chat.parseResponse(body, request));
  plan.call.meter.markFirstToken();
  if (completion.usage) plan.call.meter.usage = completion.usage;
  return { ...completion, model: qualify(plan, completion.model || plan.qualified.model) };
}

export interface ChatStream {
  /** Chunks already read before anything was sent to the caller (at least one, unless the answer was empty). */
  first: ChatCompletionChunk[];
  /** The rest, one batch per upstream read (never empty), the model already the caller's. */
  rest: AsyncGenerator<ChatCompletionChunk[]>;
}

/**
 * Opens the provider stream and reads until the first canonical chunk, failing over on the way;
 * once this returns, the caller's response may be committed and failover is over.
 */
export async function streamChat(router: RouterContext, plan: ChatPlan): Promise<ChatStream> {
  const request = asSent(plan.request, true);
  const adapter = plan.qualified.adapter;
  const opened = await openProviderStream(router.upstream, plan.call, builder(plan, request, true), adapter.chat.streamFraming, (events) =>
    canonicalChunks(events, adapter.chat.createStreamTranslator(request), plan),
  );
  return { first: opened.first.flat(), rest: opened.rest };
}

/** The provider's events as canonical chunks with the caller's model id, a batch per upstream read (empty batches skipped). */
export async function* canonicalChunks(events: AsyncGenerator<SseEvent[]>, translator: StreamTranslator, plan: ChatPlan): AsyncGenerator<ChatCompletionChunk[]> {
  // Every complete answer names why it stopped; a stream that ends without saying so was cut off.
  let finished = false;
  let any = false;
  let yielded = false;
  // A stream names one model, chunk after chunk: qualified once.
  let named = '';
  let qualified = '';
  const callerModel = (chunk: ChatCompletionChunk): ChatCompletionChunk => {
    any = true;
    if (!finished && chunk.choices.some((choice) => choice.finish_reason !== null && choice.finish_reason !== undefined)) finished = true;
    const model = chunk.model || plan.qualified.model;
    if (model !== named) {
      named = model;
      qualified = qualify(plan, model);
    }
    // Translators make a new chunk object each time and keep no reference: set in place, not copied.
    chunk.model = qualified;
    return chunk;
  };
  for await (const batch of events) {
    let chunks: ChatCompletionChunk[] = [];
    try {
      for (const event of batch) {
        for (const chunk of readProviderAnswer(() => translator.push(event))) chunks.push(callerModel(chunk));
        // The answer's first chunk goes to the caller as soon as it is read, not after the rest of its read.
        if (yielded || !chunks.length) continue;
        yielded = true;
        yield chunks;
        chunks = [];
      }
    } catch (error) {
      // What the read held before the bad event still reaches the caller first, as it would one event at a time.
      if (chunks.length) yield chunks;
      throw error;
    }
    if (chunks.length) yield chunks;
  }
  const last = readProviderAnswer(() => translator.end()).map(callerModel);
  if (last.length) yield last;
  // A 200 with no answer in it at all (an empty body, a page that is not a stream) is not a cut-off answer.
  if (!any) throw new MalformedUpstreamResponse('the stream carried no answer');
  if (!finished) throw new UpstreamStreamError('the stream ended before the answer was complete', 'incomplete_stream');
}
