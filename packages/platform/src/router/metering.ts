// Step 6 of the data flow: every call is metered exactly once, whatever way it ends. The meter
// collects what becomes known along the way and hands one UsageRecord to the sink at the end.

import { randomUUID } from 'node:crypto';
import type { Principal } from '../oauth/principal.js';
import type { ChatCompletionChunk, Usage } from '../providers/openai-chat.js';
import type { InboundFormat, UsageOutcome, UsageRecord } from '../usage/usage-record.js';
import type { UsageSink } from '../usage/usage-sink.js';
import { scrubProviderKey } from './upstream/provider-text.js';

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
  /** The decrypted key of `keyId`, kept only to scrub it from what is recorded and answered. */
  private apiKey: string | undefined;
  stream = false;
  usage: Usage | undefined;

  constructor(
    private readonly sink: UsageSink,
    private readonly requestId: string,
    private readonly endpoint: UsageRecord['endpoint'],
    private readonly inboundFormat: InboundFormat,
  ) {}

  /** The provider key this call is using now (the last one tried, after failover). */
  useKey(key: { id: string; apiKey: string }): void {
    this.keyId = key.id;
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
    this.sink.record({
      id: randomUUID(),
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
      latencyMs: performance.now() - this.startedAt,
      timeToFirstTokenMs: this.firstTokenAt === undefined ? null : this.firstTokenAt - this.startedAt,
      status,
      outcome,
      errorMessage: errorMessage === null ? null : scrubProviderKey(errorMessage, this.apiKey),
    });
  }
}
