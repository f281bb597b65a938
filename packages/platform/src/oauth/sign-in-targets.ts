// Where a sign-in that is part of an authorization flow may end up. Chromium applies the sign-in
// page's CSP `form-action` to the whole redirect chain after the POST, and when consent is
// already remembered that chain ends at the app's redirect URI: allow exactly its origin.

import type Provider from 'oidc-provider';
import { INTERACTION_PATH } from './paths.js';

const INTERACTION = new RegExp(`^${INTERACTION_PATH}/([A-Za-z0-9_-]{1,100})$`);

export function signInFormTargets(provider: Provider): (returnTo: string) => Promise<string[]> {
  return async (returnTo) => {
    const uid = INTERACTION.exec(returnTo)?.[1];
    if (!uid) return [];
    // oidc-provider created the interaction only after checking redirect_uri against the client.
    const interaction = await provider.Interaction.find(uid);
    const redirectUri = interaction?.params?.redirect_uri;
    if (typeof redirectUri !== 'string') return [];
    try {
      return [new URL(redirectUri).origin];
    } catch {
      return [];
    }
  };
}
