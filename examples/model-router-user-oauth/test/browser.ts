// What a browser does with the app, minus rendering: keeps the cookie, sends Origin on POSTs,
// and remembers every byte the app sent it (so tests can prove no token was among them).
export interface Page {
  status: number;
  headers: Headers;
  body: string;
}

export class Browser {
  cookie = '';
  /** Everything the app ever sent to this browser: status lines, headers, bodies. */
  received = '';

  constructor(
    readonly appUrl: string,
    readonly origin: string,
  ) {}

  async get(pathOrUrl: string): Promise<Page> {
    return this.request(pathOrUrl, { method: 'GET' });
  }

  async post(path: string, body: string, headers: Record<string, string>, { origin = this.origin }: { origin?: string | null } = {}): Promise<Page> {
    return this.request(path, { method: 'POST', body, headers: { ...headers, ...(origin ? { origin } : {}) } });
  }

  async postChat(csrfToken: string, body: unknown = { model: 'openai:gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }, options?: { origin?: string | null }): Promise<Page> {
    return this.post('/api/chat', JSON.stringify(body), { 'content-type': 'application/json', 'x-csrf-token': csrfToken }, options);
  }

  private async request(pathOrUrl: string, init: RequestInit): Promise<Page> {
    const url = new URL(pathOrUrl, this.appUrl);
    const response = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), cookie: this.cookie } });
    const setCookie = response.headers.get('set-cookie');
    if (setCookie) {
      const [pair] = setCookie.split(';');
      this.cookie = /Max-Age=0/.test(setCookie) ? '' : pair!;
    }
    const body = await response.text();
    this.received += `${response.status}\n${[...response.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${body}\n`;
    return { status: response.status, headers: response.headers, body };
  }
}

export function csrfTokenOf(html: string): string {
  const match = html.match(/<meta name="csrf-token" content="([^"]+)">/);
  if (!match) throw new Error('no CSRF token on the page');
  return match[1]!;
}
