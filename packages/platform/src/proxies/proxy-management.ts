// LLM proxies as people manage them: administrators create, rename and delete; members see the
// proxies they may use (org-wide, their teams', their own). Changes are published and audited.

import type { Kysely } from 'kysely';
import { isAdmin, requireAdmin, requireSameOrganization, type Actor } from '../access/actor.js';
import type { ServiceContext } from '../app-context.js';
import { recordAudit } from '../audit/audit-log.js';
import type { Database, OwnerScope } from '../db/schema.js';
import { KeywardError, notFound } from '../errors.js';
import { createLlmProxy, findLlmProxy, listLlmProxies, type LlmProxy } from './llm-proxies.js';
import { parseAllowList } from './model-allow-list.js';

export interface ProxyRequest {
  name: string;
  scope?: OwnerScope;
  teamId?: string | undefined;
  userId?: string | undefined;
}

async function checkOwnerInOrganization(db: Kysely<Database>, actor: Actor, input: ProxyRequest): Promise<void> {
  if (input.teamId) {
    const team = await db.selectFrom('teams').select('organization_id').where('id', '=', input.teamId).executeTakeFirst();
    if (!team || team.organization_id !== actor.organizationId) throw new KeywardError('team_not_found', `team "${input.teamId}" does not exist`, 404);
  }
  if (input.userId) {
    const member = await db
      .selectFrom('memberships')
      .select('user_id')
      .where('organization_id', '=', actor.organizationId)
      .where('user_id', '=', input.userId)
      .executeTakeFirst();
    if (!member) throw new KeywardError('user_not_found', 'that user is not a member of the organization', 404);
  }
}

export async function createProxy(ctx: ServiceContext, actor: Actor, input: ProxyRequest): Promise<LlmProxy> {
  requireAdmin(actor);
  await checkOwnerInOrganization(ctx.db, actor, input);
  const proxy = await createLlmProxy(ctx.db, {
    organizationId: actor.organizationId,
    name: input.name,
    scope: input.scope ?? 'org',
    ...(input.teamId ? { teamId: input.teamId } : {}),
    ...(input.userId ? { userId: input.userId } : {}),
  });
  await ctx.changes.publish('llm_proxy', proxy.id);
  await recordAudit(ctx.db, actor, { action: 'proxy.created', targetKind: 'llm_proxy', targetId: proxy.id, targetLabel: proxy.name, detail: `scope ${proxy.scope}` });
  return proxy;
}

async function requireProxy(db: Kysely<Database>, actor: Actor, proxyId: string): Promise<LlmProxy> {
  const proxy = await findLlmProxy(db, proxyId);
  if (!proxy) throw notFound('LLM proxy', proxyId);
  requireSameOrganization(actor, proxy.organization_id, 'LLM proxy', proxyId);
  return proxy;
}

export async function renameProxy(ctx: ServiceContext, actor: Actor, proxyId: string, name: string): Promise<LlmProxy> {
  requireAdmin(actor);
  const proxy = await requireProxy(ctx.db, actor, proxyId);
  const trimmed = name.trim();
  if (!trimmed || trimmed.length > 200) throw new KeywardError('invalid_name', 'proxy name must be 1 to 200 characters');
  await ctx.db.updateTable('llm_proxies').set({ name: trimmed, updated_at: Date.now() }).where('id', '=', proxy.id).execute();
  await ctx.changes.publish('llm_proxy', proxy.id);
  await recordAudit(ctx.db, actor, { action: 'proxy.renamed', targetKind: 'llm_proxy', targetId: proxy.id, targetLabel: trimmed, detail: `was ${proxy.name}` });
  return { ...proxy, name: trimmed };
}

export async function deleteProxy(ctx: ServiceContext, actor: Actor, proxyId: string): Promise<void> {
  requireAdmin(actor);
  const proxy = await requireProxy(ctx.db, actor, proxyId);
  // The routes without a {proxyId} need it.
  if (proxy.is_default) throw new KeywardError('default_proxy', 'The default LLM proxy serves the routes without a proxy id and cannot be deleted.', 409);
  await ctx.db.deleteFrom('llm_proxies').where('id', '=', proxy.id).execute();
  await ctx.changes.publish('llm_proxy', proxy.id);
  await recordAudit(ctx.db, actor, { action: 'proxy.deleted', targetKind: 'llm_proxy', targetId: proxy.id, targetLabel: proxy.name });
}

/** Sets which providers and models the proxy allows (empty text: any); the router enforces it. */
export async function setProxyAllowList(ctx: ServiceContext, actor: Actor, proxyId: string, text: string): Promise<string[]> {
  requireAdmin(actor);
  const proxy = await requireProxy(ctx.db, actor, proxyId);
  const entries = parseAllowList(text);
  await ctx.db
    .updateTable('llm_proxies')
    .set({ allowed_models_json: entries.length ? JSON.stringify(entries) : null, updated_at: Date.now() })
    .where('id', '=', proxy.id)
    .execute();
  await ctx.changes.publish('llm_proxy', proxy.id);
  await recordAudit(ctx.db, actor, { action: 'proxy.allow_list_set', targetKind: 'llm_proxy', targetId: proxy.id, targetLabel: proxy.name, detail: entries.join(', ') || 'any' });
  return entries;
}

/** Whether a member may call this proxy: the rule the router applies, for showing. */
export function memberMayUse(proxy: LlmProxy, actor: Actor, teamIds: ReadonlySet<string>): boolean {
  if (proxy.organization_id !== actor.organizationId) return false;
  if (proxy.scope === 'team') return proxy.team_id !== null && teamIds.has(proxy.team_id);
  if (proxy.scope === 'personal') return proxy.user_id === actor.userId;
  return true;
}

/** Administrators: every proxy of the organization; members: the ones they may use. */
export async function proxiesFor(db: Kysely<Database>, actor: Actor): Promise<LlmProxy[]> {
  const proxies = await listLlmProxies(db, actor.organizationId);
  if (isAdmin(actor)) return proxies;
  const teams = new Set((await db.selectFrom('team_members').select('team_id').where('user_id', '=', actor.userId ?? '').execute()).map((r) => r.team_id));
  return proxies.filter((p) => memberMayUse(p, actor, teams));
}

/** One proxy as this actor may see it: administrators any of the organization, members one they may use. */
export async function proxyFor(db: Kysely<Database>, actor: Actor, proxyId: string): Promise<LlmProxy> {
  const proxy = await requireProxy(db, actor, proxyId);
  if (isAdmin(actor)) return proxy;
  if (!(await proxiesFor(db, actor)).some((p) => p.id === proxy.id)) throw notFound('LLM proxy', proxyId);
  return proxy;
}
