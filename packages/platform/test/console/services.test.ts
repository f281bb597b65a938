// The domain services decide who may do what, whatever calls them (console, CLI): members act on
// their own things only; every write is published for other instances and audited without secrets.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/access/actor.js';
import { operatorActor, userActor } from '../../src/accounts/actors.js';
import { addTeamMemberAs, createTeamAs, removeTeamMemberAs } from '../../src/accounts/team-management.js';
import { createUserAs, setUserDisabled, setUserRole } from '../../src/accounts/user-management.js';
import type { AppContext } from '../../src/app-context.js';
import { listAudit } from '../../src/audit/audit-log.js';
import { addKey, deleteKey, DISABLED_BY_ADMIN, keysFor, setKeyDisabled } from '../../src/keys/key-management.js';
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
    ).rejects.toMatchObject({ code: 'base_url_not_allowed', status: 400 });
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

describe('what an administrator decides holds', () => {
  const keyRow = (id: string) =>
    ctx.db.selectFrom('provider_keys').select(['base_url_policy', 'disabled_at', 'disabled_reason']).where('id', '=', id).executeTakeFirstOrThrow();
  const changesOf = async (id: string) => (await ctx.db.selectFrom('change_log').select('topic').where('subject_id', '=', id).execute()).length;

  it('an administrator made a member keeps their personal keys under the member rules: one the allow-list refuses is disabled, saying why', async () => {
    const user = await createUserAs(ctx, admin, { email: 'dana@example.com', password: 'dana long password', role: 'admin' });
    const dana = (await userActor(ctx.db, user, '192.0.2.1'))!;
    const loopback = await addKey(ctx, dana, { provider: 'openai', apiKey: 'sk-dana-loopback-0123456789', scope: 'personal', userId: user.id, baseUrl: 'http://127.0.0.1:11434/v1' });
    const official = await addKey(ctx, dana, { provider: 'openai', apiKey: 'sk-dana-official-0123456789', scope: 'personal', userId: user.id });
    expect([loopback.base_url_policy, official.base_url_policy]).toEqual(['any', 'any']);
    const published = [await changesOf(loopback.id), await changesOf(official.id)];

    await setUserRole(ctx, admin, user.id, 'member');

    const refused = await keyRow(loopback.id);
    expect(refused).toMatchObject({ base_url_policy: 'member', disabled_reason: expect.stringContaining('its owner is no longer an administrator') });
    expect(refused.disabled_at).not.toBeNull();
    expect(refused.disabled_reason).toContain('"127.0.0.1:11434" is neither');
    expect(await keyRow(official.id)).toEqual({ base_url_policy: 'member', disabled_at: null, disabled_reason: null });
    // Published for the routers' key caches, and audited one event per key.
    expect([await changesOf(loopback.id), await changesOf(official.id)]).toEqual([published[0]! + 1, published[1]! + 1]);
    const audited = await ctx.db.selectFrom('audit_log').selectAll().where('target_id', 'in', [loopback.id, official.id]).where('action', '!=', 'key.added').execute();
    expect(audited.map((e) => [e.target_id, e.action, e.actor_label])).toEqual(
      expect.arrayContaining([
        [loopback.id, 'key.disabled', 'admin CLI'],
        [official.id, 'key.member_rules', 'admin CLI'],
      ]),
    );
    expect(audited).toHaveLength(2);
    expect(audited.find((e) => e.target_id === loopback.id)?.detail).toContain('http://127.0.0.1:11434/v1');
    // As a member now, Enable checks the base URL like any member's key.
    const danaNow = (await userActor(ctx.db, user, '192.0.2.1'))!;
    await expect(setKeyDisabled(ctx, danaNow, loopback.id, false)).rejects.toMatchObject({ code: 'base_url_not_allowed' });
  });

  it('an administrator’s Disable of a member’s key holds against the member’s Enable; an administrator’s Enable ends it', async () => {
    const erin = await member('erin@example.com');
    const key = await addKey(ctx, erin, { provider: 'openai', apiKey: 'sk-erin-0123456789abcdef', scope: 'personal' });
    await setKeyDisabled(ctx, admin, key.id, true);
    expect(await keyRow(key.id)).toMatchObject({ disabled_reason: DISABLED_BY_ADMIN });
    const refusal = { code: 'key_disabled_by_admin', status: 409, message: 'An administrator disabled this key: ask an administrator to enable it again.' };
    await expect(setKeyDisabled(ctx, erin, key.id, false)).rejects.toMatchObject(refusal);
    // Disabling it again herself does not wipe the administrator's reason.
    await setKeyDisabled(ctx, erin, key.id, true);
    await expect(setKeyDisabled(ctx, erin, key.id, false)).rejects.toMatchObject(refusal);
    expect((await keyRow(key.id)).disabled_at).not.toBeNull();

    await setKeyDisabled(ctx, admin, key.id, false);
    expect(await keyRow(key.id)).toMatchObject({ disabled_at: null, disabled_reason: null });
    // Her own Disable stays hers to undo.
    await setKeyDisabled(ctx, erin, key.id, true);
    expect((await keyRow(key.id)).disabled_reason).toBeNull();
    await setKeyDisabled(ctx, erin, key.id, false);
    expect((await keyRow(key.id)).disabled_at).toBeNull();
  });

  it('removing someone who is not in the team is refused (404) and audits nothing; a real removal is audited once', async () => {
    const team = await createTeamAs(ctx, admin, 'Removals');
    const removals = () => ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'team.member_removed').where('target_id', '=', team.id).execute();
    const notInTeam = { code: 'team_member_not_found', status: 404 };
    await expect(removeTeamMemberAs(ctx, admin, team.id, 'a5a5a5a5-0000-4000-8000-000000000000')).rejects.toMatchObject(notInTeam);
    await expect(removeTeamMemberAs(ctx, admin, team.id, alice.userId!)).rejects.toMatchObject(notInTeam);
    expect(await removals()).toEqual([]);

    await addTeamMemberAs(ctx, admin, team.id, alice.userId!);
    await removeTeamMemberAs(ctx, admin, team.id, alice.userId!);
    await expect(removeTeamMemberAs(ctx, admin, team.id, alice.userId!)).rejects.toMatchObject(notInTeam);
    const entries = await removals();
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ actor_label: 'admin CLI', target_label: 'Removals', detail: 'alice@example.com' });
  });

  it('a client may use organization and team keys, never a person’s own key', async () => {
    const teamKey = await addKey(ctx, admin, { provider: 'openai', apiKey: 'sk-team-a-for-clients-0123456789', scope: 'team', teamId: teamA });
    const alicesOwn = await addKey(ctx, alice, { provider: 'openai', apiKey: 'sk-alice-own-account-0123456789', scope: 'personal' });
    const before = (await ctx.db.selectFrom('oauth_clients').select('client_id').execute()).length;
    await expect(createClientAs(ctx, admin, { name: 'batch', proxyIds: [tp.defaultProxyId], keyIds: [teamKey.id, alicesOwn.id] })).rejects.toMatchObject({
      code: 'invalid_key',
      status: 400,
      message: `provider key "${alicesOwn.id}" is someone's personal key: a client may use organization and team keys only`,
    });
    expect(await ctx.db.selectFrom('oauth_clients').select('client_id').execute()).toHaveLength(before);
    const created = await createClientAs(ctx, admin, { name: 'batch', proxyIds: [tp.defaultProxyId], keyIds: [teamKey.id] });
    const row = await ctx.db.selectFrom('oauth_clients').select('key_ids_json').where('client_id', '=', created.client_id).executeTakeFirstOrThrow();
    expect(JSON.parse(row.key_ids_json!)).toEqual([teamKey.id]);
  });
});
