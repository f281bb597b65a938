// GET …/models asks each provider the caller holds a key for which models it serves. The answer
// is cached per key for a while (model lists change rarely, and listing is slow); a failed
// listing falls back to the provider's configured list and is not cached. Callers asking while a
// listing is on its way share it; when every one of them has gone, it is cancelled.

import type { Logger } from 'pino';
import { listProviderModels, MAX_MODEL_LIST_BYTES } from '../../keys/list-provider-models.js';
import type { UsableProviderKey } from '../../keys/resolve-provider-key.js';
import type { ProviderAdapter } from '../../providers/provider-adapter.js';
import type { CallSignal } from '../../upstream/call-signal.js';
import { scrubProviderKey } from '../upstream/provider-text.js';
import type { UpstreamClient } from '../../upstream/upstream-client.js';

interface Listing {
  keyId: string;
  models: Promise<string[]>;
  loadedAt: number;
  settled: boolean;
  /** Callers waiting for it (one without a signal never leaves): at 0, it is cancelled. */
  waiting: number;
  cancel: AbortController;
}

export class ModelListCache {
  private readonly byKey = new Map<string, Listing>();
  /** The listings each router call waits for: one 'abort' listener per call, however many providers it lists. */
  private readonly waitsOf = new WeakMap<CallSignal, Listing[]>();

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

  /** `caller`: the router call's signal; when it trips, this caller no longer waits for the listing. */
  models(adapter: ProviderAdapter, key: UsableProviderKey, caller?: CallSignal): Promise<string[]> {
    let listing = this.byKey.get(key.id);
    if (!listing || Date.now() - listing.loadedAt >= this.ttlMs) listing = this.start(adapter, key);
    if (!listing.settled) this.wait(listing, caller);
    return listing.models;
  }

  private start(adapter: ProviderAdapter, key: UsableProviderKey): Listing {
    const listing: Listing = { keyId: key.id, models: Promise.resolve([]), loadedAt: Date.now(), settled: false, waiting: 0, cancel: new AbortController() };
    this.byKey.set(key.id, listing);
    listing.models = this.load(adapter, key, listing).then((models) => {
      listing.settled = true;
      return models;
    });
    return listing;
  }

  private wait(listing: Listing, caller: CallSignal | undefined): void {
    listing.waiting += 1;
    if (!caller) return;
    if (caller.aborted) return this.leave(listing);
    let waits = this.waitsOf.get(caller);
    if (!waits) {
      const mine: Listing[] = [];
      this.waitsOf.set(caller, (waits = mine));
      caller.once('abort', () => {
        for (const waited of mine) this.leave(waited);
      });
    }
    waits.push(listing);
  }

  /** One caller less: when none is left and the listing is still on its way, it is cancelled. */
  private leave(listing: Listing): void {
    listing.waiting -= 1;
    if (listing.waiting > 0 || listing.settled) return;
    this.forget(listing);
    listing.cancel.abort();
  }

  /** Drops the listing unless a newer one took its place. */
  private forget(listing: Listing): void {
    if (this.byKey.get(listing.keyId) === listing) this.byKey.delete(listing.keyId);
  }

  private async load(adapter: ProviderAdapter, key: UsableProviderKey, listing: Listing): Promise<string[]> {
    const fallback = adapter.staticModels ?? [];
    if (!adapter.models) return fallback;
    try {
      const signal = AbortSignal.any([listing.cancel.signal, AbortSignal.timeout(this.timeoutMs)]);
      const answer = await listProviderModels(this.upstream, adapter.models, key, signal);
      if (answer.kind === 'models') return answer.models;
      throw new Error(
        answer.kind === 'status' ? `HTTP ${answer.status}` : answer.kind === 'too_large' ? `a model list larger than ${MAX_MODEL_LIST_BYTES / 2 ** 20} MiB` : 'not a model list',
      );
    } catch (error) {
      this.forget(listing);
      if (listing.cancel.signal.aborted) return fallback;
      const message = scrubProviderKey(error instanceof Error ? error.message : String(error), key.apiKey);
      this.log.warn({ provider: adapter.id, keyId: key.id, err: { message } }, 'could not list provider models');
      return fallback;
    }
  }
}
