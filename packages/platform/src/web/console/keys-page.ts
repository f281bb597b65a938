// /console/keys: provider keys. Administrators manage every key of the organization; members add
// and manage their personal keys and see, read-only, the org and team keys they may use.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isAdmin, type Actor } from '../../access/actor.js';
import type { AppContext } from '../../app-context.js';
import type { OwnerScope } from '../../db/schema.js';
import { KeywardError } from '../../errors.js';
import { addKey, deleteKey, keysFor, makeKeyPrimary, memberKeyAllowList, rotateKeySecret, setKeyDisabled, setMemberKeyAllowList, testKey } from '../../keys/key-management.js';
import type { ProviderKeySummary } from '../../keys/provider-keys.js';
import { listProviderAdapters } from '../../providers/registry.js';
import { html, type RawHtml } from '../html.js';
import { actionButton, actorOf, csrfField, doneText, fieldError, formFields, formatTime, paginate, pageNumber, renderConsolePage } from './console-page.js';
import { CONSOLE_PATHS } from './paths.js';

const PATH = CONSOLE_PATHS.keys;

const DONE: Record<string, string> = {
  added: 'Key added.',
  primary: 'Key made primary.',
  disabled: 'Key disabled: the router no longer uses it.',
  enabled: 'Key enabled.',
  deleted: 'Key deleted.',
  rotated: 'Secret replaced; the key keeps its place.',
  'allowed-hosts': 'Allowed hosts saved.',
};

/** Tripped when the connection closes before the answer is sent: whoever asked has gone. */
function clientGone(reply: FastifyReply): AbortSignal {
  const gone = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) gone.abort();
  });
  return gone.signal;
}

/** Which add-form field a service error is about. */
const FIELD_OF: Record<string, string> = {
  unknown_provider: 'provider',
  missing_api_key: 'api_key',
  invalid_api_key: 'api_key',
  invalid_base_url: 'base_url',
  base_url_not_allowed: 'base_url',
  missing_base_url: 'base_url',
  invalid_scope: 'scope',
  missing_user: 'scope',
  missing_team: 'team',
  team_not_found: 'team',
};

interface AddFormState {
  values: Record<string, string>;
  errors: Record<string, string>;
}

interface Outcome {
  keyId: string;
  ok: boolean;
  message: string;
}

async function teamNames(ctx: AppContext, actor: Actor): Promise<Map<string, string>> {
  const rows = await ctx.db.selectFrom('teams').select(['id', 'name']).where('organization_id', '=', actor.organizationId).orderBy('name').execute();
  return new Map(rows.map((r) => [r.id, r.name]));
}

async function userEmails(ctx: AppContext, ids: string[]): Promise<Map<string, string>> {
  if (!ids.length) return new Map();
  const rows = await ctx.db.selectFrom('users').select(['id', 'email']).where('id', 'in', ids).execute();
  return new Map(rows.map((r) => [r.id, r.email]));
}

async function renderKeys(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  options: { form?: AddFormState; outcome?: Outcome; status?: number; notice?: string; allowForm?: AddFormState } = {},
) {
  const actor = actorOf(request);
  const admin = isAdmin(actor);
  const view = await keysFor(ctx.db, actor);
  const teams = await teamNames(ctx, actor);
  const owners = await userEmails(ctx, [...new Set(view.manageable.map((k) => k.user_id).filter((id): id is string => id !== null))]);
  const providers = listProviderAdapters();
  const values = options.form?.values ?? {};
  const errors = options.form?.errors ?? {};
  const { rows, pager } = paginate(view.manageable, pageNumber(request.query), PATH);
  const query = request.query as { done?: string; policy_disabled?: string };
  const policyDisabledCount = Number(query.policy_disabled) || 0;
  const done = doneText(DONE, query.done) && policyDisabledCount > 0
    ? `${doneText(DONE, query.done)} ${policyDisabledCount} member key${policyDisabledCount === 1 ? ' was' : 's were'} disabled: the new list no longer allows their base URL.`
    : doneText(DONE, query.done);
  const ownerOf = (k: ProviderKeySummary) =>
    k.scope === 'org' ? 'Organization' : k.scope === 'team' ? `Team ${teams.get(k.team_id ?? '') ?? '—'}` : (owners.get(k.user_id ?? '') ?? 'Personal');
  const scopes: OwnerScope[] = admin ? ['org', 'team', 'personal'] : ['personal'];
  const allowList = await memberKeyAllowList(ctx, actor);
  const allowError = options.allowForm?.errors.allowed_hosts;
  // A member learns here why a key of theirs is off: the base-URL policy, or an administrator (the reason is kept on the key).
  const policyDisabled = admin ? [] : view.manageable.filter((k) => k.disabled_at !== null && k.disabled_reason);
  const body = (csrf: string): RawHtml => html`
<h1>Provider keys</h1>
<p class="lead">${admin
    ? 'The keys the Model Router uses to call providers: for the whole organization, a team, or one person.'
    : 'Bring your own key: your personal keys are used before the organization’s for your calls.'}</p>
${done || options.notice ? html`<div class="notice ok" role="status">${options.notice ?? done}</div>` : ''}
${options.outcome ? html`<div class="notice ${options.outcome.ok ? 'ok' : 'error'}" role="status">${options.outcome.message}</div>` : ''}
${policyDisabled.map((k) => html`<div class="notice error" role="status" data-disabled-key="${k.id}">Your ${k.provider} key${k.last4 ? html` <code>…${k.last4}</code>` : ''} is disabled: ${k.disabled_reason}</div>`)}
<section>
<h2 id="add-key">Add a key</h2>
${errors.form ? html`<div class="notice error" role="alert">${errors.form}</div>` : ''}
<form class="stack" method="post" action="${PATH}" novalidate>
  ${csrfField(csrf)}
  <label for="provider">Provider</label>
  <select id="provider" name="provider">${providers.map(
    (p) => html`<option value="${p.id}"${values.provider === p.id ? ' selected' : ''}>${p.displayName}</option>`,
  )}</select>
  ${fieldError('provider', errors.provider)}
  <label for="api_key">API key</label>
  <input id="api_key" name="api_key" type="password" autocomplete="off" spellcheck="false">
  ${fieldError('api_key', errors.api_key)}
  <label for="base_url">Base URL</label>
  <input id="base_url" name="base_url" type="url" value="${values.base_url ?? ''}" aria-describedby="base_url-hint" placeholder="optional">
  <p class="fine" id="base_url-hint">${admin
    ? 'Optional: leave empty for the provider’s official address; needed for self-hosted servers (Ollama, vLLM).'
    : html`Optional: keys of members may use the provider’s official address${allowList.hosts.length ? html` or these hosts: ${allowList.hosts.join(', ')}` : ''}; leave it empty for the official one.`}</p>
  ${fieldError('base_url', errors.base_url)}
  <label for="scope">Scope</label>
  <select id="scope" name="scope">${scopes.map((s) => html`<option value="${s}"${values.scope === s ? ' selected' : ''}>${s}</option>`)}</select>
  ${fieldError('scope', errors.scope)}
  ${admin
    ? html`<label for="team">Team</label>
  <select id="team" name="team"><option value="">— for team scope —</option>${[...teams].map(
    ([id, name]) => html`<option value="${id}"${values.team === id ? ' selected' : ''}>${name}</option>`,
  )}</select>
  ${fieldError('team', errors.team)}`
    : ''}
  <button class="primary block" type="submit">Add key</button>
</form>
</section>
<section>
<h2 id="your-keys">${admin ? 'Keys of the organization' : 'Your personal keys'}</h2>
${rows.length === 0
    ? html`<p class="empty">No keys yet. Add one above: paste an API key from your provider’s dashboard, then press Test.</p>`
    : html`<div class="table-wrap"><table>
<thead><tr><th>Provider</th><th>Owner</th><th>Key</th><th>Status</th><th>Added</th><th>Actions</th></tr></thead>
<tbody>${rows.map((k) => keyRow(csrf, k, ownerOf(k)))}</tbody>
</table></div>${pager}`}
</section>
${admin
    ? html`<section>
<h2 id="allowed-hosts">Allowed hosts for members’ keys</h2>
<p class="fine">Members’ keys may use a provider’s official endpoint or one of these hosts (<code>host</code> or <code>host:port</code>, comma-separated).
${allowList.source === 'environment' ? 'Now: KEYWARD_KEY_BASE_URL_ALLOW.' : 'Now: the list saved here; leave it empty and save to allow none.'}
Saving disables members’ keys that the new list no longer allows; their owners see why.</p>
<form class="stack" method="post" action="${PATH}/allowed-hosts" novalidate>
  ${csrfField(csrf)}
  <label for="allowed_hosts">Allowed hosts for members’ keys</label>
  <input id="allowed_hosts" name="allowed_hosts" type="text" spellcheck="false" value="${options.allowForm?.values.allowed_hosts ?? allowList.hosts.join(', ')}">
  ${fieldError('allowed_hosts', allowError)}
  <button class="secondary" type="submit">Save allowed hosts</button>
</form>
</section>`
    : html`<section>
<h2 id="shared-keys">Organization and team keys you may use</h2>
${view.usable.length === 0
        ? html`<p class="empty">No organization or team key is available to you. Add a personal key above, or ask an administrator.</p>`
        : html`<div class="table-wrap"><table><thead><tr><th>Provider</th><th>Owner</th><th>Key</th><th>Primary</th></tr></thead><tbody>${view.usable.map(
            (k) => html`<tr><td>${k.provider}</td><td>${ownerOf(k)}</td><td>${k.last4 ? html`<code>…${k.last4}</code>` : '—'}</td><td>${k.is_primary ? 'yes' : 'no'}</td></tr>`,
          )}</tbody></table></div>`}
</section>`}`;
  return renderConsolePage(ctx, request, reply, actor, { title: 'Provider keys', section: 'keys', body, status: options.status ?? 200 });
}

function keyRow(csrf: string, k: ProviderKeySummary, owner: string): RawHtml {
  const base = `${PATH}/${encodeURIComponent(k.id)}`;
  return html`<tr data-key-id="${k.id}">
<td>${k.provider}${k.base_url ? html`<div class="fine">${k.base_url}</div>` : ''}</td>
<td>${owner}</td>
<td>${k.last4 ? html`<code>…${k.last4}</code>` : '—'}</td>
<td>${k.disabled_at ? html`<span class="badge off">disabled</span>` : html`<span class="badge on">enabled</span>`} ${k.is_primary ? html`<span class="badge">primary</span>` : ''}</td>
<td>${formatTime(k.created_at)}</td>
<td><div class="row-actions">
${k.is_primary ? '' : actionButton(csrf, `${base}/primary`, 'Make primary')}
${k.disabled_at ? actionButton(csrf, `${base}/enable`, 'Enable') : actionButton(csrf, `${base}/disable`, 'Disable')}
${actionButton(csrf, `${base}/test`, 'Test')}
${actionButton(csrf, `${base}/delete`, 'Delete', { danger: true })}
</div>
<form class="row-actions" method="post" action="${base}/rotate">${csrfField(csrf)}
<label for="rotate-${k.id}" class="fine">New secret</label>
<input id="rotate-${k.id}" name="api_key" type="password" autocomplete="off">
<button class="secondary" type="submit">Rotate secret</button></form>
</td></tr>`;
}

export async function keysPage(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const config = { section: 'keys' as const };
  app.get(PATH, { config }, (request, reply) => renderKeys(ctx, request, reply));

  app.post(PATH, { config }, async (request, reply) => {
    const actor = actorOf(request);
    const form = formFields(request.body);
    const scope = (form.scope ?? 'personal') as OwnerScope;
    try {
      await addKey(ctx, actor, {
        provider: form.provider ?? '',
        apiKey: form.api_key ?? '',
        baseUrl: form.base_url || undefined,
        scope,
        teamId: scope === 'team' ? form.team || undefined : undefined,
        userId: scope === 'personal' ? (actor.userId ?? undefined) : undefined,
      });
    } catch (error) {
      if (!(error instanceof KeywardError) || error.status === 403) throw error;
      const field = FIELD_OF[error.code] ?? 'form';
      const { api_key: _never, ...values } = form;
      return renderKeys(ctx, request, reply, { form: { values, errors: { [field]: error.message } }, status: 400 });
    }
    return reply.redirect(`${PATH}?done=added`, 303);
  });

  const action = (name: string, run: (actor: ReturnType<typeof actorOf>, id: string, form: Record<string, string>) => Promise<string>) =>
    app.post<{ Params: { id: string } }>(`${PATH}/:id/${name}`, { config }, async (request, reply) => {
      const done = await run(actorOf(request), request.params.id, formFields(request.body));
      return reply.redirect(`${PATH}?done=${done}`, 303);
    });
  action('primary', async (actor, id) => (await makeKeyPrimary(ctx, actor, id), 'primary'));
  action('disable', async (actor, id) => (await setKeyDisabled(ctx, actor, id, true), 'disabled'));
  // A refused Enable (the key's base URL is no longer allowed, or an administrator disabled a member's key) is said in words on the page.
  app.post<{ Params: { id: string } }>(`${PATH}/:id/enable`, { config }, async (request, reply) => {
    try {
      await setKeyDisabled(ctx, actorOf(request), request.params.id, false);
    } catch (error) {
      if (!(error instanceof KeywardError) || error.status === 403 || error.status === 404) throw error;
      return renderKeys(ctx, request, reply, { outcome: { keyId: request.params.id, ok: false, message: error.message }, status: 400 });
    }
    return reply.redirect(`${PATH}?done=enabled`, 303);
  });

  app.post(`${PATH}/allowed-hosts`, { config }, async (request, reply) => {
    const form = formFields(request.body);
    const hosts = form.allowed_hosts ?? '';
    let disabledCount = 0;
    try {
      disabledCount = (await setMemberKeyAllowList(ctx, actorOf(request), hosts)).disabled.length;
    } catch (error) {
      if (!(error instanceof KeywardError) || error.status === 403) throw error;
      return renderKeys(ctx, request, reply, { allowForm: { values: { allowed_hosts: hosts }, errors: { allowed_hosts: error.message } }, status: 400 });
    }
    return reply.redirect(`${PATH}?done=allowed-hosts${disabledCount ? `&policy_disabled=${disabledCount}` : ''}`, 303);
  });
  action('delete', async (actor, id) => (await deleteKey(ctx, actor, id), 'deleted'));
  action('rotate', async (actor, id, form) => (await rotateKeySecret(ctx, actor, id, form.api_key ?? ''), 'rotated'));

  // The outcome of a test is words for this one answer, not a state to come back to.
  app.post<{ Params: { id: string } }>(`${PATH}/:id/test`, { config }, async (request, reply) => {
    const outcome = await testKey(ctx, actorOf(request), request.params.id, clientGone(reply));
    return renderKeys(ctx, request, reply, { outcome: { keyId: request.params.id, ...outcome } });
  });
}
