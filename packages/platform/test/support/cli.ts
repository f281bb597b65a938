// Runs the admin CLI as a separate process, as an administrator would, against a test database.

import { execFile } from 'node:child_process';
import { entryArgs } from './built-entry.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  json: any;
}

export function runKeyward(args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...entryArgs('cli/main'), ...args],
      { env: { ...process.env, KEYWARD_ADMIN_EMAIL: '', KEYWARD_ADMIN_PASSWORD: '', ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        let json: unknown;
        try {
          json = JSON.parse(stdout);
        } catch {
          json = undefined;
        }
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr, json });
      },
    );
  });
}
