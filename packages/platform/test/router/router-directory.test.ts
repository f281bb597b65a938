// The router's cache of proxies keeps the ones that exist: a caller naming made-up proxy ids gets
// 404s without growing it. A refused caller's burst shares one re-read of their access.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { addTeamMember, createTeam } from '../../src/accounts/teams.js';
import { addMembership, findPrimaryOrganization } from '../../src/accounts/organizations.js';
import { createUser } from '../../src/accounts/users.js';
import { RouterDirectory } from '../../src/router/access/router-directory.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';

let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform();
});
afterAll(async () => {
  await t?.close();
});

describe('router directory: proxies', () => {
  it('keeps no entry for ids that name no proxy', async () => {
    const directory = new RouterDirectory(t.platform.ctx.db, t.platform.ctx.changes);
    for (let i = 0; i < 50; i++) expect(await directory.proxy(randomUUID())).toBeUndefined();
    expect(directory.cachedProxyCount).toBe(0);
    expect((await directory.proxy(t.defaultProxyId))?.id).toBe(t.defaultProxyId);
    expect(directory.cachedProxyCount).toBe(1);
  });
});

describe('router directory: people', () => {
  it('refusals that arrive together share one re-read; a re-read after it reads again and sees a change', async () => {
    const { db, changes } = t.platform.ctx;
    const directory = new RouterDirectory(db, changes);
    const user = await createUser(db, { email: 'burst@example.com', password: 'a long enough test password' });
    const org = await findPrimaryOrganization(db);
    await addMembership(db, org!.id, user.id, 'member');
    const team = await createTeam(db, org!.id, 'burst team');
    const loads = vi.spyOn(directory as unknown as { loadUser: (id: string) => Promise<unknown> }, 'loadUser');

    expect((await directory.userAccess(user.id)).teamIds.has(team.id)).toBe(false);
    expect(loads).toHaveBeenCalledTimes(1);
    // Twenty refused calls at once, each asking for a fresh read: one read.
    const burst = await Promise.all(Array.from({ length: 20 }, () => directory.userAccess(user.id, true)));
    expect(burst.every((access) => !access.teamIds.has(team.id))).toBe(true);
    expect(loads).toHaveBeenCalledTimes(2);

    // Added a moment later (no change notice reaches this directory): the next fresh read sees it.
    await addTeamMember(db, team.id, user.id);
    expect((await directory.userAccess(user.id, true)).teamIds.has(team.id)).toBe(true);
    expect(loads).toHaveBeenCalledTimes(3);
  });
});
