// RFC 9700 §4.11.2: the authorization server must not become an open redirector. Anyone may
// register an app (RFC 7591) with a redirect URI of their own and then send people a Keyward
// authorize link made to fail (no PKCE challenge, an unknown scope, prompt=none): oidc-provider
// answers such an error by redirecting to the app's URI at once, before anyone has signed in, so a
// link on the organization's own Keyward would land on the attacker's page. Here an error meant
// for a self-registered app is shown on Keyward's own error page instead, unless the person has
// signed in; once they have (consent_required, Deny on the consent page) it goes back to the app as
// RFC 6749 §4.1.2.1 says. Clients an administrator created keep their redirects: their URIs were
// vetted by that administrator.

import type { KoaContextWithOIDC } from 'oidc-provider';
import { isSelfRegisteredClientId } from './clients.js';

export interface AuthorizationErrorOut {
  error: string;
  error_description?: string;
}

/** The five entities oidc-provider's form_post writes (its htmlSafe), read back. */
const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };
const unescapeHtml = (value: string) => value.replace(/&(?:amp|lt|gt|quot|#39);/g, (entity) => ENTITIES[entity]!);

/** The error an authorization response carries to the app (query, fragment or form_post), if any. */
export function errorSentToApp(context: KoaContextWithOIDC): AuthorizationErrorOut | undefined {
  let answer: URLSearchParams | undefined;
  const location = context.response.get('location');
  if (location && context.status >= 300 && context.status < 400) {
    try {
      const url = new URL(location);
      answer = url.hash ? new URLSearchParams(url.hash.slice(1)) : url.searchParams;
    } catch {
      return undefined;
    }
  } else if (typeof context.body === 'string' && context.body.includes('<input type="hidden" name="error"')) {
    // form_post: oidc-provider's auto-submitted form (status 400 for an error), one hidden input per parameter.
    answer = new URLSearchParams([...context.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/>/g)].map((m): [string, string] => [m[1]!, unescapeHtml(m[2]!)]));
  }
  const error = answer?.get('error');
  if (!error) return undefined;
  const description = answer!.get('error_description');
  return description ? { error, error_description: description } : { error };
}

/** Whether an error of the authorization endpoint must stay on Keyward's page rather than go to the app. */
export function holdsErrorRedirect(context: KoaContextWithOIDC): boolean {
  if (context.oidc?.route !== 'authorization') return false;
  const clientId = context.oidc.client?.clientId ?? context.oidc.params?.client_id;
  if (typeof clientId !== 'string' || !isSelfRegisteredClientId(clientId)) return false;
  // No session loaded (the request failed before its session was read): nobody signed in.
  return !context.oidc.session?.accountId;
}
