// What the router needs to know about proxies and people, kept in memory: proxies by id, the
// default proxy, and each user's organizations and teams. Entries are dropped on `llm_proxy`,
// `membership` and `user` changes (this instance and others, via the change feed, or all of a
// topic when the feed's resync finds a change whose notice was lost); a miss or a
// refusal re-reads the database before it is believed, so a change made a moment ago elsewhere
// never turns into a wrong 403 or 404. Refused calls that arrive together share one re-read, so
// a refused caller's burst costs the database one read at a time, not one per call.

import type { Kysely } from 'kysely';
import type { ChangeFeed } from '../../db/change-log.js';
import type { Database } from '../../db/schema.js';
import { findDefaultLlmProxy, findLlmProxy, type LlmProxy } from '../../proxies/llm-proxies.js';

export interface UserAccess {
  userId: string;
  disabled: boolean;
  organizationIds: ReadonlySet<string>;
  teamIds: ReadonlySet<string>;
}

interface Entry<T> {
  value: Promise<T>;
  loadedAt: number;
  /** True until the read settles: a caller wanting a fresh read joins this one. */
  reading?: boolean;
}

export class RouterDirectory {
  private readonly proxies = new Map<string, Entry<LlmProxy | undefined>>();
  private defaultProxyEntry: Entry<LlmProxy | undefined> | undefined;
  private readonly users = new Map<string, Entry<UserAccess>>();

  constructor(
    private readonly db: Kysely<Database>,
    changes: ChangeFeed,
    private readonly ttlMs = 5 * 60_000,
  ) {
    const dropProxies = () => {
      this.proxies.clear();
      this.defaultProxyEntry = undefined;
    };
    changes.on('llm_proxy', dropProxies);
    changes.on('membership', (userId) => this.users.delete(userId));
    changes.on('user', (userId) => this.users.delete(userId));
    // A change whose notice was lost: which proxy or user is not known, so all are read again.
    changes.onResync('llm_proxy', dropProxies);
    changes.onResync('membership', () => this.users.clear());
    changes.onResync('user', () => this.users.clear());
  }

  private fresh<T>(entry: Entry<T> | undefined): entry is Entry<T> {
    return entry !== undefined && Date.now() - entry.loadedAt < this.ttlMs;
  }

  private remember<T>(map: Map<string, Entry<T>>, key: string, load: () => Promise<T>): Promise<T> {
    const entry: Entry<T> = { value: load(), loadedAt: Date.now(), reading: true };
    map.set(key, entry);
    entry.value.then(
      () => (entry.reading = false),
      () => {
        entry.reading = false;
        if (map.get(key) === entry) map.delete(key);
      },
    );
    return entry.value;
  }

  /** The proxy, or undefined; "does not exist" is asked of the database each time, never kept. */
  async proxy(id: string): Promise<LlmProxy | undefined> {
    const entry = this.proxies.get(id);
    if (this.fresh(entry)) {
      const proxy = await entry.value;
      if (proxy) return proxy;
    }
    const loading = this.remember(this.proxies, id, () => findLlmProxy(this.db, id));
    const proxy = await loading;
    // The id is the caller's: a kept miss per made-up id would grow without end.
    if (!proxy && this.proxies.get(id)?.value === loading) this.proxies.delete(id);
    return proxy;
  }

  /** Proxies held now (existing ones only). */
  get cachedProxyCount(): number {
    return this.proxies.size;
  }

  async defaultProxy(): Promise<LlmProxy | undefined> {
    if (this.fresh(this.defaultProxyEntry)) {
      const proxy = await this.defaultProxyEntry.value;
      if (proxy) return proxy;
    }
    const entry = { value: findDefaultLlmProxy(this.db), loadedAt: Date.now() };
    this.defaultProxyEntry = entry;
    entry.value.catch(() => {
      if (this.defaultProxyEntry === entry) this.defaultProxyEntry = undefined;
    });
    return entry.value;
  }

  /** `fresh`: read again, or join a read already under way (it began at most one round trip ago). */
  async userAccess(userId: string, fresh = false): Promise<UserAccess> {
    const entry = this.users.get(userId);
    if (fresh ? entry?.reading : this.fresh(entry)) return entry!.value;
    return this.remember(this.users, userId, () => this.loadUser(userId));
  }

  private async loadUser(userId: string): Promise<UserAccess> {
    const [user, memberships, teams] = await Promise.all([
      this.db.selectFrom('users').select(['id', 'disabled_at']).where('id', '=', userId).executeTakeFirst(),
      this.db.selectFrom('memberships').select('organization_id').where('user_id', '=', userId).execute(),
      this.db.selectFrom('team_members').select('team_id').where('user_id', '=', userId).execute(),
    ]);
    return {
      userId,
      disabled: !user || user.disabled_at !== null,
      organizationIds: new Set(memberships.map((m) => m.organization_id)),
      teamIds: new Set(teams.map((t) => t.team_id)),
    };
  }
}
