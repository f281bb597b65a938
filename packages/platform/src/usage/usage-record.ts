// One Model Router call, as metered: who, through which proxy and key, what it cost in tokens,
// how long it took, how it ended, and what it cost (integer nano-USD, see call-cost.ts).

import type { Kysely } from 'kysely';

/** How a call ended. Everything but `ok` still carries whatever was known when it ended. */
export type UsageOutcome =
  | 'ok'
  /** Refused before any provider was called (validation, access, missing key). */
  | 'rejected'
  /** The provider answered with an error status (after failover, if any). */
  | 'upstream_error'
  /** Connect, first-byte or idle timeout. */
  | 'upstream_timeout'
  /** The client went away before the answer was complete; the upstream call was aborted. */
  | 'client_aborted';

export type InboundFormat =
  | 'openai_chat'
  | 'openai_responses'
  | 'openai_embeddings'
  | 'openai_models'
  | 'anthropic_messages'
  | 'anthropic_count_tokens'
  | 'anthropic_models';

export interface UsageRecord {
  id: string;
  requestId: string;
  createdAt: number;
  principalKind: 'user' | 'client';
  userId: string | null;
  /** The app (OAuth client) the user authorized, or the confidential client itself. */
  clientId: string | null;
  organizationId: string | null;
  proxyId: string | null;
  endpoint: 'chat' | 'responses' | 'messages' | 'count_tokens' | 'embeddings' | 'models';
  inboundFormat: InboundFormat;
  provider: string | null;
  model: string | null;
  keyId: string | null;
  stream: boolean;
  inputTokens: number | null;
  outputTokens: number | null;
  cachedTokens: number | null;
  reasoningTokens: number | null;
  /** Prompt tokens written to the provider's cache (Anthropic), part of inputTokens, priced apart. */
  cacheWriteTokens: number | null;
  /** Server-side web searches the provider ran (Anthropic's web_search tool), each billed a fee on top of tokens. */
  webSearchRequests: number | null;
  /** Nano-USD (1e-9 USD); null when no tokens were reported or no price is known (then `unpriced`). */
  costNanoUsd: number | null;
  /** Tokens were used but neither an override nor the catalogue prices this model. */
  unpriced: boolean;
  latencyMs: number;
  timeToFirstTokenMs: number | null;
  /** The HTTP status the caller got (200 for a stream that failed after its headers). */
  status: number;
  outcome: UsageOutcome;
  errorMessage: string | null;
}

export interface UsageRecordTable {
  id: string;
  request_id: string;
  created_at: number;
  principal_kind: string;
  user_id: string | null;
  client_id: string | null;
  organization_id: string | null;
  proxy_id: string | null;
  endpoint: string;
  inbound_format: string;
  provider: string | null;
  model: string | null;
  key_id: string | null;
  stream: number;
  input_tokens: number | null;
  output_tokens: number | null;
  cached_tokens: number | null;
  reasoning_tokens: number | null;
  cache_write_tokens: number | null;
  web_search_requests: number | null;
  cost_nano_usd: number | null;
  unpriced: number;
  latency_ms: number;
  time_to_first_token_ms: number | null;
  status: number;
  outcome: string;
  error_message: string | null;
}

/** The tables this folder adds to the schema (module augmentation keeps schema.ts untouched). */
export interface UsageTables {
  usage_records: UsageRecordTable;
}

declare module '../db/schema.js' {
  interface Database extends UsageTables {}
}

export function toUsageRow(record: UsageRecord): UsageRecordTable {
  return {
    id: record.id,
    request_id: record.requestId,
    created_at: record.createdAt,
    principal_kind: record.principalKind,
    user_id: record.userId,
    client_id: record.clientId,
    organization_id: record.organizationId,
    proxy_id: record.proxyId,
    endpoint: record.endpoint,
    inbound_format: record.inboundFormat,
    provider: record.provider,
    model: record.model,
    key_id: record.keyId,
    stream: record.stream ? 1 : 0,
    input_tokens: record.inputTokens,
    output_tokens: record.outputTokens,
    cached_tokens: record.cachedTokens,
    reasoning_tokens: record.reasoningTokens,
    cache_write_tokens: record.cacheWriteTokens,
    web_search_requests: record.webSearchRequests,
    cost_nano_usd: record.costNanoUsd,
    unpriced: record.unpriced ? 1 : 0,
    latency_ms: Math.round(record.latencyMs),
    time_to_first_token_ms: record.timeToFirstTokenMs === null ? null : Math.round(record.timeToFirstTokenMs),
    status: record.status,
    outcome: record.outcome,
    error_message: record.errorMessage?.slice(0, 1000) ?? null,
  };
}

export type UsageDb = Kysely<UsageTables>;
