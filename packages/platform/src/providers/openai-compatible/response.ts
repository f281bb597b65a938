// An OpenAI-compatible completion body → the canonical ChatCompletion, with the fields some
// servers leave out (`object`, `created`, ids, usage totals) filled in.

import type { ChatCompletion, ChatCompletionRequest } from '../openai-chat.js';
import { MalformedUpstreamResponse } from '../provider-adapter.js';
import { answerText, finishReason, isObject, newCompletionId, nowSeconds, optionalNumber, requiredObject, requiredObjects, str, toolCalls, usage } from './wire.js';


export function parseChatResponse(body: unknown, request: ChatCompletionRequest): ChatCompletion {
  if (!isObject(body) || !Array.isArray(body.choices)) {
    throw new MalformedUpstreamResponse('upstream answered without a choices array');
  }
  const completion: ChatCompletion = {
    id: str(body.id) || newCompletionId(),
    object: 'chat.completion',
    created: optionalNumber(body.created, 'created') ?? nowSeconds(),
    model: str(body.model) || request.model,
    choices: requiredObjects(body.choices, 'choices').map((choice, i) => {
      const message = requiredObject(choice.message, 'choices[].message');
      const calls = toolCalls(message.tool_calls);
      const out: ChatCompletion['choices'][number] = {
        index: optionalNumber(choice.index, 'choices[].index') ?? i,
        message: { role: 'assistant', content: answerText(message.content, 'choices[].message.content') ?? null },
        finish_reason: finishReason(choice.finish_reason, calls !== undefined) ?? (calls ? 'tool_calls' : 'stop'),
        // The canonical type narrows logprobs to null; the provider's value passes through when asked for.
        logprobs: (request.logprobs ? (choice.logprobs ?? null) : null) as null,
      };
      if (calls) out.message.tool_calls = calls;
      if (typeof message.refusal === 'string' || message.refusal === null) out.message.refusal = message.refusal;
      return out;
    }),
  };
  const normalised = usage(body.usage);
  if (normalised) completion.usage = normalised;
  if (typeof body.system_fingerprint === 'string') completion.system_fingerprint = body.system_fingerprint;
  return completion;
}
