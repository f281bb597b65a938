// The domain services decide who may do what, whatever calls them (console, CLI): members act on
// their own things only; every write is published for other instances and audited without secrets.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/access/actor.js';
import { operatorActor, userActor } from '../../src/accounts/actors.js';
import { addTeamMemberAs, createTeamAs } from '../../src/accounts/team-management.js';
import { createUserAs, setUserDisabled, setUserRole } from '../../src/accounts/user-management.js';
import type { AppContext } from '../../src/app-context.js';
import { listAudit } from '../../src/audit/audit-log.js';
import { addKey, deleteKey, keysFor, setKeyDisabled } from '../../src/keys/key-management.js';
import { createClientAs } from '../../src/oauth/client-management.js';
import { createProxy, proxiesFor } from '../../src/proxies/proxy-management.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';

let tp: TestPlatform;
let ctx: AppContext;
let admin: Actor;
let alice: Actor;
let bob: Actor;
let teamA: string;
let teamB: string;

const member = async (email: string) => {
  const user = await createUserAs(ctx, admin, { email, password: `${email} long password`, role: 'member' });
  return (await userActor(ctx.db, user, '192.0.2.1'))!;
};

beforeAll(async () => {
  tp = await startTestPlatform();
  ctx = tp.platform.ctx;
  admin = await operatorActor(ctx.db);
  alice = await member('alice@example.com');
  bob = await member('bob@example.com');
  teamA = (await createTeamAs(ctx, admin, 'A')).id;
  teamB = (await createTeamAs(ctx, admin, 'B')).id;
  await addTeamMemberAs(ctx, admin, teamA, alice.userId!);
}, 60_000);

afterAll(async () => {
  await tp?.close();
});

const refused = (promise: Promise<unknown>) => expect(promise).rejects.toMatchObject({ code: 'forbidden', status: 403 });

describe('provider keys', () => {
  it('members add personal keys for themselves only, at the official address only', async () => {
    await refused(addKey(ctx, alice, { provider: 'openai', apiKey: 'sk-alice-0123456789abcdef', scope: 'org' }));
    await refused(addKey(ctx, alice, { provider: 'openai', apiKey: 'sk-alice-0123456789abcdef', scope: 'team', teamId: teamA }));
    await refused(addKey(ctx, alice, { provider: 'openai', apiKey: 'sk-alice-0123456789abcdef', scope: 'personal', userId: bob.userId! }));
    await expect(
      addKey(ctx, alice, { provider: 'openai', apiKey: 'sk-alice-0123456789abcdef', scope: 'personal', baseUrl: 'http://127.0.0.1:11434/v1' }),
    ).rejects.toMatchObject({ code: 'invalid_base_url' });
    const key = await addKey(ctx, alice, { provider: 'openai', apiKey: 'sk-alice-0123456789abcdef', scope: 'personal', baseUrl: 'https://api.openai.com/v1/' });
    expect(key).toMatchObject({ scope: 'personal', user_id: alice.userId, last4: 'cdef' });
  });

  it('members change only their own personal keys; admins any key of the organization', async () => {
    const org = await addKey(ctx, admin, { provider: 'openai', apiKey: 'sk-org-0123456789abcdef', scope: 'org' });
    const bobs = await addKey(ctx, bob, { provider: 'openai', apiKey: 'sk-bob-0123456789abcdef', scope: 'personal' });
    await refused(setKeyDisabled(ctx, alice, org.id, true));
    await refused(deleteKey(ctx, alice, bobs.id));
    await setKeyDisabled(ctx, bob, bobs.id, true);
    await setKeyDisabled(ctx, admin, bobs.id, false);
  });

  it('a member sees their personal keys to manage, and the org and own-team keys to use', async () => {
    const teamAKey = await addKey(ctx, admin, { provider: 'anthropic', apiKey: 'sk-ant-team-a-0123456789', scope: 'team', teamId: teamA });
    const teamBKey = await addKey(ctx, admin, { provider: 'anthropic', apiKey: 'sk-ant-team-b-0123456789', scope: 'team', teamId: teamB });
    const view = await keysFor(ctx.db, alice);
    expect(view.manageable.every((k) => k.scope === 'personal' && k.user_id === alice.userId)).toBe(true);
    expect(view.usable.map((k) => k.id)).toContain(teamAKey.id);
    expect(view.usable.map((k) => k.id)).not.toContain(teamBKey.id);
    expect(view.usable.some((k) => k.scope === 'personal')).toBe(false);
  });

  it('each change is published for other instances and audited without the secret', async () => {
    const key = await addKey(ctx, admin, { provider: 'openai', apiKey: 'sk-audited-0123456789abcdef', scope: 'org' });
    const changes = await ctx.db.selectFrom('change_log').select('topic').where('subject_id', '=', key.id).execute();
    expect(changes.map((c) => c.topic)).toContain('provider_key');
    const entries = await ctx.db.selectFrom('audit_log').selectAll().where('target_id', '=', key.id).execute();
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ action: 'key.added', actor_label: 'admin CLI', target_label: 'openai …cdef' });
    expect(JSON.stringify(entries)).not.toContain('sk-audited');
  });
});

describe('proxies, clients, users, teams, audit', () => {
  it('members may not create or govern anything of the organization', async () => {
    await refused(createProxy(ctx, alice, { name: 'mine' }));
    await refused(createTeamAs(ctx, alice, 'mine'));
    await refused(createUserAs(ctx, alice, { email: 'eve@example.com', password: 'eve long password', role: 'admin' }));
    await refused(createClientAs(ctx, alice, { name: 'mine', proxyIds: [tp.defaultProxyId] }));
    await refused(setUserRole(ctx, alice, alice.userId!, 'admin'));
    await refused(setUserDisabled(ctx, alice, bob.userId!, true));
    await refused(listAudit(ctx.db, alice, { limit: 10, offset: 0 }));
  });

  it('a member sees org proxies and their own team’s, not another team’s', async () => {
    const a = await createProxy(ctx, admin, { name: 'team A proxy', scope: 'team', teamId: teamA });
    const b = await createProxy(ctx, admin, { name: 'team B proxy', scope: 'team', teamId: teamB });
    const seen = (await proxiesFor(ctx.db, alice)).map((p) => p.id);
    expect(seen).toContain(tp.defaultProxyId);
    expect(seen).toContain(a.id);
    expect(seen).not.toContain(b.id);
  });

  it('an administrator cannot disable themselves, and the last administrator stays one', async () => {
    const boss = (await userActor(ctx.db, { id: (await ctx.db.selectFrom('users').select('id').where('email_normalized', '=', tp.admin.email).executeTakeFirstOrThrow()).id, email: tp.admin.email }, null))!;
    await refused(setUserDisabled(ctx, boss, boss.userId!, true));
    await expect(setUserRole(ctx, boss, boss.userId!, 'member')).rejects.toMatchObject({ code: 'last_admin' });
    await setUserRole(ctx, boss, bob.userId!, 'admin');
    await setUserRole(ctx, boss, boss.userId!, 'member');
    expect((await userActor(ctx.db, { id: boss.userId!, email: boss.label }, null))!.role).toBe('member');
    const bobAdmin = (await userActor(ctx.db, { id: bob.userId!, email: bob.label }, null))!;
    await setUserRole(ctx, bobAdmin, boss.userId!, 'admin');
    const changes = await ctx.db.selectFrom('change_log').select('topic').where('subject_id', '=', boss.userId!).execute();
    expect(changes.map((c) => c.topic)).toContain('membership');
  });

  it('two administrators demoting each other at once leave one administrator', async () => {
    const carol = await createUserAs(ctx, admin, { email: 'carol@example.com', password: 'carol long password', role: 'admin' });
    const dave = await createUserAs(ctx, admin, { email: 'dave@example.com', password: 'dave long password', role: 'admin' });
    // Everyone else steps down first, so carol and dave are the only administrators.
    const others = await ctx.db.selectFrom('memberships').select('user_id').where('role', '=', 'admin').where('user_id', 'not in', [carol.id, dave.id]).execute();
    for (const o of others) await setUserRole(ctx, admin, o.user_id, 'member');
    const carolActor = (await userActor(ctx.db, carol, null))!;
    const daveActor = (await userActor(ctx.db, dave, null))!;
    const results = await Promise.allSettled([setUserRole(ctx, carolActor, dave.id, 'member'), setUserRole(ctx, daveActor, carol.id, 'member')]);
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeLessThanOrEqual(1);
    const admins = await ctx.db.selectFrom('memberships').select('user_id').where('role', '=', 'admin').execute();
    expect(admins.length).toBeGreaterThanOrEqual(1);
    for (const o of others) await setUserRole(ctx, admin, o.user_id, 'admin');
  });

  it('disabling a user ends their sessions and publishes the change', async () => {
    await ctx.db.insertInto('sessions').values({ id_hash: 'x', user_id: bob.userId!, created_at: Date.now(), expires_at: Date.now() + 60_000 }).execute();
    await setUserDisabled(ctx, admin, bob.userId!, true);
    expect(await ctx.db.selectFrom('sessions').select('id_hash').where('user_id', '=', bob.userId!).execute()).toEqual([]);
    const entries = await listAudit(ctx.db, admin, { limit: 100, offset: 0 });
    expect(entries.entries.find((e) => e.action === 'user.disabled')).toMatchObject({ target_label: 'bob@example.com' });
  });
});
