// One-time password links: an administrator invites a person (no password yet) or resets one, and
// hands over the link; whoever opens it chooses the password once, before it expires. Issuing a
// new link for a person voids their older ones.

import { createHash, randomBytes } from 'node:crypto';
import { requireAdmin, type Actor } from '../access/actor.js';
import type { ServiceContext } from '../app-context.js';
import { recordAudit } from '../audit/audit-log.js';
import type { PasswordLinkPurpose } from '../db/schema.js';
import { KeywardError } from '../errors.js';
import { findPrimaryOrganization } from './organizations.js';
import { checkPasswordStrength } from './passwords.js';
import { setUserPassword } from './users.js';

export const PASSWORD_LINK_PATH = '/password';
export const PASSWORD_LINK_TTL_MS: Record<PasswordLinkPurpose, number> = { invite: 7 * 86_400_000, reset: 86_400_000 };

const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');

export async function issuePasswordLink(
  ctx: ServiceContext & { publicUrl: string },
  actor: Actor,
  userId: string,
  purpose: PasswordLinkPurpose,
): Promise<{ url: string; expiresAt: number }> {
  requireAdmin(actor);
  const member = await ctx.db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select(['users.id', 'users.email'])
    .where('memberships.organization_id', '=', actor.organizationId)
    .where('users.id', '=', userId)
    .executeTakeFirst();
  if (!member) throw new KeywardError('user_not_found', 'that user is not a member of the organization', 404);
  const token = randomBytes(32).toString('base64url');
  const now = Date.now();
  const expiresAt = now + PASSWORD_LINK_TTL_MS[purpose];
  await ctx.db.deleteFrom('password_links').where('user_id', '=', userId).execute();
  await ctx.db.insertInto('password_links').values({ token_hash: hashToken(token), user_id: userId, purpose, created_at: now, expires_at: expiresAt, used_at: null }).execute();
  await recordAudit(ctx.db, actor, { action: purpose === 'invite' ? 'user.invited' : 'user.reset_link_issued', targetKind: 'user', targetId: userId, targetLabel: member.email });
  return { url: `${ctx.publicUrl}${PASSWORD_LINK_PATH}/${token}`, expiresAt };
}

/** The person a live link is for, or undefined (unknown, used or expired). */
export async function openPasswordLink(ctx: ServiceContext, token: string) {
  if (!token || token.length > 100) return undefined;
  return ctx.db
    .selectFrom('password_links')
    .innerJoin('users', 'users.id', 'password_links.user_id')
    .select(['password_links.token_hash', 'password_links.purpose', 'users.id', 'users.email'])
    .where('password_links.token_hash', '=', hashToken(token))
    .where('password_links.used_at', 'is', null)
    .where('password_links.expires_at', '>', Date.now())
    .where('users.disabled_at', 'is', null)
    .executeTakeFirst();
}

/** Sets the password through a live link and spends it; a weak password leaves the link usable. */
export async function redeemPasswordLink(ctx: ServiceContext, token: string, password: string, ip: string | null): Promise<{ email: string }> {
  const link = await openPasswordLink(ctx, token);
  if (!link) throw new KeywardError('link_expired', 'This link was already used or has expired. Ask an administrator for a new one.', 410);
  checkPasswordStrength(password, link.email);
  // Spent once: of two submissions racing, only the one that marks it first sets the password.
  const spent = await ctx.db.updateTable('password_links').set({ used_at: Date.now() }).where('token_hash', '=', link.token_hash).where('used_at', 'is', null).executeTakeFirst();
  if (Number(spent.numUpdatedRows) !== 1) throw new KeywardError('link_expired', 'This link was already used. Ask an administrator for a new one.', 410);
  await setUserPassword(ctx.db, link.id, password);
  await ctx.changes.publish('user', link.id);
  const org = await findPrimaryOrganization(ctx.db);
  await recordAudit(ctx.db, { userId: link.id, label: link.email, organizationId: org?.id ?? null, ip }, { action: 'user.password_set_by_link', targetKind: 'user', targetId: link.id, targetLabel: link.email });
  return { email: link.email };
}
