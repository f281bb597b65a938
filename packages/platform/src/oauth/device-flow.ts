// The device authorization grant (RFC 8628) for CLIs and agents that cannot receive a redirect.
// oidc-provider runs the protocol (features.deviceFlow); this file holds Keyward's pages for it
// and the two things oidc-provider leaves out: the polling `interval` and `slow_down`.

import type { IncomingMessage } from 'node:http';
import type { Kysely } from 'kysely';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../config.js';
import type { Database } from '../db/schema.js';
import { html, type RawHtml } from '../web/html.js';
import { layout, pageHeaders } from '../web/layout.js';
import { CONNECTED_APPS_PATH, DEVICE_CODE_GRANT_TYPE, DEVICE_PATH } from './paths.js';
import './tables.js';

/** Codes people type from a terminal: no vowels or look-alikes (oidc-provider's base-20), 8 letters. */
const USER_CODE = { charset: 'base-20', mask: '****-****' } as const;

/** A poll counts as on time if it comes after this share of the interval (clocks and networks jitter). */
const POLL_SLACK = 0.8;

// The user code from verification_uri_complete, held for the input form: oidc-provider would
// auto-submit it with an inline script, which Keyward's CSP forbids (and RFC 8628 §5.4 wants the
// user to look at the code first anyway).
const codeFromLink = new WeakMap<IncomingMessage, string>();

export function prefillUserCode(request: IncomingMessage, userCode: string): void {
  codeFromLink.set(request, userCode.slice(0, 32));
}

function sendDevicePage(context: KoaContextWithOIDC, title: string, body: RawHtml, status?: number) {
  if (status) context.status = status;
  for (const [name, value] of Object.entries(pageHeaders())) context.set(name, value);
  context.body = layout({ title, body });
}

const appName = (client: { clientName?: string; clientId: string } | undefined) => client?.clientName || client?.clientId || 'The app';

/** What went wrong with an entered code, in words; oidc-provider names its errors by class. */
function problem(err: Error | undefined, out: { error?: string; error_description?: string } | undefined) {
  switch (err?.name) {
    case undefined:
      return undefined;
    case 'NoCodeError':
      return { status: 400, title: 'Enter the code', message: 'Type the code your device shows, then press Continue.' };
    case 'NotFoundError':
      return { status: 400, title: 'That code is not right', message: 'No device is waiting for that code. Check the code your device shows and type it again.' };
    case 'ExpiredError':
      return { status: 400, title: 'That code has expired', message: 'Codes last a few minutes. Start again on your device to get a new code.' };
    case 'AlreadyUsedError':
      return { status: 400, title: 'That code was already used', message: 'Each code works once. Start again on your device to get a new code.' };
    case 'AbortedError':
      return { status: 200, title: 'Access denied', message: 'You did not allow the device. Nothing was shared with it; you can close this page.' };
    default:
      return {
        status: undefined,
        title: 'This code could not be used',
        message: `${out?.error_description ?? out?.error ?? 'Something went wrong'}. Start again on your device.`,
      };
  }
}

/** The form that asks for the user code; it confirms at once, because the consent page that follows names the app. */
function userCodeForm(secret: string, userCode: string | undefined) {
  return html`
<form method="post" action="${DEVICE_PATH}" novalidate>
  <input type="hidden" name="xsrf" value="${secret}">
  <input type="hidden" name="confirm" value="yes">
  <label for="user_code">Code</label>
  <input id="user_code" name="user_code" type="text" autocomplete="off" autocapitalize="characters" spellcheck="false" placeholder="XXXX-XXXX" required autofocus value="${userCode ?? ''}">
  <button class="primary block" type="submit">Continue</button>
</form>`;
}

type DeviceFlowFeature = {
  enabled: true;
  charset: 'base-20';
  mask: string;
  userCodeInputSource: (context: KoaContextWithOIDC, form: string, out?: any, err?: Error & { userCode?: string }) => Promise<void>;
  userCodeConfirmSource: (context: KoaContextWithOIDC, form: string, client: any, deviceInfo: unknown, userCode: string) => Promise<void>;
  successSource: (context: KoaContextWithOIDC) => Promise<void>;
};

/** oidc-provider's `features.deviceFlow`, with Keyward's pages. */
export function deviceFlowFeature(): DeviceFlowFeature {
  return {
    enabled: true,
    ...USER_CODE,
    async userCodeInputSource(context, _form, out, err) {
      const secret = String(context.oidc.session?.state?.secret ?? '');
      const shown = problem(err, out);
      const userCode = err?.userCode ?? codeFromLink.get(context.req);
      const body = shown
        ? html`
<h1>${shown.title}</h1>
<div class="notice ${err?.name === 'AbortedError' ? 'warning' : 'error'}" role="alert">${shown.message}</div>
${err?.name === 'AbortedError' ? html`<p>To connect a device after all, enter its code:</p>` : ''}
${userCodeForm(secret, err?.name === 'AbortedError' ? undefined : userCode)}`
        : html`
<h1>Connect a device</h1>
<p class="lead">Enter the code shown by the command-line tool or agent you want to connect to Keyward.</p>
${userCodeForm(secret, userCode)}
<p class="fine">Only enter a code you got from a device you are using right now.</p>`;
      sendDevicePage(context, shown?.title ?? 'Connect a device', body, shown?.status);
    },
    // Reached only by a form that did not confirm (Keyward's own input form always does).
    async userCodeConfirmSource(context, _form, client, _deviceInfo, userCode) {
      const secret = String(context.oidc.session?.state?.secret ?? '');
      const body = html`
<h1>Connect ${appName(client)}?</h1>
<p class="lead">Check that your device shows this code:</p>
<p class="user-code"><strong>${userCode}</strong></p>
<form method="post" action="${DEVICE_PATH}">
  <input type="hidden" name="xsrf" value="${secret}">
  <input type="hidden" name="user_code" value="${userCode}">
  <div class="actions">
    <button class="primary" type="submit" name="confirm" value="yes">Continue</button>
    <button class="secondary" type="submit" name="abort" value="yes">Cancel</button>
  </div>
</form>`;
      sendDevicePage(context, `Connect ${appName(client)}?`, body);
    },
    async successSource(context) {
      const name = appName(context.oidc.client);
      const body = html`
<h1>Device connected</h1>
<div class="notice ok" role="status"><strong>${name}</strong> can now use Keyward as you.</div>
<p>Go back to your device: it continues on its own. You can close this page.</p>
<p class="fine">You can disconnect it later under <a href="${CONNECTED_APPS_PATH}">Connected apps</a>.</p>`;
      sendDevicePage(context, 'Device connected', body);
    },
  };
}

/**
 * Records a poll of the token endpoint for a device code; false when it came sooner than the
 * interval after the previous one. One conditional UPDATE, so instances sharing PostgreSQL agree.
 */
export async function recordDevicePoll(db: Kysely<Database>, deviceCode: string, intervalSeconds: number): Promise<boolean> {
  const now = Date.now();
  if (deviceCode.length > 200) return true;
  const result = await db
    .updateTable('oauth_payloads')
    .set({ last_used_at: now })
    .where('model', '=', 'DeviceCode')
    .where('id', '=', deviceCode)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<=', now - intervalSeconds * 1000 * POLL_SLACK)]))
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) > 0) return true;
  // No row: not a code of ours, and oidc-provider has already said so.
  const row = await db.selectFrom('oauth_payloads').select('id').where('model', '=', 'DeviceCode').where('id', '=', deviceCode).executeTakeFirst();
  return row === undefined;
}

/**
 * oidc-provider middleware: advertises the polling interval in the device authorization response
 * (RFC 8628 §3.2) and answers `slow_down` (§3.5) to a poll that comes too soon while the user has
 * not decided yet. oidc-provider 9 does neither.
 */
export function devicePolling(db: Kysely<Database>, config: Config) {
  const interval = config.devicePollIntervalSeconds;
  return async (context: KoaContextWithOIDC, next: () => Promise<void>) => {
    await next();
    const route = context.oidc?.route;
    if (route === 'device_authorization' && context.status === 200 && context.body && typeof context.body === 'object') {
      context.body = { ...context.body, interval };
      return;
    }
    if (route !== 'token' || context.oidc.body?.grant_type !== DEVICE_CODE_GRANT_TYPE) return;
    const deviceCode = context.oidc.body?.device_code;
    if (typeof deviceCode !== 'string') return;
    const onTime = await recordDevicePoll(db, deviceCode, interval);
    if (!onTime && context.status === 400 && context.body?.error === 'authorization_pending') {
      context.body = { error: 'slow_down', error_description: `poll at most every ${interval} seconds` };
    }
  };
}
