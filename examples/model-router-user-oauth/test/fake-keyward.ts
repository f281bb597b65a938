// A stand-in for Keyward in tests: an authorization server and a Model Router on one port,
// recording what the app sends and answering the way the contracts say Keyward answers.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const PROXY_ID = '3f2b8c1e-5d4a-4e2f-9b7c-1a2b3c4d5e6f';

interface IssuedCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface FakeKeyward {
  url: string;
  requests: RecordedRequest[];
  clients: Map<string, { registrationAccessToken: string; redirectUris: string[] }>;
  /** Every access and refresh token ever issued: none may ever reach the browser. */
  issuedTokens: string[];
  validAccessTokens: Set<string>;
  validRefreshTokens: Set<string>;
  revoked: Array<{ token: string; hint: string | null; clientId: string | null }>;
  /** Lifetime of the next access tokens, in seconds. */
  expiresIn: number;
  /** When set, the router answers every call with this status and OpenAI error body. */
  routerFailure?: { status: number; code: string; message: string };
  issueCode(params: URLSearchParams): string;
  requestsTo(path: string): RecordedRequest[];
  close(): Promise<void>;
}

export async function startFakeKeyward(): Promise<FakeKeyward> {
  const codes = new Map<string, IssuedCode>();
  let counter = 0;
  const next = (prefix: string) => `${prefix}-${++counter}-${Math.random().toString(36).slice(2)}`;

  const fake: FakeKeyward = {
    url: '',
    requests: [],
    clients: new Map(),
    issuedTokens: [],
    validAccessTokens: new Set(),
    validRefreshTokens: new Set(),
    revoked: [],
    expiresIn: 3600,
    issueCode(params) {
      const code = next('code');
      codes.set(code, {
        clientId: params.get('client_id')!,
        redirectUri: params.get('redirect_uri')!,
        codeChallenge: params.get('code_challenge')!,
      });
      return code;
    },
    requestsTo(path) {
      return fake.requests.filter((r) => r.path === path);
    },
    close: async () => {},
  };

  function issueTokens(res: ServerResponse): void {
    const accessToken = next('at');
    const refreshToken = next('rt');
    fake.issuedTokens.push(accessToken, refreshToken);
    fake.validAccessTokens.add(accessToken);
    fake.validRefreshTokens.add(refreshToken);
    json(res, 200, { access_token: accessToken, refresh_token: refreshToken, token_type: 'Bearer', expires_in: fake.expiresIn, scope: 'llm:proxy offline_access' });
  }

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', fake.url);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    fake.requests.push({ method: req.method ?? '', path: url.pathname, headers: req.headers, body });
    const form = new URLSearchParams(body);
    const bearer = (req.headers.authorization ?? '').replace(/^Bearer /, '');

    switch (`${req.method} ${url.pathname}`) {
      case 'GET /.well-known/oauth-authorization-server':
        return json(res, 200, {
          issuer: fake.url,
          authorization_endpoint: `${fake.url}/api/auth/oauth2/authorize`,
          token_endpoint: `${fake.url}/api/auth/oauth2/token`,
          registration_endpoint: `${fake.url}/api/auth/oauth2/register`,
          revocation_endpoint: `${fake.url}/api/auth/oauth2/revoke`,
          response_types_supported: ['code'],
          grant_types_supported: ['authorization_code', 'refresh_token'],
          code_challenge_methods_supported: ['S256'],
          token_endpoint_auth_methods_supported: ['none'],
          scopes_supported: ['llm:proxy', 'offline_access'],
          authorization_response_iss_parameter_supported: true,
        });
      case 'GET /api/auth/oauth2/authorize': {
        // The user signs in and presses Allow at once (for tests that drive a real browser).
        const callback = new URL(url.searchParams.get('redirect_uri')!);
        callback.searchParams.set('code', fake.issueCode(url.searchParams));
        callback.searchParams.set('state', url.searchParams.get('state')!);
        callback.searchParams.set('iss', fake.url);
        return void res.writeHead(302, { location: callback.href }).end();
      }
      case 'POST /api/auth/oauth2/register': {
        const metadata = JSON.parse(body) as { redirect_uris: string[] };
        const clientId = next('client');
        const registrationAccessToken = next('rat');
        fake.clients.set(clientId, { registrationAccessToken, redirectUris: metadata.redirect_uris });
        return json(res, 201, {
          ...metadata,
          client_id: clientId,
          registration_client_uri: `${fake.url}/api/auth/oauth2/register/${clientId}`,
          registration_access_token: registrationAccessToken,
        });
      }
      case 'POST /api/auth/oauth2/token': {
        const clientId = form.get('client_id') ?? '';
        if (!fake.clients.has(clientId)) return json(res, 401, { error: 'invalid_client', error_description: 'client not found' });
        if (form.get('grant_type') === 'authorization_code') {
          const issued = codes.get(form.get('code') ?? '');
          codes.delete(form.get('code') ?? '');
          const challenge = createHash('sha256').update(form.get('code_verifier') ?? '').digest('base64url');
          if (!issued || issued.clientId !== clientId || issued.redirectUri !== form.get('redirect_uri') || issued.codeChallenge !== challenge) {
            return json(res, 400, { error: 'invalid_grant', error_description: 'grant request is invalid' });
          }
          return issueTokens(res);
        }
        if (form.get('grant_type') === 'refresh_token') {
          const refreshToken = form.get('refresh_token') ?? '';
          if (!fake.validRefreshTokens.delete(refreshToken)) return json(res, 400, { error: 'invalid_grant', error_description: 'refresh token is invalid' });
          return issueTokens(res);
        }
        return json(res, 400, { error: 'unsupported_grant_type' });
      }
      case 'POST /api/auth/oauth2/revoke':
        fake.revoked.push({ token: form.get('token') ?? '', hint: form.get('token_type_hint'), clientId: form.get('client_id') });
        fake.validRefreshTokens.delete(form.get('token') ?? '');
        fake.validAccessTokens.delete(form.get('token') ?? '');
        return void res.writeHead(200).end();
    }

    const registration = url.pathname.match(/^\/api\/auth\/oauth2\/register\/(.+)$/);
    if (req.method === 'GET' && registration) {
      const client = fake.clients.get(decodeURIComponent(registration[1]!));
      if (!client || client.registrationAccessToken !== bearer) return json(res, 401, { error: 'invalid_token' });
      return json(res, 200, { client_id: registration[1] });
    }

    const router = url.pathname.match(/^\/v1\/model-router\/([^/]+)\/(models|chat\/completions)$/);
    if (router) {
      if (!fake.validAccessTokens.has(bearer)) {
        res.setHeader('www-authenticate', 'Bearer error="invalid_token"');
        return json(res, 401, { error: { message: 'The access token is invalid or expired.', type: 'authentication_error', code: 'invalid_token', param: null } });
      }
      if (router[1] !== PROXY_ID) return json(res, 404, { error: { message: 'No such proxy.', type: 'invalid_request_error', code: 'proxy_not_found', param: null } });
      if (fake.routerFailure) {
        const { status, code, message } = fake.routerFailure;
        return json(res, status, { error: { message, type: 'invalid_request_error', code, param: null } });
      }
      if (router[2] === 'models') {
        return json(res, 200, { object: 'list', data: ['openai:gpt-4o-mini', 'anthropic:claude-sonnet-4'].map((id) => ({ id, object: 'model', created: 0, owned_by: id.split(':')[0] })) });
      }
      const request = JSON.parse(body) as { model: string; stream?: boolean };
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const word of ['Hello', ' from', ' the', ' fake', ' router']) {
        res.write(`data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 0, model: request.model, choices: [{ index: 0, delta: { content: word }, finish_reason: null }] })}\n\n`);
      }
      return void res.end('data: [DONE]\n\n');
    }
    json(res, 404, { error: 'not_found' });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
