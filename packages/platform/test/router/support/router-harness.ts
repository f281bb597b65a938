// One running Keyward with the three mock providers behind it, and helpers to add people, teams,
// keys and proxies and to get real tokens and official SDK clients for them.

import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { addMembership, findPrimaryOrganization } from '../../../src/accounts/organizations.js';
import { addTeamMember, createTeam } from '../../../src/accounts/teams.js';
import { createUser } from '../../../src/accounts/users.js';
import type { OwnerScope } from '../../../src/db/schema.js';
import type { KeyActor } from '../../../src/keys/base-url-policy.js';
import type { HostLookup } from '../../../src/keys/internal-address.js';
import { addProviderKey, memberKeyPolicy } from '../../../src/keys/provider-keys.js';
import { createLlmProxy } from '../../../src/proxies/llm-proxies.js';
import { clientCredentialsToken, createConfidentialClient, userTokens } from '../../support/oauth-client.js';
import { startTestPlatform, type TestPlatform } from '../../support/test-platform.js';
import { startAnthropicUpstream } from '../../upstreams/anthropic-upstream.js';
import { startGeminiUpstream } from '../../upstreams/gemini-upstream.js';
import type { MockUpstream } from '../../upstreams/mock-upstream.js';
import { startOpenAIUpstream } from '../../upstreams/openai-upstream.js';

export type MockProvider = 'openai' | 'anthropic' | 'gemini';

export interface RouterHarness {
  tp: TestPlatform;
  orgId: string;
  upstreams: Record<MockProvider, MockUpstream>;
  /** The admin's user token (all proxies of the org). */
  adminToken: string;
  /** Base URL of the SDKs for a proxy (default proxy when omitted). */
  baseURL(proxyId?: string | null): string;
  openai(token?: string, proxyId?: string | null): OpenAI;
  anthropic(token?: string, proxyId?: string | null): Anthropic;
  /** `baseUrl: null` leaves the provider's default; `actor` adds it as that person (a member's key follows the member policy). */
  addKey(
    provider: string,
    options?: { apiKey?: string; scope?: OwnerScope; teamId?: string; userId?: string; primary?: boolean; baseUrl?: string | null; actor?: KeyActor },
  ): Promise<string>;
  addUser(email: string): Promise<{ id: string; email: string; password: string }>;
  tokenFor(user: { email: string; password: string }): Promise<string>;
  addTeam(name: string, memberIds: string[]): Promise<string>;
  addProxy(input: { name: string; scope: OwnerScope; teamId?: string; userId?: string }): Promise<string>;
  clientToken(options: { proxyIds: string[]; keyIds?: string[] }): Promise<string>;
  close(): Promise<void>;
}

export const upstreamBase = (provider: MockProvider, upstream: MockUpstream) => (provider === 'openai' ? `${upstream.baseUrl}/v1` : upstream.baseUrl);

export async function startRouterHarness(env: Record<string, string> = {}, options: { lookupHost?: HostLookup } = {}): Promise<RouterHarness> {
  const tp = await startTestPlatform(env, undefined, options);
  const ctx = tp.platform.ctx;
  const org = await findPrimaryOrganization(ctx.db);
  const upstreams = {
    openai: await startOpenAIUpstream(),
    anthropic: await startAnthropicUpstream(),
    gemini: await startGeminiUpstream(),
  };
  const adminToken = (await userTokens(tp)).access_token;
  let keyCount = 0;
  const harness: RouterHarness = {
    tp,
    orgId: org!.id,
    upstreams,
    adminToken,
    baseURL: (proxyId = tp.defaultProxyId) => `${tp.url}/v1/model-router${proxyId ? `/${proxyId}` : ''}`,
    openai: (token = adminToken, proxyId) => new OpenAI({ apiKey: token, baseURL: harness.baseURL(proxyId), maxRetries: 0, timeout: 20_000 }),
    anthropic: (token = adminToken, proxyId) => new Anthropic({ apiKey: token, baseURL: harness.baseURL(proxyId), maxRetries: 0, timeout: 20_000 }),
    async addKey(provider, options = {}) {
      keyCount += 1;
      const mock = provider === 'anthropic' || provider === 'gemini' ? provider : 'openai';
      const key = await addProviderKey(
        ctx.db,
        ctx.box,
        {
          organizationId: org!.id,
          provider,
          apiKey: options.apiKey ?? `test-${provider}-secret-key-${keyCount}-${'x'.repeat(24)}`,
          baseUrl: options.baseUrl === null ? undefined : (options.baseUrl ?? upstreamBase(mock, upstreams[mock])),
          scope: options.scope ?? 'org',
          teamId: options.teamId,
          userId: options.userId,
          primary: options.primary ?? false,
          actor: options.actor,
        },
        memberKeyPolicy(ctx),
      );
      await ctx.changes.publish('provider_key', key.id);
      return key.id;
    },
    async addUser(email) {
      const password = 'a long enough test password';
      const user = await createUser(ctx.db, { email, password });
      await addMembership(ctx.db, org!.id, user.id, 'member');
      await ctx.changes.publish('membership', user.id);
      return { id: user.id, email, password };
    },
    async tokenFor(user) {
      return (await userTokens(tp, { email: user.email, password: user.password })).access_token;
    },
    async addTeam(name, memberIds) {
      const team = await createTeam(ctx.db, org!.id, name);
      for (const id of memberIds) {
        await addTeamMember(ctx.db, team.id, id);
        await ctx.changes.publish('membership', id);
      }
      return team.id;
    },
    async addProxy(input) {
      const proxy = await createLlmProxy(ctx.db, { organizationId: org!.id, ...input });
      await ctx.changes.publish('llm_proxy', proxy.id);
      return proxy.id;
    },
    async clientToken(options) {
      const client = await createConfidentialClient(tp, options);
      return (await clientCredentialsToken(tp, client)).access_token;
    },
    async close() {
      await tp.close();
      await Promise.all(Object.values(upstreams).map((u) => u.close()));
    },
  };
  return harness;
}
