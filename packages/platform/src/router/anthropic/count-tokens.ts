// POST …/v1/messages/count_tokens: what the Anthropic SDK's `messages.countTokens()` calls.
// Anthropic models are asked natively, Gemini models through Gemini's countTokens, and OpenAI's
// own models are counted locally with OpenAI's tokenizer; any other model gets a clear 400. A
// count asked of a provider is one request under the caller's rate limits.

import type { FastifyReply, FastifyRequest } from 'fastify';
import { ANTHROPIC_COUNT_TOKENS_PATH } from '../../providers/anthropic/api.js';
import type { AnthropicMessagesRequest } from '../../providers/anthropic/wire.js';
import { buildCountTokensRequest, parseCountTokensResponse } from '../../providers/gemini/count-tokens.js';
import type { ChatCompletionRequest, ChatMessage } from '../../providers/openai-chat.js';
import { optionalTokenCount } from '../../providers/json-guards.js';
import { countChatTokens, openAIEncodingOf } from '../../providers/openai-compatible/tokenizer.js';
import { MalformedUpstreamResponse, UnsupportedParameterError } from '../../providers/provider-adapter.js';
import { openProviderCall } from '../access/account-state.js';
import { admitCall } from '../access/admit-call.js';
import type { RouterCall } from '../http/router-call.js';
import { anthropicAccountState, anthropicToChatRequest, buildAnthropicPassthroughRequest } from '../inbound/anthropic-messages/index.js';
import { resolveModelId, type QualifiedModel } from '../model-id.js';
import type { RouterContext } from '../router-context.js';
import { RouterError } from '../router-error.js';
import { callProvider, targetOf } from '../upstream/provider-call.js';
import { sendAnswer } from '../http/send-answer.js';

export async function handleCountTokens(router: RouterContext, call: RouterCall, request: FastifyRequest, reply: FastifyReply) {
  const body = request.body as Record<string, unknown> & { model: string };
  const qualified = await resolveModelId(router, call.caller, body.model);
  // Asking a provider (on a key the caller may share) counts towards the caller's requests per
  // minute; it costs nothing, so no budget applies.
  if (qualified.provider === 'anthropic' || qualified.provider === 'gemini') {
    await admitCall(router, call.caller, call.meter, {
      provider: qualified.provider,
      model: qualified.model,
      requestBytes: () => 0,
      maxOutputTokens: undefined,
      producesOutput: false,
      free: true,
    });
  }
  const inputTokens =
    qualified.provider === 'anthropic'
      ? await countNatively(router, call, request, body, qualified)
      : await countTranslated(router, call, anthropicToChatRequest({ ...body, max_tokens: 1 } as unknown as AnthropicMessagesRequest), qualified);
  return sendAnswer(reply, call.meter, { input_tokens: inputTokens });
}

async function countNatively(router: RouterContext, call: RouterCall, request: FastifyRequest, body: Record<string, unknown>, qualified: QualifiedModel): Promise<number> {
  const providerCall = await openProviderCall(router, call.caller, qualified, call, anthropicAccountState(body));
  return callProvider(
    router.upstream,
    providerCall,
    (key) => buildAnthropicPassthroughRequest(body, qualified.model, targetOf(key), request.headers, ANTHROPIC_COUNT_TOKENS_PATH),
    (answer) => countOf(typeof answer === 'object' && answer !== null ? (answer as { input_tokens?: unknown }).input_tokens : undefined),
  );
}

async function countTranslated(router: RouterContext, call: RouterCall, canonical: ChatCompletionRequest, qualified: QualifiedModel): Promise<number> {
  const request: ChatCompletionRequest = { ...canonical, model: qualified.model };
  if (qualified.provider === 'gemini') {
    const providerCall = await openProviderCall(router, call.caller, qualified, call, qualified.adapter.chat.accountState?.(request));
    // Refuse an untranslatable field before any network call.
    buildCountTokensRequest(request, targetOf(providerCall.keys[0]!));
    return callProvider(
      router.upstream,
      providerCall,
      (key) => buildCountTokensRequest(request, targetOf(key)),
      (answer) => countOf(parseCountTokensResponse(answer)),
    );
  }
  const encoding = openAIEncodingOf(qualified.provider, qualified.model);
  if (!encoding) {
    throw RouterError.invalid(
      `Cannot count tokens for "${qualifiedId(qualified)}": Keyward knows no tokenizer for this model. Token counts are available for anthropic: and gemini: models (asked of the provider) and for OpenAI's own models on openai: and azure: (counted locally).`,
      'model',
      'tokenizer_unknown',
    );
  }
  return countChatTokens(encoding, request.messages.map(messageTexts), (request.tools ?? []).map((tool) => JSON.stringify(tool.function)));
}

const qualifiedId = (qualified: QualifiedModel) => `${qualified.provider}:${qualified.model}`;

/** The text a message puts before the model; images have no local count (their cost depends on the provider's resizing). */
function messageTexts(message: ChatMessage, i: number): string[] {
  const texts: string[] = [];
  const content = message.content;
  if (typeof content === 'string') texts.push(content);
  else if (Array.isArray(content)) {
    content.forEach((part, j) => {
      if (part.type === 'text') texts.push(part.text);
      else throw new UnsupportedParameterError(`messages[${i}].content[${j}]`, `'${part.type}' parts cannot be counted locally; only text is`);
    });
  }
  if (message.role === 'assistant') for (const toolCall of message.tool_calls ?? []) texts.push(toolCall.function.name, toolCall.function.arguments);
  return texts;
}

/** A count that is not a number is the provider's malformed answer (502 upstream_bad_response, the next key tried). */
function countOf(count: unknown): number {
  const tokens = optionalTokenCount(count, 'the token count');
  if (tokens === undefined) throw new MalformedUpstreamResponse('the token count has no number');
  return tokens;
}
