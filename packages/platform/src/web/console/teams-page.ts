// /console/teams (administrators): teams and their members. Team keys and proxies serve a team's
// members only.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { addTeamMemberAs, createTeamAs, removeTeamMemberAs, teamsWithMembers } from '../../accounts/team-management.js';
import { listMembers } from '../../accounts/user-management.js';
import type { AppContext } from '../../app-context.js';
import { KeywardError } from '../../errors.js';
import { html, type RawHtml } from '../html.js';
import { actionButton, actorOf, csrfField, doneText, fieldError, formFields, paginate, pageNumber, renderConsolePage } from './console-page.js';
import { CONSOLE_PATHS } from './paths.js';

const PATH = CONSOLE_PATHS.teams;

const DONE: Record<string, string> = { created: 'Team created.', added: 'Member added.', removed: 'Member removed.' };

async function render(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, form?: { values: Record<string, string>; errors: Record<string, string> }) {
  const actor = actorOf(request);
  const teams = await teamsWithMembers(ctx.db, actor);
  const people = (await listMembers(ctx.db, actor)).filter((u) => u.disabled_at === null);
  const { rows, pager } = paginate(teams, pageNumber(request.query), PATH);
  const done = doneText(DONE, (request.query as { done?: string }).done);
  const errors = form?.errors ?? {};
  const body = (csrf: string): RawHtml => html`
<h1>Teams</h1>
<p class="lead">A team’s keys and proxies serve its members only.</p>
${done ? html`<div class="notice ok" role="status">${done}</div>` : ''}
${errors.form ? html`<div class="notice error" role="alert">${errors.form}</div>` : ''}
<section><h2 id="create-team">Create a team</h2>
<form class="stack" method="post" action="${PATH}" novalidate>${csrfField(csrf)}
<label for="name">Name</label><input id="name" name="name" type="text" maxlength="200" value="${form?.values.name ?? ''}">${fieldError('name', errors.name)}
<button class="primary block" type="submit">Create team</button></form></section>
${rows.length === 0
    ? html`<p class="empty">No teams yet. Create one above, then add members to it.</p>`
    : rows.map(
        (team) => html`<section data-team-id="${team.id}"><h2 id="team-${team.id}">${team.name}</h2>
${team.members.length === 0
          ? html`<p class="empty">No members yet: add someone below.</p>`
          : html`<table><thead><tr><th>Member</th><th>Actions</th></tr></thead><tbody>${team.members.map(
              (m) => html`<tr><td>${m.email}</td><td>${actionButton(csrf, `${PATH}/${encodeURIComponent(team.id)}/remove`, 'Remove', { danger: true, fields: { user: m.id } })}</td></tr>`,
            )}</tbody></table>`}
<form class="stack" method="post" action="${PATH}/${encodeURIComponent(team.id)}/members">${csrfField(csrf)}
<label for="member-${team.id}">Member</label><select id="member-${team.id}" name="user">${people
          .filter((p) => !team.members.some((m) => m.id === p.id))
          .map((p) => html`<option value="${p.id}">${p.email}</option>`)}</select>
<button class="secondary" type="submit">Add member</button></form></section>`,
      )}
${pager}`;
  return renderConsolePage(ctx, request, reply, actor, { title: 'Teams', section: 'teams', body, status: form ? 400 : 200 });
}

export async function teamsPage(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const config = { section: 'teams' as const, adminOnly: true };
  app.get(PATH, { config }, (request, reply) => render(ctx, request, reply));
  app.post(PATH, { config }, async (request, reply) => {
    const form = formFields(request.body);
    try {
      await createTeamAs(ctx, actorOf(request), form.name ?? '');
    } catch (error) {
      if (!(error instanceof KeywardError) || error.status === 403) throw error;
      return render(ctx, request, reply, { values: form, errors: { name: error.message } });
    }
    return reply.redirect(`${PATH}?done=created`, 303);
  });
  app.post<{ Params: { id: string } }>(`${PATH}/:id/members`, { config }, async (request, reply) => {
    const form = formFields(request.body);
    try {
      await addTeamMemberAs(ctx, actorOf(request), request.params.id, form.user ?? '');
    } catch (error) {
      if (!(error instanceof KeywardError) || error.status === 403) throw error;
      return render(ctx, request, reply, { values: {}, errors: { form: error.message } });
    }
    return reply.redirect(`${PATH}?done=added`, 303);
  });
  app.post<{ Params: { id: string } }>(`${PATH}/:id/remove`, { config }, async (request, reply) => {
    try {
      await removeTeamMemberAs(ctx, actorOf(request), request.params.id, formFields(request.body).user ?? '');
    } catch (error) {
      // Someone not (or no longer) in the team: said in words, nothing removed.
      if (!(error instanceof KeywardError) || error.status === 403) throw error;
      return render(ctx, request, reply, { values: {}, errors: { form: error.message } });
    }
    return reply.redirect(`${PATH}?done=removed`, 303);
  });
}
