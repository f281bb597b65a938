// What open registration (RFC 7591) accepts: public clients only (authorization code and/or device
// flow), with safe redirect URIs. Kept apart from clients.ts so the admin CLI does not load oidc-provider.

import { errors } from 'oidc-provider';
import { PUBLIC_GRANT_TYPES, redirectUriProblem } from './clients.js';
import { DEVICE_CODE_GRANT_TYPE } from './paths.js';

const invalid = (message: string) => new errors.InvalidClientMetadata(message);

/**
 * oidc-provider's extraClientMetadata validator, run on every client it loads. On the registration
 * endpoint it refuses anything but a public code-flow or device-flow client, naming what it refuses.
 */
export function validateRegistration(ctx: any, key: string, value: unknown, metadata: Record<string, any>): void {
  if (key !== 'keyward_policy') return;
  if (ctx?.oidc?.route !== 'registration') return;
  if (value !== undefined) throw invalid('keyward_policy is not client metadata');
  if (metadata.token_endpoint_auth_method !== 'none') {
    throw invalid('only public clients can register: token_endpoint_auth_method must be "none"');
  }
  if (metadata.client_secret !== undefined || metadata.jwks !== undefined || metadata.jwks_uri !== undefined) {
    throw invalid('public clients have no secret or keys');
  }
  if (Array.isArray(metadata.grant_types)) {
    const refused = metadata.grant_types.filter((g: unknown) => typeof g !== 'string' || !PUBLIC_GRANT_TYPES.has(g));
    if (refused.length) throw invalid(`grant_types may only be ${[...PUBLIC_GRANT_TYPES].join(', ')}, not ${refused.join(', ')}`);
    if (!metadata.grant_types.includes('authorization_code') && !metadata.grant_types.includes(DEVICE_CODE_GRANT_TYPE)) {
      throw invalid(`grant_types must include authorization_code or ${DEVICE_CODE_GRANT_TYPE}`);
    }
  }
  // A device-only client (a CLI) has no redirect and no response type; a code client has exactly "code".
  const codeFlow = !Array.isArray(metadata.grant_types) || metadata.grant_types.includes('authorization_code');
  const responseTypes = Array.isArray(metadata.response_types) ? metadata.response_types : undefined;
  if (codeFlow && responseTypes && (responseTypes.length !== 1 || responseTypes[0] !== 'code')) {
    throw invalid('response_types must be ["code"]');
  }
  if (!codeFlow && responseTypes?.length) throw invalid('a client without authorization_code has no response_types: send []');
  if (Array.isArray(metadata.redirect_uris)) {
    if (metadata.redirect_uris.length > 20) throw invalid('at most 20 redirect_uris');
    for (const uri of metadata.redirect_uris) {
      const problem = redirectUriProblem(uri);
      // InvalidClientMetadata names its reason; "redirect_uris…" makes the code invalid_redirect_uri (RFC 7591 §3.2.2).
      if (problem) throw new errors.InvalidClientMetadata(`redirect_uris: ${problem}`);
    }
  }
  if (typeof metadata.client_name === 'string' && metadata.client_name.length > 200) throw invalid('client_name is too long');
  const nul = Object.keys(metadata).find((name) => holdsNulAnywhere(metadata[name]));
  if (nul) throw invalid(`${nul} holds the character U+0000`);
}

/** Whether a metadata value (a string, or strings in arrays and objects) holds U+0000, which no client can keep. */
function holdsNulAnywhere(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (depth > 5 || typeof value !== 'object' || value === null) return false;
  return Object.values(value).some((inner) => holdsNulAnywhere(inner, depth + 1));
}

