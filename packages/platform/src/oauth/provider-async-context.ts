// oidc-provider keeps each request of its own in an AsyncLocalStorage. On Node 20 an enabled
// AsyncLocalStorage runs promise hooks on every promise of the process — the router's included —
// so it is switched on only while oidc-provider handles a request, and off when it handles none.

import providerContext from 'oidc-provider/lib/helpers/als.js';

let inFlight = 0;

/** Runs one oidc-provider request (its koa callback); the last one to finish disables the storage. */
export async function handleWithProviderContext(handle: () => Promise<unknown> | unknown): Promise<void> {
  inFlight += 1;
  try {
    await handle();
  } finally {
    inFlight -= 1;
    // The next request's als.run() enables it again.
    if (inFlight === 0) providerContext.disable();
  }
}

/** Whether oidc-provider's async context (and with it Node's promise hooks) is on now. */
export function providerContextEnabled(): boolean {
  return (providerContext as unknown as { enabled: boolean }).enabled;
}
