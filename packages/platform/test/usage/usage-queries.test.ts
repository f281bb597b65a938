// The usage service: what each actor may see, and the range and filters, on both engines.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorActor } from '../../src/accounts/actors.js';
import type { Actor } from '../../src/access/actor.js';
import { DAY_MS, listUsage, summarizeUsage, topUsage, usageByApp, usageByDay, usageFilterChoices, usageTotals } from '../../src/usage/usage-queries.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { actorFor, addApp, addPerson, addUsage } from './support/usage-fixtures.js';

let tp: TestPlatform;
let admin: Actor;
let member: Actor;
let other: Actor;
let notesApp: string;
let chatApp: string;
const now = Date.now();
const today = Math.floor(now / DAY_MS) * DAY_MS;
const range = { from: today - 29 * DAY_MS, to: today + DAY_MS };

beforeAll(async () => {
  tp = await startTestPlatform();
  admin = await actorFor(tp, tp.admin.email);
  await addPerson(tp, 'member@example.com');
  await addPerson(tp, 'other@example.com');
  member = await actorFor(tp, 'member@example.com');
  other = await actorFor(tp, 'other@example.com');
  notesApp = await addApp(tp, 'Notes');
  chatApp = await addApp(tp, 'Chat');
  // member: 3 calls today (one failed), 1 ten days ago, 1 forty days ago (outside the range)
  await addUsage(tp, { userId: member.userId, clientId: notesApp, inputTokens: 100, outputTokens: 10 });
  await addUsage(tp, { userId: member.userId, clientId: notesApp, inputTokens: 50, outputTokens: 5, provider: 'anthropic', model: 'claude-sonnet-4-5' });
  await addUsage(tp, { userId: member.userId, clientId: chatApp, inputTokens: 1, outputTokens: 0, outcome: 'upstream_error', status: 502 });
  await addUsage(tp, { userId: member.userId, clientId: notesApp, createdAt: now - 10 * DAY_MS, inputTokens: 7, outputTokens: 3 });
  await addUsage(tp, { userId: member.userId, clientId: notesApp, createdAt: now - 40 * DAY_MS, inputTokens: 1000, outputTokens: 1000 });
  // other member: 2 calls today
  await addUsage(tp, { userId: other.userId, clientId: chatApp, inputTokens: 20, outputTokens: 2 });
  await addUsage(tp, { userId: other.userId, clientId: chatApp, inputTokens: 20, outputTokens: 2, proxyId: null });
  // a member refused before any proxy was known (no organization on the record)
  await addUsage(tp, { userId: other.userId, organizationId: null, proxyId: null, provider: null, model: null, outcome: 'rejected', status: 403, inputTokens: null, outputTokens: null });
  // another organization's call: nobody here sees it
  await addUsage(tp, { userId: randomUUID(), organizationId: randomUUID(), inputTokens: 9999, outputTokens: 9999 });
}, 60_000);
afterAll(() => tp?.close());

describe('who sees what', () => {
  it('an administrator sees the organization, including members refused before a proxy, not other organizations', async () => {
    expect(await usageTotals(tp.platform.ctx.db, admin, range)).toEqual({ calls: 7, failed: 2, inputTokens: 198, outputTokens: 22 });
  });

  it('a member sees only their own calls', async () => {
    expect(await usageTotals(tp.platform.ctx.db, member, range)).toEqual({ calls: 4, failed: 1, inputTokens: 158, outputTokens: 18 });
    const { rows } = await listUsage(tp.platform.ctx.db, member, range, { limit: 100, offset: 0 });
    expect(rows.map((r) => r.userId)).toEqual(Array(4).fill(member.userId));
  });

  it("a member asking for someone else's calls gets none", async () => {
    expect((await usageTotals(tp.platform.ctx.db, member, { ...range, userId: other.userId! })).calls).toBe(0);
  });

  it('the admin CLI acts as an administrator', async () => {
    const rows = await summarizeUsage(tp.platform.ctx.db, await operatorActor(tp.platform.ctx.db), range);
    expect(rows.reduce((n, r) => n + r.calls, 0)).toBe(7);
  });

  it('filter choices list only what the actor may see', async () => {
    const choices = await usageFilterChoices(tp.platform.ctx.db, member, range);
    expect(choices.users).toEqual([]);
    expect(choices.apps.map((a) => a.label).sort()).toEqual(['Chat', 'Notes']);
    expect(choices.models.sort()).toEqual(['claude-sonnet-4-5', 'gpt-4o-mini']);
    const adminChoices = await usageFilterChoices(tp.platform.ctx.db, admin, range);
    expect(adminChoices.users.map((u) => u.label).sort()).toEqual(['member@example.com', 'other@example.com']);
  });
});

describe('range and filters', () => {
  it('the range is [from, to): older calls and later ones are left out', async () => {
    expect((await usageTotals(tp.platform.ctx.db, member, { from: today, to: today + DAY_MS })).calls).toBe(3);
    expect((await usageTotals(tp.platform.ctx.db, member, { from: today - 60 * DAY_MS, to: today })).calls).toBe(2);
  });

  it('filters by user, app, proxy, provider, model and outcome', async () => {
    const db = tp.platform.ctx.db;
    expect((await usageTotals(db, admin, { ...range, userId: other.userId! })).calls).toBe(3);
    expect((await usageTotals(db, admin, { ...range, clientId: chatApp })).calls).toBe(3);
    expect((await usageTotals(db, admin, { ...range, proxyId: tp.defaultProxyId })).calls).toBe(5);
    expect((await usageTotals(db, admin, { ...range, provider: 'anthropic' })).calls).toBe(1);
    expect((await usageTotals(db, admin, { ...range, model: 'gpt-4o-mini' })).calls).toBe(5);
    expect((await usageTotals(db, admin, { ...range, outcome: 'upstream_error' })).calls).toBe(1);
    expect((await usageTotals(db, admin, { ...range, clientId: notesApp, provider: 'openai' })).calls).toBe(2);
  });

  it('pages newest first, with more when another page follows', async () => {
    const db = tp.platform.ctx.db;
    const first = await listUsage(db, admin, range, { limit: 4, offset: 0 });
    const second = await listUsage(db, admin, range, { limit: 4, offset: 4 });
    expect(first.rows).toHaveLength(4);
    expect(first.more).toBe(true);
    expect(second.rows).toHaveLength(3);
    expect(second.more).toBe(false);
    const times = [...first.rows, ...second.rows].map((r) => r.createdAt);
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect([...first.rows, ...second.rows].find((r) => r.clientId === notesApp)).toMatchObject({ appName: 'Notes', userEmail: 'member@example.com' });
  });

  it('sums per UTC day and ranks users, apps and models', async () => {
    const db = tp.platform.ctx.db;
    const days = await usageByDay(db, member, range);
    expect(days.map((d) => [d.day, d.calls])).toEqual([
      [Math.floor((now - 10 * DAY_MS) / DAY_MS) * DAY_MS, 1],
      [today, 3],
    ]);
    expect((await topUsage(db, admin, range, 'user'))[0]).toMatchObject({ label: 'member@example.com', calls: 4 });
    const apps = await topUsage(db, admin, range, 'app');
    expect(apps.map((r) => [r.label, r.calls]).sort()).toEqual([
      ['Chat', 3],
      ['Notes', 3],
      ['no app', 1],
    ]);
    expect((await topUsage(db, member, range, 'model'))[0]).toMatchObject({ key: 'openai:gpt-4o-mini', calls: 3 });
    const byApp = await usageByApp(db, member, range);
    expect(byApp.get(notesApp)).toMatchObject({ calls: 3, inputTokens: 157 });
  });
});
