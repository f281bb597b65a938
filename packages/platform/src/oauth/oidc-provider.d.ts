// The slice of oidc-provider's API Keyward uses (the package ships no types).

declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export type AdapterPayload = Record<string, any> & {
    grantId?: string;
    uid?: string;
    userCode?: string;
    clientId?: string;
    accountId?: string;
    consumed?: number;
  };

  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  /** Koa context with `oidc`; kept loose on purpose. */
  export type KoaContextWithOIDC = any;
  export type Configuration = Record<string, any>;

  export interface InteractionDetails {
    uid: string;
    prompt: { name: string; reasons: string[]; details: Record<string, any> };
    params: Record<string, any>;
    session?: { accountId?: string; uid?: string; cookie?: string };
    grantId?: string;
    lastSubmission?: Record<string, any>;
    returnTo: string;
    /** Set when the interaction is the device flow's (RFC 8628): the device code's id. */
    deviceCode?: string;
    /** When the interaction began and when it expires, in seconds since the epoch. */
    iat: number;
    exp: number;
  }

  export class OIDCProviderError extends Error {
    constructor(status: number, message: string);
    status: number;
    statusCode: number;
    error: string;
    error_description?: string;
    expose: boolean;
  }

  export const errors: {
    OIDCProviderError: typeof OIDCProviderError;
    InvalidClientMetadata: new (description: string, detail?: string) => OIDCProviderError;
    InvalidRedirectUri: new (description: string, detail?: string) => OIDCProviderError;
    InvalidScope: new (description: string, scope?: string, detail?: string) => OIDCProviderError;
    InvalidGrant: new (description?: string, detail?: string) => OIDCProviderError;
    InvalidRequestUri: new (description?: string, detail?: string) => OIDCProviderError;
    InvalidTarget: new (description?: string, detail?: string) => OIDCProviderError;
    UnauthorizedClient: new (description?: string, detail?: string) => OIDCProviderError;
    InvalidClient: new (description?: string, detail?: string) => OIDCProviderError;
    AccessDenied: new (description?: string, detail?: string) => OIDCProviderError;
    [name: string]: any;
  };

  export const interactionPolicy: {
    base(): any[] & { get(name: string): any };
    Prompt: any;
    Check: any;
  };

  export default class Provider {
    constructor(issuer: string, configuration: Configuration);
    issuer: string;
    proxy: boolean;
    /** Koa: how many X-Forwarded-For entries, from the right, are read (0 = all). */
    maxIpsCount: number;
    /** koa's request handler; its promise settles when the request has been handled. */
    callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
    use(middleware: (ctx: KoaContextWithOIDC, next: () => Promise<void>) => Promise<void> | void): void;
    on(event: string, listener: (...args: any[]) => void): this;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
    interactionResult(req: IncomingMessage, res: ServerResponse, result: Record<string, any>, options?: { mergeWithLastSubmission?: boolean }): Promise<string>;
    Grant: any;
    Client: any;
    AccessToken: any;
    RefreshToken: any;
    Interaction: any;
    Session: any;
    [key: string]: any;
  }
}

declare module 'oidc-provider/lib/helpers/als.js' {
  import type { AsyncLocalStorage } from 'node:async_hooks';

  /** The AsyncLocalStorage oidc-provider runs each of its requests in. */
  const providerContext: AsyncLocalStorage<unknown>;
  export default providerContext;
}
