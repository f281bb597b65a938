// Limits and prices in the console, over HTTP as a browser without script uses them: an admin
// sets limits for each kind of subject (named by name or email), is told next to the field what
// is wrong with a bad one (400, never 500), removes one, sets the rule for unpriced models, sets,
// looks up and removes a price override, every change audited; a member sees, read-only, only the
// limits that bind them with their own spend, and reads the prices.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorActor } from '../../src/accounts/actors.js';
import { addTeamMemberAs, createTeamAs } from '../../src/accounts/team-management.js';
import { createClientAs } from '../../src/oauth/client-management.js';
import { createProxy } from '../../src/proxies/proxy-management.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { addApp, addPerson, addUsage } from '../usage/support/usage-fixtures.js';
import { formToken, page, postForm, signIn, type CookieJar } from './console-session.js';

let tp: TestPlatform;
let admin: CookieJar;
let memberJar: CookieJar;
let member: { id: string; email: string; password: string };
let other: { id: string; email: string };
const ids: Record<string, string | undefined> = {};

beforeAll(async () => {
  tp = await startTestPlatform();
  const ctx = tp.platform.ctx;
  const operator = await operatorActor(ctx.db);
  member = await addPerson(tp, 'casey@example.com');
  other = await addPerson(tp, 'robin@example.com');
  ids.team = (await createTeamAs(ctx, operator, 'Research')).id;
  ids.otherTeam = (await createTeamAs(ctx, operator, 'Sales')).id;
  await addTeamMemberAs(ctx, operator, ids.team, member.id);
  ids.proxy = (await createProxy(ctx, operator, { name: 'Batch proxy' })).id;
  ids.client = (await createClientAs(ctx, operator, { name: 'Nightly job', proxyIds: [ids.proxy] })).client_id;
  ids.app = await addApp(tp, 'Notes app');
  admin = await signIn(tp, tp.admin.email, tp.admin.password);
  memberJar = await signIn(tp, member.email, member.password);
}, 60_000);

afterAll(async () => {
  await tp?.close();
});

const post = async (jar: CookieJar, path: string, fields: Record<string, string>) =>
  postForm(jar, `${tp.url}${path}`, { ...fields, csrf: await formToken(tp, jar) });

/** What the set-limit form sends when a person fills in only some fields. */
const limitForm = (fields: Record<string, string>) => ({
  scope: 'org',
  team: '',
  user: '',
  client: '',
  proxy: '',
  usd: '',
  period: 'day',
  requests_per_minute: '',
  tokens_per_minute: '',
  alert_percent: '',
  ...fields,
});

const rowOf = (html: string, id: string) => new RegExp(`<tr data-limit-id="${id}">[\\s\\S]*?</tr>`).exec(html)?.[0] ?? '';
const limitIds = (html: string) => [...html.matchAll(/<tr data-limit-id="([^"]+)"/g)].map((m) => m[1]!);

/** Sets a limit through the form; the id of the row it added (undefined when it replaced one). */
async function setLimit(fields: Record<string, string>): Promise<string | undefined> {
  const before = new Set(limitIds((await page(admin, `${tp.url}/console/limits`)).text));
  const response = await post(admin, '/console/limits', limitForm(fields));
  expect(response.status, response.text).toBe(303);
  expect(response.location).toBe('/console/limits?done=set');
  const after = limitIds((await page(admin, `${tp.url}/console/limits`)).text);
  return after.find((id) => !before.has(id));
}

describe('/console/limits (admin)', () => {
  it('shows the form with its labelled fields and buttons', async () => {
    const response = await page(admin, `${tp.url}/console/limits`);
    expect(response.status).toBe(200);
    for (const label of ['Scope', 'Team', 'User', 'Client', 'Proxy', 'Amount (USD)', 'Period', 'Requests per minute', 'Tokens per minute', 'Alert at (%)']) {
      expect(response.text).toMatch(new RegExp(`<label for="[a-z_]+">${label.replace(/[()]/g, '\\$&')}</label>`));
    }
    expect(response.text).toContain('>Set limit</button>');
    expect(response.text).toContain('>Save rule</button>');
    expect(response.text).toContain('href="/console/limits" aria-current="page"');
  });

  it('sets limits for each kind of subject; each row names its subject and shows amount, spend, reset, rates and alert', async () => {
    ids.orgLimit = await setLimit({ scope: 'org', usd: '500', period: 'month', alert_percent: '80', team: ids.team! });
    ids.teamLimit = await setLimit({ scope: 'team', team: ids.team!, usd: '50', period: 'week' });
    ids.otherTeamLimit = await setLimit({ scope: 'team', team: ids.otherTeam!, usd: '5', period: 'week' });
    ids.userLimit = await setLimit({ scope: 'user', user: member.email, usd: '5', period: 'day', requests_per_minute: '60' });
    ids.otherUserLimit = await setLimit({ scope: 'user', user: other.email, usd: '7', period: 'day' });
    ids.appLimit = await setLimit({ scope: 'app', user: member.email, client: ids.app!, usd: '2', period: 'month' });
    ids.clientLimit = await setLimit({ scope: 'client', client: ids.client!, tokens_per_minute: '200000' });
    ids.proxyLimit = await setLimit({ scope: 'proxy', proxy: ids.proxy!, usd: '100', period: 'total' });
    const text = (await page(admin, `${tp.url}/console/limits`)).text;
    expect(limitIds(text)).toHaveLength(8);
    const org = rowOf(text, ids.orgLimit!);
    expect(org).toContain('the organization');
    expect(org).toContain('$500.00 per month');
    expect(org).toContain('$0.0000');
    expect(org).toContain('80%');
    const now = new Date();
    expect(org).toContain(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString().slice(0, 10));
    expect(rowOf(text, ids.teamLimit!)).toContain('team Research');
    expect(rowOf(text, ids.userLimit!)).toContain(`user ${member.email}`);
    expect(rowOf(text, ids.userLimit!)).toContain('<td>60</td>');
    expect(rowOf(text, ids.appLimit!)).toContain(`app Notes app for ${member.email}`);
    expect(rowOf(text, ids.clientLimit!)).toContain('client Nightly job');
    expect(rowOf(text, ids.clientLimit!)).toContain('200,000');
    expect(rowOf(text, ids.proxyLimit!)).toContain('proxy Batch proxy');
    expect(rowOf(text, ids.proxyLimit!)).toContain('never (total)');
    for (const id of limitIds(text)) expect(rowOf(text, id)).toContain('>Remove</button>');
  });

  it('setting a subject’s limit again replaces it', async () => {
    expect(await setLimit({ scope: 'user', user: member.email, usd: '6', period: 'day', requests_per_minute: '60' })).toBeUndefined();
    const text = (await page(admin, `${tp.url}/console/limits`)).text;
    expect(limitIds(text)).toHaveLength(8);
    expect(rowOf(text, ids.userLimit!)).toContain('$6.00 per day');
  });

  it.each([
    ['an amount that is not one', { usd: 'five' }, 'usd', /--usd takes an amount in USD/],
    ['a user scope without a user', { scope: 'user' }, 'user', /user limit needs --user/],
    ['an email nobody has', { scope: 'user', user: 'nobody@example.com', usd: '1' }, 'user', /no member of this organization has the email nobody@example\.com/],
    ['an app scope without a client', { scope: 'app', user: 'casey@example.com', usd: '1' }, 'client', /app limit needs --client/],
    ['a client limit on a public app', { scope: 'client', client: ':app', usd: '1' }, 'client', /client limit is for confidential clients/],
    ['a fractional rate', { requests_per_minute: '1.5' }, 'requests_per_minute', /requests per minute must be a positive whole number/],
    ['a rate that is not a number', { tokens_per_minute: 'lots' }, 'tokens_per_minute', /tokens per minute must be a positive whole number/],
    // PostgreSQL's integer columns end at 2^31 - 1: past it the write failed there (a 500).
    ['a rate past 2^31 - 1', { requests_per_minute: '2147483648' }, 'requests_per_minute', /at most 2147483647/],
    ['a token rate past 2^31 - 1', { tokens_per_minute: '5000000000' }, 'tokens_per_minute', /at most 2147483647/],
    // Past 9 million USD a limit's nano-USD would not stay exact in a number.
    ['an amount past 9 million USD', { usd: '9000000.01', period: 'month' }, 'usd', /at most 9000000/],
    ['an alert above 100%', { usd: '1', alert_percent: '150' }, 'alert_percent', /percent from 1 to 100/],
    ['an alert without an amount', { requests_per_minute: '5', alert_percent: '50' }, 'alert_percent', /alert threshold needs --usd/],
    ['nothing to limit', {}, 'usd', /at least one of/],
    ['an unknown scope', { scope: 'galaxy', usd: '1' }, 'scope', /scope must be one of/],
    ['a team that does not exist', { scope: 'team', team: 'no-such-team', usd: '1' }, 'team', /no team &quot;no-such-team&quot;/],
  ])('refuses %s next to its field (400), keeping what was typed', async (_name, fields, field, message) => {
    const filled = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v === ':app' ? ids.app! : v]));
    const response = await post(admin, '/console/limits', limitForm(filled));
    expect(response.status).toBe(400);
    const error = new RegExp(`<p class="field-error" id="${field}-error" role="alert">([^<]*)</p>`).exec(response.text);
    expect(error?.[1]).toMatch(message);
    if (filled.usd) expect(response.text).toContain(`value="${filled.usd}"`);
  });

  it('removes a limit; removing it again is a 404 page, not a 500', async () => {
    const response = await post(admin, `/console/limits/${ids.otherTeamLimit}/remove`, {});
    expect(response.status).toBe(303);
    expect(limitIds((await page(admin, `${tp.url}/console/limits`)).text)).not.toContain(ids.otherTeamLimit);
    expect((await post(admin, `/console/limits/${ids.otherTeamLimit}/remove`, {})).status).toBe(404);
  });

  it('sets the rule for models with no known price; a bad value is a 400', async () => {
    expect((await post(admin, '/console/limits/unpriced', { policy: 'allow' })).status).toBe(303);
    expect((await page(admin, `${tp.url}/console/limits`)).text).toContain('<option value="allow" selected>');
    const org = await tp.platform.ctx.db.selectFrom('organizations').select('unpriced_calls_under_limit').executeTakeFirstOrThrow();
    expect(org.unpriced_calls_under_limit).toBe('allow');
    const bad = await post(admin, '/console/limits/unpriced', { policy: 'maybe' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('id="unpriced_calls-error"');
    expect((await post(admin, '/console/limits/unpriced', { policy: 'refuse' })).status).toBe(303);
  });

  it('every change is in the audit log, naming the subject', async () => {
    const audit = (await page(admin, `${tp.url}/console/audit`)).text;
    for (const action of ['limit.set', 'limit.removed', 'unpriced_policy.set']) expect(audit).toContain(`<code>${action}</code>`);
    expect(audit).toContain('team Sales');
    expect(audit).toContain(`user ${member.email}`);
    expect(audit).toContain('$500 per month, alert at 80%');
  });
});

describe('/console/limits (member)', () => {
  it('lists, read-only, the limits that bind the member, with their own spend', async () => {
    await addUsage(tp, { userId: member.id, costNanoUsd: 1_500_000_000 });
    await addUsage(tp, { userId: other.id, costNanoUsd: 9_000_000_000 });
    const response = await page(memberJar, `${tp.url}/console/limits`);
    expect(response.status).toBe(200);
    const ids_ = limitIds(response.text);
    // The organization's, their team's, their own and their app's, and the proxy's (org proxies are open to every member).
    expect(ids_.sort()).toEqual([ids.orgLimit, ids.teamLimit, ids.userLimit, ids.appLimit, ids.proxyLimit].sort());
    expect(ids_).not.toContain(ids.otherUserLimit);
    expect(ids_).not.toContain(ids.clientLimit);
    // The org limit's "your spend" counts the member's $1.50, not the other person's $9.
    expect(rowOf(response.text, ids.orgLimit!)).toContain('$1.50');
    expect(response.text).not.toContain('$10.50');
    expect(response.text).not.toContain('>Set limit</button>');
    expect(response.text).not.toContain('>Remove</button>');
    expect(response.text).not.toContain(other.email);
  });
});

describe('/console/prices', () => {
  it('an admin sets an override; it is listed and audited', async () => {
    const page_ = await page(admin, `${tp.url}/console/prices`);
    for (const label of ['Provider', 'Model', 'Input USD per million tokens', 'Output USD per million tokens', 'Cache read USD per million tokens', 'Cache write USD per million tokens']) {
      expect(page_.text).toContain(`">${label}</label>`);
    }
    const response = await post(admin, '/console/prices', { provider: 'ollama', model: 'llama3.2', input_usd: '0', output_usd: '0', cache_read_usd: '', cache_write_usd: '' });
    expect(response.status).toBe(303);
    const set = await post(admin, '/console/prices', { provider: 'openai', model: 'ft:gpt-4o-mini:acme', input_usd: '0.3', output_usd: '1.2', cache_read_usd: '0.15', cache_write_usd: '' });
    expect(set.status).toBe(303);
    const text = (await page(admin, `${tp.url}/console/prices?done=set`)).text;
    expect(text).toContain('Price saved');
    expect(text).toMatch(/<tr data-price="openai:ft:gpt-4o-mini:acme">[\s\S]*\$0\.3[\s\S]*\$1\.2[\s\S]*\$0\.15/);
    expect(text).toContain('data-price="ollama:llama3.2"');
    const audit = (await page(admin, `${tp.url}/console/audit`)).text;
    expect(audit).toContain('<code>price.set</code>');
    expect(audit).toContain('openai:ft:gpt-4o-mini:acme');
  });

  it.each([
    ['an input price that is not one', { input_usd: 'cheap' }, 'input_usd', /input price takes USD per million tokens/],
    ['a missing output price', { output_usd: '' }, 'output_usd', /output price takes USD per million tokens/],
    ['a negative cache read price', { cache_read_usd: '-1' }, 'cache_read_usd', /cached-input price/],
    ['a missing model', { model: '' }, 'model', /model must be a model id/],
    ['a provider name with spaces', { provider: 'my provider' }, 'provider', /provider must be a provider name/],
  ])('refuses %s next to its field (400)', async (_name, fields, field, message) => {
    const response = await post(admin, '/console/prices', { provider: 'openai', model: 'x', input_usd: '1', output_usd: '2', cache_read_usd: '', cache_write_usd: '', ...fields });
    expect(response.status).toBe(400);
    expect(new RegExp(`<p class="field-error" id="${field}-error" role="alert">([^<]*)</p>`).exec(response.text)?.[1]).toMatch(message);
  });

  it('looks up what a model costs: override, catalogue, or no known price', async () => {
    const override = (await page(admin, `${tp.url}/console/prices?price_of=${encodeURIComponent('openai:ft:gpt-4o-mini:acme')}`)).text;
    expect(override).toMatch(/data-price-lookup="override">[^]*\$0\.3 in, \$1\.2 out, \$0\.15 cache read per million tokens, from an override/);
    const catalogue = (await page(admin, `${tp.url}/console/prices?price_of=openai:gpt-4o-mini`)).text;
    expect(catalogue).toMatch(/data-price-lookup="catalogue">[^]*\$0\.15 in, \$0\.6 out/);
    const unknown = (await page(admin, `${tp.url}/console/prices?price_of=ollama:mystery`)).text;
    expect(unknown).toContain('data-price-lookup="none"');
    expect(unknown).toContain('no known price');
    expect((await page(admin, `${tp.url}/console/prices?price_of=nocolon`)).text).toContain('id="price_of-error"');
  });

  it('a member reads the prices and looks one up, without the forms', async () => {
    const response = await page(memberJar, `${tp.url}/console/prices?price_of=ollama:llama3.2`);
    expect(response.status).toBe(200);
    expect(response.text).toContain('data-price="ollama:llama3.2"');
    expect(response.text).toContain('data-price-lookup="override"');
    expect(response.text).not.toContain('>Set price</button>');
    expect(response.text).not.toContain('>Remove</button>');
  });

  it('an admin removes an override; it is audited', async () => {
    const response = await post(admin, '/console/prices/remove', { provider: 'ollama', model: 'llama3.2' });
    expect(response.status).toBe(303);
    expect((await page(admin, `${tp.url}/console/prices`)).text).not.toContain('data-price="ollama:llama3.2"');
    expect((await page(admin, `${tp.url}/console/audit`)).text).toContain('<code>price.removed</code>');
  });
});
