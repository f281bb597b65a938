// Step 6 of the data flow: every call is metered exactly once, whatever way it ends. The meter
// collects what becomes known along the way and hands one UsageRecord to the sink at the end.

import { timeOrderedId } from '../time-ordered-id.js';
import type { Principal } from '../oauth/principal.js';
import type { ChatCompletionChunk, Usage } from '../providers/openai-chat.js';
import type { InboundFormat, UsageOutcome, UsageRecord } from '../usage/usage-record.js';
import type { UsageSink } from '../usage/usage-sink.js';
import { scrubProviderKey } from './upstream/provider-text.js';
import { costNanoUsd } from '../usage/call-cost.js';
import type { PriceBook } from '../usage/model-prices.js';
import type { UsableProviderKey } from '../keys/resolve-provider-key.js';
/** Told the finished record (cost included) once, whatever way the call ended: budget settlement. */
export type MeterSettlement = (record: UsageRecord) => void;

/** Whose provider key a call is using: a running call is checked again against it after an access change. */
export type KeyOwner = Pick<UsableProviderKey, 'id' | 'scope' | 'teamId' | 'userId'>;

export class UsageMeter {
  private readonly startedAt = performance.now();
  private firstTokenAt: number | undefined;
  private done = false;
  principal: Principal | undefined;
  organizationId: string | null = null;
  proxyId: string | null = null;
  provider: string | null = null;
  model: string | null = null;
  keyId: string | null = null;
  /** The key in use, as far as who may use it goes. */
  keyOwner: KeyOwner | undefined;
  /** The decrypted key of `keyId`, kept only to scrub it from what is recorded and answered. */
  private apiKey: string | undefined;
  stream = false;
  /**
   * An attempt of this call was written to a provider and not refused by it (an error status):
   * the provider may bill it. False while no connection was made (lookup, connect, a pooled
   * connection awaited), so a call that never left Keyward is never charged as if answered.
   */
  reachedProvider = false;
  usage: Usage | undefined;
  /** Set when a spending or rate limit reserved for this call; released or settled at finish. */
  settlement: MeterSettlement | undefined;
  /** Set when the caller asked for the call's cost in a response header. */
  onFinished: MeterSettlement | undefined;

  constructor(
    private readonly sink: UsageSink,
    private readonly prices: PriceBook | undefined,
    readonly requestId: string,
    private readonly endpoint: UsageRecord['endpoint'],
    private readonly inboundFormat: InboundFormat,
  ) {}

  /** The provider key this call is using now (the last one tried, after failover). */
  useKey(key: UsableProviderKey): void {
    this.keyId = key.id;
    this.keyOwner = key;
    this.apiKey = key.apiKey;
  }

  get providerKey(): string | undefined {
    return this.apiKey;
  }

  markFirstToken(): void {
    this.firstTokenAt ??= performance.now();
  }

  /** Looks at every canonical chunk on its way out: first token time and the usage chunk. */
  observeChunk(chunk: ChatCompletionChunk): void {
    if (chunk.usage) this.usage = chunk.usage;
    if (this.firstTokenAt === undefined) {
      for (const choice of chunk.choices) {
        if (choice.delta.content || choice.delta.tool_calls?.length || choice.delta.refusal) {
          this.markFirstToken();
          break;
        }
      }
    }
  }

  get finished(): boolean {
    return this.done;
  }

  finish(status: number, outcome: UsageOutcome, errorMessage: string | null = null): void {
    if (this.done) return;
    this.done = true;
    const p = this.principal;
    const usage = this.usage;
    const cacheWrite = usage?.prompt_tokens_details?.cache_write_tokens ?? (usage ? 0 : null);
    const rates = usage && this.provider && this.model ? (this.prices?.ratesFor(this.provider, this.model) ?? null) : null;
    const tokens = usage
      ? {
          input: usage.prompt_tokens,
          output: usage.completion_tokens,
          cachedInput: usage.prompt_tokens_details?.cached_tokens ?? 0,
          cacheWrite: cacheWrite ?? 0,
          webSearches: usage.web_search_requests ?? 0,
        }
      : undefined;
    const record: UsageRecord = {
      // Time-ordered (UUIDv7): rows append at the end of the primary-key index instead of random pages, 2–3× cheaper inserts on a large table.
      id: timeOrderedId(),
      requestId: this.requestId,
      createdAt: Date.now(),
      principalKind: p?.kind ?? 'user',
      userId: p?.kind === 'user' ? p.userId : null,
      clientId: p?.clientId ?? null,
      organizationId: this.organizationId ?? (p?.kind === 'client' ? p.organizationId : null),
      proxyId: this.proxyId,
      endpoint: this.endpoint,
      inboundFormat: this.inboundFormat,
      provider: this.provider,
      model: this.model,
      keyId: this.keyId,
      stream: this.stream,
      inputTokens: usage?.prompt_tokens ?? null,
      outputTokens: usage?.completion_tokens ?? null,
      cachedTokens: usage?.prompt_tokens_details?.cached_tokens ?? (usage ? 0 : null),
      reasoningTokens: usage?.completion_tokens_details?.reasoning_tokens ?? (usage ? 0 : null),
      cacheWriteTokens: cacheWrite,
      webSearchRequests: tokens?.webSearches ?? null,
      costNanoUsd: tokens && rates ? costNanoUsd(rates, tokens) : null,
      // Reasoning tokens are inside completion_tokens and billed at the output rate by every priced provider.
      unpriced: tokens !== undefined && rates === null && tokens.input + tokens.output + tokens.webSearches > 0,
      latencyMs: performance.now() - this.startedAt,
      timeToFirstTokenMs: this.firstTokenAt === undefined ? null : this.firstTokenAt - this.startedAt,
      status,
      outcome,
      errorMessage: errorMessage === null ? null : scrubProviderKey(errorMessage, this.apiKey),
    };
    this.settlement?.(record);
    this.onFinished?.(record);
    this.sink.record(record);
  }
}
