// Every absolute URL oidc-provider writes — the endpoints in its discovery documents, the device
// flow's verification_uri, the audiences it accepts in a client's JWT assertion — is built from
// koa's idea of the request's origin: the Host header, X-Forwarded-Host when a proxy is trusted,
// or the request target itself when it is in absolute form (`GET http://other.example/… HTTP/1.1`).
// Any caller could then have Keyward publish its token endpoint at a host of the caller's choosing,
// and a cache in front of Keyward keep that document for everyone. The origin is PUBLIC_URL's,
// whatever the request says; so is the protocol, which also decides Secure cookies.

import type Provider from 'oidc-provider';

export function pinPublicOrigin(provider: Provider, publicUrl: string): void {
  const url = new URL(publicUrl);
  const fixed = {
    protocol: url.protocol.slice(0, -1),
    host: url.host,
    hostname: url.hostname,
    origin: url.origin,
  };
  for (const [name, value] of Object.entries(fixed)) Object.defineProperty(provider.request, name, { get: () => value, configurable: true });
  Object.defineProperty(provider.request, 'href', {
    configurable: true,
    get(this: { originalUrl: string }) {
      const target = this.originalUrl;
      if (target.startsWith('/')) return url.origin + target;
      // An absolute-form target: its path and query only.
      const parsed = URL.parse(target);
      return url.origin + (parsed ? parsed.pathname + parsed.search : '/');
    },
  });
}
