// GET …/models asks each provider the caller holds a key for which models it serves. The answer
// is cached per key for a while (model lists change rarely, and listing is slow); a failed
// listing falls back to the provider's configured list and is not cached.

import type { Logger } from 'pino';
import type { UsableProviderKey } from '../../keys/resolve-provider-key.js';
import type { ProviderAdapter } from '../../providers/provider-adapter.js';
import { targetOf } from '../upstream/provider-call.js';
import { scrubProviderKey } from '../upstream/provider-text.js';
import type { UpstreamClient } from '../upstream/upstream-client.js';

export class ModelListCache {
  private readonly byKey = new Map<string, { models: Promise<string[]>; loadedAt: number }>();

  constructor(
    private readonly upstream: UpstreamClient,
    private readonly log: Logger,
    private readonly ttlMs = 10 * 60_000,
    /** Listing is a convenience: never wait as long as for a completion. */
    private readonly timeoutMs = 10_000,
  ) {}

  invalidate(): void {
    this.byKey.clear();
  }

  models(adapter: ProviderAdapter, key: UsableProviderKey): Promise<string[]> {
    const cached = this.byKey.get(key.id);
    if (cached && Date.now() - cached.loadedAt < this.ttlMs) return cached.models;
    const entry = { models: this.load(adapter, key), loadedAt: Date.now() };
    this.byKey.set(key.id, entry);
    entry.models.catch(() => undefined);
    return entry.models;
  }

  private async load(adapter: ProviderAdapter, key: UsableProviderKey): Promise<string[]> {
    const fallback = adapter.staticModels ?? [];
    if (!adapter.models) return fallback;
    try {
      const request = adapter.models.buildRequest(targetOf(key));
      const response = await this.upstream.send(request, AbortSignal.timeout(this.timeoutMs), key);
      const text = await response.body.text();
      if (response.status < 200 || response.status >= 300) throw new Error(`HTTP ${response.status}`);
      return adapter.models.parseResponse(JSON.parse(text));
    } catch (error) {
      this.byKey.delete(key.id);
      const message = scrubProviderKey(error instanceof Error ? error.message : String(error), key.apiKey);
      this.log.warn({ provider: adapter.id, keyId: key.id, err: { message } }, 'could not list provider models');
      return fallback;
    }
  }
}
