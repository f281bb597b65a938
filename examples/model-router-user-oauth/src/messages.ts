// Every sentence a user may read when something goes wrong, in one place.
import type { SignInFailure } from './keyward-oauth.js';
import type { RouterErrorBody } from './model-router.js';

export const signInMessages: Record<SignInFailure, string> = {
  access_denied: 'You chose not to let this app use Keyward, so nothing was shared. Sign in again whenever you like.',
  authorization_error: 'Keyward could not sign you in.',
  unknown_state: 'This sign-in was not started here, or it took too long. Please sign in again.',
  wrong_issuer: 'The sign-in answer did not come from the Keyward server this app trusts, so it was ignored. Please sign in again.',
  client_unknown: 'Keyward no longer knows this app’s registration. Sign in again and the app will register anew.',
  grant_rejected: 'Keyward refused the sign-in code (it may have expired or been used already). Please sign in again.',
};

export const notices = {
  signedOut: 'You are signed out. The app asked Keyward to revoke its access.',
  signedOutLocally: 'You are signed out of this app. Keyward could not be reached to revoke its access; that access expires on its own.',
  sessionEnded: 'Your Keyward session has ended. Please sign in again.',
  keywardDown: (baseUrl: string) => `Keyward can’t be reached at ${baseUrl}. Is it running? Try again in a moment.`,
  unexpected: 'Something went wrong on the app’s side. The details are in its console.',
};

export type RouterProblemKind =
  | 'session_ended'
  | 'no_provider_key'
  | 'proxy_forbidden'
  | 'limit_reached'
  | 'spending_limit'
  | 'bad_request'
  | 'timeout'
  | 'keyward_down';

export interface RouterProblem {
  kind: RouterProblemKind;
  /** What the page shows. */
  message: string;
  /** Where the user can fix it, shown as a link after the message. */
  link?: { href: string; text: string };
}

/** Turns a Model Router error answer into a sentence, keeping the router's own words as detail. */
export function describeRouterError(status: number, error: RouterErrorBody, context: { model: string; proxyId: string; keywardBaseUrl: string }): RouterProblem {
  const detail = error.message ? ` (Keyward says: ${error.message})` : '';
  const provider = context.model.split(':')[0] ?? context.model;
  if (status === 401) return { kind: 'session_ended', message: notices.sessionEnded };
  if (status === 403) {
    return {
      kind: 'proxy_forbidden',
      message: `Your Keyward account may not use the LLM proxy ${context.proxyId}. Ask an admin for access, or set LLM_PROXY_ID to a proxy you may use.${detail}`,
    };
  }
  if (status === 402) {
    return {
      kind: 'spending_limit',
      message: `A spending limit on Keyward stopped this call.${detail}`,
      link: { href: `${context.keywardBaseUrl.replace(/\/+$/, '')}/account/apps`, text: 'See this app’s spending and change its limit in Keyward' },
    };
  }
  if (status === 429) return { kind: 'limit_reached', message: `You have reached a usage limit on Keyward. Try again later.${detail}` };
  if (status === 400 && /key/i.test(error.code ?? '')) {
    return {
      kind: 'no_provider_key',
      message: `You have no ${provider} key in Keyward for ${context.model}. Add one (or ask an admin for access to one), or pick a model of another provider.${detail}`,
    };
  }
  if (status === 504) return { kind: 'timeout', message: `The model took too long to answer. Try again, or pick another model.${detail}` };
  if (status >= 500) {
    return { kind: 'keyward_down', message: `Keyward or the model provider is having trouble right now (HTTP ${status}). Try again in a moment.${detail}` };
  }
  return { kind: 'bad_request', message: `The Model Router refused the request (HTTP ${status}).${detail}` };
}
