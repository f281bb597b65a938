// Everything OAuth, in the order a sign-in happens. oauth4webapi builds and checks every message;
// this file only decides which message to send when.
import * as oauth from 'oauth4webapi';
import type { ClientStore, RegisteredClient } from './client-store.js';
import { isPlainHttp, type Config } from './config.js';
import { isNetworkError, REQUEST_TIMEOUT_MS } from './network.js';

/** `offline_access` asks for a refresh token, so the user stays signed in past the access token's life. */
export const SCOPE = 'llm:proxy offline_access';
export const APP_NAME = 'Model Router example app';

export interface Tokens {
  accessToken: string;
  refreshToken?: string;
  /** Epoch ms; undefined when Keyward did not say (then only a 401 triggers a refresh). */
  expiresAt?: number;
}

/** What the callback needs to finish a sign-in the browser started. */
export interface PendingSignIn {
  state: string;
  codeVerifier: string;
  clientId: string;
}

export type SignInFailure =
  | 'access_denied' // the user pressed Deny
  | 'authorization_error' // Keyward answered the authorization request with another error
  | 'unknown_state' // no sign-in with this state was started in this browser (or it expired)
  | 'wrong_issuer' // the response names another issuer than ours (RFC 9207 mix-up defence)
  | 'client_unknown' // Keyward no longer knows our client_id; it is forgotten and re-registered
  | 'grant_rejected'; // the code was refused (expired, used twice, wrong verifier)

export class SignInError extends Error {
  constructor(readonly failure: SignInFailure, readonly detail?: string) {
    super(`sign-in failed: ${failure}${detail ? ` (${detail})` : ''}`);
    this.name = 'SignInError';
  }
}

/** Keyward answered a refresh with invalid_grant or invalid_client: the user must sign in again. */
export class SessionEndedError extends Error {
  constructor(detail: string) {
    super(`Keyward session ended: ${detail}`);
    this.name = 'SessionEndedError';
  }
}

/** Keyward could not be reached at all, or answered with a server error. */
export class KeywardUnavailableError extends Error {
  constructor(readonly url: string, options?: { cause?: unknown }) {
    super(`Keyward is unavailable at ${url}`, options);
    this.name = 'KeywardUnavailableError';
  }
}

export class KeywardOAuth {
  private metadata?: oauth.AuthorizationServer;
  private readonly httpOptions: { [oauth.allowInsecureRequests]?: boolean; signal: () => AbortSignal };

  constructor(
    private readonly config: Config,
    private readonly clients: ClientStore,
  ) {
    // oauth4webapi refuses plain http unless told; config only allows http for loopback hosts.
    this.httpOptions = { signal: () => AbortSignal.timeout(REQUEST_TIMEOUT_MS) };
    if (isPlainHttp(config.keywardBaseUrl)) this.httpOptions[oauth.allowInsecureRequests] = true;
  }

  /** Step 1: GET /.well-known/oauth-authorization-server (RFC 8414); the issuer must be KEYWARD_BASE_URL. */
  async discover(): Promise<oauth.AuthorizationServer> {
    if (this.metadata) return this.metadata;
    const issuer = this.config.keywardBaseUrl;
    const response = await this.call(() => oauth.discoveryRequest(issuer, { ...this.httpOptions, algorithm: 'oauth2' }));
    this.metadata = await oauth.processDiscoveryResponse(issuer, response);
    return this.metadata;
  }

  /**
   * Step 2: the client_id, registered once (RFC 7591) and remembered. Before each sign-in the
   * stored registration is read back (RFC 7592) so a Keyward whose database was reset is noticed
   * here, instead of on Keyward's own error page.
   */
  async client(): Promise<oauth.Client> {
    const as = await this.discover();
    const stored = await this.clients.get(as.issuer, this.config.redirectUri);
    if (stored && (await this.stillRegistered(stored))) return { client_id: stored.client_id };
    return { client_id: (await this.register(as)).client_id };
  }

  /** Step 3: the URL the browser is sent to, and what the callback will need to finish. */
  async authorizationUrl(): Promise<{ url: URL; pending: PendingSignIn }> {
    const as = await this.discover();
    const client = await this.client();
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint!);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', client.client_id);
    url.searchParams.set('redirect_uri', this.config.redirectUri);
    url.searchParams.set('scope', SCOPE);
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier));
    url.searchParams.set('code_challenge_method', 'S256');
    url.searchParams.set('state', state);
    return { url, pending: { state, codeVerifier, clientId: client.client_id } };
  }

  /** Step 4: check the callback (state, iss, error) and exchange the code for tokens. */
  async finishSignIn(callback: URL, pending: PendingSignIn): Promise<Tokens> {
    const as = await this.discover();
    const client: oauth.Client = { client_id: pending.clientId };
    let params: URLSearchParams;
    try {
      // Keyward always sends iss (RFC 9207); insist on it even if the metadata forgot to say so.
      params = oauth.validateAuthResponse({ ...as, authorization_response_iss_parameter_supported: true }, client, callback, pending.state);
    } catch (error) {
      if (error instanceof oauth.AuthorizationResponseError) {
        throw new SignInError(error.error === 'access_denied' ? 'access_denied' : 'authorization_error', error.error_description ?? error.error);
      }
      if (error instanceof oauth.OperationProcessingError && /iss/.test(error.message)) {
        throw new SignInError('wrong_issuer', error.message);
      }
      if (error instanceof oauth.OperationProcessingError && /state/.test(error.message)) {
        throw new SignInError('unknown_state', error.message);
      }
      throw error;
    }
    try {
      const response = await this.call(() =>
        oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, this.config.redirectUri, pending.codeVerifier, this.httpOptions),
      );
      return toTokens(await oauth.processAuthorizationCodeResponse(as, client, response));
    } catch (error) {
      if (error instanceof oauth.ResponseBodyError && error.error === 'invalid_client') {
        await this.clients.forget(as.issuer, this.config.redirectUri);
        throw new SignInError('client_unknown', error.error_description);
      }
      if (error instanceof oauth.ResponseBodyError) throw new SignInError('grant_rejected', error.error_description ?? error.error);
      throw error;
    }
  }

  /** A new access token (and, as Keyward rotates them, a new refresh token). */
  async refresh(clientId: string, refreshToken: string): Promise<Tokens> {
    const as = await this.discover();
    const client: oauth.Client = { client_id: clientId };
    try {
      const response = await this.call(() => oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshToken, this.httpOptions));
      const tokens = toTokens(await oauth.processRefreshTokenResponse(as, client, response));
      return { ...tokens, refreshToken: tokens.refreshToken ?? refreshToken };
    } catch (error) {
      if (error instanceof oauth.ResponseBodyError && (error.error === 'invalid_grant' || error.error === 'invalid_client')) {
        if (error.error === 'invalid_client') await this.clients.forget(as.issuer, this.config.redirectUri);
        throw new SessionEndedError(error.error_description ?? error.error);
      }
      throw error;
    }
  }

  /** Sign-out: revoke the refresh token (RFC 7009), which ends the grant; else the access token. */
  async revoke(clientId: string, tokens: Tokens): Promise<void> {
    const as = await this.discover();
    if (!as.revocation_endpoint) return;
    const client: oauth.Client = { client_id: clientId };
    const [token, hint] = tokens.refreshToken ? [tokens.refreshToken, 'refresh_token'] : [tokens.accessToken, 'access_token'];
    const response = await this.call(() =>
      oauth.revocationRequest(as, client, oauth.None(), token, { ...this.httpOptions, additionalParameters: { token_type_hint: hint } }),
    );
    await oauth.processRevocationResponse(response);
  }

  private async register(as: oauth.AuthorizationServer): Promise<RegisteredClient> {
    const response = await this.call(() =>
      oauth.dynamicClientRegistrationRequest(
        as,
        {
          client_name: APP_NAME,
          redirect_uris: [this.config.redirectUri],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'none',
          scope: SCOPE,
        },
        this.httpOptions,
      ),
    );
    const registered = await oauth.processDynamicClientRegistrationResponse(response);
    const client: RegisteredClient = { client_id: registered.client_id, registered_at: new Date().toISOString() };
    if (typeof registered['registration_client_uri'] === 'string') client.registration_client_uri = registered['registration_client_uri'];
    if (typeof registered['registration_access_token'] === 'string') client.registration_access_token = registered['registration_access_token'];
    await this.clients.set(as.issuer, this.config.redirectUri, client);
    console.log(`Registered with Keyward as client ${client.client_id} (saved in ${this.clients.file}).`);
    return client;
  }

  /** RFC 7592 client read; without a registration URI there is nothing to ask, so trust the file. */
  private async stillRegistered(stored: RegisteredClient): Promise<boolean> {
    if (!stored.registration_client_uri || !stored.registration_access_token) return true;
    const response = await this.call(() =>
      fetch(stored.registration_client_uri!, {
        headers: { authorization: `Bearer ${stored.registration_access_token}`, accept: 'application/json' },
        redirect: 'manual',
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      }),
    );
    await response.body?.cancel();
    // 401: the registration access token is unknown, i.e. so is the client. Anything else (a
    // server without the RFC 7592 route answers 404) says nothing either way: keep the saved id.
    if (response.status === 401) {
      console.log(`Keyward no longer knows client ${stored.client_id}; registering again.`);
      return false;
    }
    return true;
  }

  /** Turns "connection refused" and 5xx answers into one error the pages can explain. */
  private async call(send: () => Promise<Response>): Promise<Response> {
    let response: Response;
    try {
      response = await send();
    } catch (error) {
      if (isNetworkError(error)) {
        throw new KeywardUnavailableError(this.config.keywardBaseUrl.href, { cause: error });
      }
      throw error;
    }
    if (response.status >= 500) throw new KeywardUnavailableError(this.config.keywardBaseUrl.href);
    return response;
  }
}

function toTokens(response: oauth.TokenEndpointResponse): Tokens {
  const tokens: Tokens = { accessToken: response.access_token };
  if (response.refresh_token) tokens.refreshToken = response.refresh_token;
  if (typeof response.expires_in === 'number') tokens.expiresAt = Date.now() + response.expires_in * 1000;
  return tokens;
}
