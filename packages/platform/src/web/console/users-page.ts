// /console/users (administrators): create people with a role, change a role, disable and enable.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { issuePasswordLink } from '../../accounts/password-links.js';
import { createUserAs, listMembers, setUserDisabled, setUserRole } from '../../accounts/user-management.js';
import type { AppContext } from '../../app-context.js';
import type { MembershipRole } from '../../db/schema.js';
import { KeywardError } from '../../errors.js';
import { html, type RawHtml } from '../html.js';
import { actionButton, actorOf, csrfField, doneText, fieldError, formFields, formatTime, paginate, pageNumber, renderConsolePage } from './console-page.js';
import { CONSOLE_PATHS } from './paths.js';

const PATH = CONSOLE_PATHS.users;

const DONE: Record<string, string> = {
  created: 'User created. Give them their email and password; they sign in at this site.',
  role: 'Role changed.',
  disabled: 'User disabled: their sessions ended and their apps’ tokens stop working within seconds.',
  enabled: 'User enabled.',
};

const FIELD_OF: Record<string, string> = { invalid_email: 'email', duplicate_email: 'email', weak_password: 'password', invalid_role: 'role' };

interface ShownLink {
  email: string;
  url: string;
  expiresAt: number;
  invite: boolean;
}

async function render(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  form?: { values: Record<string, string>; errors: Record<string, string>; status: number },
  link?: ShownLink,
) {
  const actor = actorOf(request);
  const members = await listMembers(ctx.db, actor);
  const { rows, pager } = paginate(members, pageNumber(request.query), PATH);
  const done = doneText(DONE, (request.query as { done?: string }).done);
  const values = form?.values ?? {};
  const errors = form?.errors ?? {};
  const roles: MembershipRole[] = ['member', 'admin'];
  const body = (csrf: string): RawHtml => html`
<h1>Users</h1>
<p class="lead">Members use the proxies and keys open to them and manage their own keys; administrators govern the organization.</p>
${done ? html`<div class="notice ok" role="status">${done}</div>` : ''}
${errors.form ? html`<div class="notice error" role="alert">${errors.form}</div>` : ''}
${link
    ? html`<div class="notice warn" role="status"><strong>${link.invite ? `Invitation for ${link.email}.` : `Password link for ${link.email}.`}</strong>
Copy this link and give it to them: it is shown only now, works once, and expires ${formatTime(link.expiresAt)}.
<code class="secret" data-field="link">${link.url}</code></div>`
    : ''}
<section><h2 id="create-user">Create a user</h2>
<form class="stack" method="post" action="${PATH}" novalidate>${csrfField(csrf)}
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="off" value="${values.email ?? ''}">${fieldError('email', errors.email)}
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="new-password" aria-describedby="password-hint">
<p class="fine" id="password-hint">Leave it empty to get a one-time invitation link instead, with which they choose their own.</p>${fieldError('password', errors.password)}
<label for="role">Role</label><select id="role" name="role">${roles.map((r) => html`<option value="${r}"${values.role === r ? ' selected' : ''}>${r}</option>`)}</select>${fieldError('role', errors.role)}
<button class="primary block" type="submit">Create user</button></form></section>
<section><h2 id="people">People</h2>
${rows.length === 0
    ? html`<p class="empty">Nobody here yet. Create a user above.</p>`
    : html`<div class="table-wrap"><table><thead><tr><th>Email</th><th>Role</th><th>Status</th><th>Created</th><th>Actions</th></tr></thead><tbody>${rows.map((u) => {
        const base = `${PATH}/${encodeURIComponent(u.id)}`;
        const other: MembershipRole = u.role === 'admin' ? 'member' : 'admin';
        return html`<tr data-user-id="${u.id}"><td>${u.email}</td><td>${u.role}</td>
<td>${u.disabled_at ? html`<span class="badge off">disabled</span>` : html`<span class="badge on">active</span>`}</td><td>${formatTime(u.created_at)}</td>
<td><div class="row-actions">${u.disabled_at ? '' : actionButton(csrf, `${base}/link`, 'Password link')}${actionButton(csrf, `${base}/role`, other === 'admin' ? 'Make admin' : 'Make member', { fields: { role: other } })}${u.id === actor.userId
          ? ''
          : u.disabled_at
            ? actionButton(csrf, `${base}/enable`, 'Enable')
            : actionButton(csrf, `${base}/disable`, 'Disable', { danger: true })}</div></td></tr>`;
      })}</tbody></table></div>${pager}`}
</section>`;
  return renderConsolePage(ctx, request, reply, actor, { title: 'Users', section: 'users', body, status: form?.status ?? 200 });
}

export async function usersPage(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const config = { section: 'users' as const, adminOnly: true };
  app.get(PATH, { config }, (request, reply) => render(ctx, request, reply));

  app.post(PATH, { config }, async (request, reply) => {
    const form = formFields(request.body);
    try {
      const actor = actorOf(request);
      const user = await createUserAs(ctx, actor, { email: form.email ?? '', password: form.password || undefined, role: (form.role ?? 'member') as MembershipRole });
      if (!form.password) {
        const link = await issuePasswordLink({ ...ctx, publicUrl: ctx.config.publicUrl }, actor, user.id, 'invite');
        return render(ctx, request, reply, undefined, { email: user.email, invite: true, ...link });
      }
    } catch (error) {
      if (!(error instanceof KeywardError) || error.status === 403) throw error;
      const { password: _never, ...values } = form;
      return render(ctx, request, reply, { values, errors: { [FIELD_OF[error.code] ?? 'form']: error.message }, status: error.status === 409 ? 409 : 400 });
    }
    return reply.redirect(`${PATH}?done=created`, 303);
  });

  // The link is shown in this one answer only.
  app.post<{ Params: { id: string } }>(`${PATH}/:id/link`, { config }, async (request, reply) => {
    const link = await issuePasswordLink({ ...ctx, publicUrl: ctx.config.publicUrl }, actorOf(request), request.params.id, 'reset');
    const user = await ctx.db.selectFrom('users').select('email').where('id', '=', request.params.id).executeTakeFirstOrThrow();
    return render(ctx, request, reply, undefined, { email: user.email, invite: false, ...link });
  });

  const action = (name: string, run: (actor: ReturnType<typeof actorOf>, id: string, form: Record<string, string>) => Promise<string>) =>
    app.post<{ Params: { id: string } }>(`${PATH}/:id/${name}`, { config }, async (request, reply) => {
      try {
        const done = await run(actorOf(request), request.params.id, formFields(request.body));
        return reply.redirect(`${PATH}?done=${done}`, 303);
      } catch (error) {
        if (!(error instanceof KeywardError) || error.status !== 409) throw error;
        return render(ctx, request, reply, { values: {}, errors: { form: error.message }, status: 409 });
      }
    });
  action('role', async (actor, id, form) => (await setUserRole(ctx, actor, id, form.role ?? ''), 'role'));
  action('disable', async (actor, id) => (await setUserDisabled(ctx, actor, id, true), 'disabled'));
  action('enable', async (actor, id) => (await setUserDisabled(ctx, actor, id, false), 'enabled'));
}
