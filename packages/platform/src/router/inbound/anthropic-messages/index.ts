// The Anthropic Messages inbound format: what the router calls on `/v1/messages` routes.

export { anthropicCountTokensRequestSchema, anthropicMessagesRequestSchema } from './schema.js';
export { anthropicToChatRequest } from './request.js';
export { chatCompletionToAnthropicMessage } from './response.js';
export { type AnthropicStreamEncoder, createAnthropicStreamEncoder, encodeAnthropicStreamError } from './stream.js';
export { anthropicErrorBody, anthropicErrorStatus, anthropicErrorType, InvalidToolArgumentsError } from './errors.js';
export {
  type AnthropicStreamUsageReader,
  buildAnthropicPassthroughRequest,
  createAnthropicStreamUsageReader,
  readAnthropicUsage,
  streamEventWithCallerModel,
  withCallerModel,
} from './passthrough.js';
export { anthropicAccountState } from './account-state.js';
export { anthropicMediaTokens } from './media.js';
export { webSearchToolUses, withWebSearchUses } from './web-search.js';
