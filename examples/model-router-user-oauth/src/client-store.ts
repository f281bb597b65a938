// Remembers the client_id this app registered with Keyward, so it registers once, not on every start.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface RegisteredClient {
  client_id: string;
  /** RFC 7592: where (and with which token) the app can ask Keyward whether it still knows the client. */
  registration_client_uri?: string;
  registration_access_token?: string;
  registered_at: string;
}

type StoreFile = Record<string, RegisteredClient>;

/**
 * A small JSON file, one entry per (Keyward issuer, redirect URI): pointing the app at another
 * Keyward, or moving it to another address, registers a new client instead of reusing a wrong one.
 */
export class ClientStore {
  constructor(readonly file: string) {}

  async get(issuer: string, redirectUri: string): Promise<RegisteredClient | undefined> {
    return (await this.read())[key(issuer, redirectUri)];
  }

  async set(issuer: string, redirectUri: string, client: RegisteredClient): Promise<void> {
    const all = await this.read();
    all[key(issuer, redirectUri)] = client;
    await this.write(all);
  }

  async forget(issuer: string, redirectUri: string): Promise<void> {
    const all = await this.read();
    delete all[key(issuer, redirectUri)];
    await this.write(all);
  }

  private async read(): Promise<StoreFile> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
    try {
      const parsed: unknown = JSON.parse(text);
      return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as StoreFile) : {};
    } catch {
      // A damaged file only costs one new registration.
      return {};
    }
  }

  private async write(all: StoreFile): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    // Write then rename, so a crash never leaves half a file; 0600 because it holds the
    // registration access token.
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, this.file);
  }
}

function key(issuer: string, redirectUri: string): string {
  // A space never occurs in a URL, so the key cannot be ambiguous.
  return `${issuer} ${redirectUri}`;
}
