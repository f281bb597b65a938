// `npx keyward …`: administer Keyward against the same database (and environment) as the server.

import { parseArgs } from 'node:util';
import pino from 'pino';
import { ConfigError, loadConfig } from '../config.js';
import { KeywardError } from '../errors.js';
import { openContext } from '../open-context.js';
import { UsageError, type AdminCommand } from './command.js';
import { ADMIN_COMMANDS } from './commands/index.js';

function help(): string {
  return ['Usage:', ...ADMIN_COMMANDS.map((c) => `  ${c.usage}`), '', 'Add --json to any command for one JSON object on stdout.'].join('\n');
}

function findCommand(argv: string[]): { command: AdminCommand; rest: string[] } | undefined {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(' ');
    const command = ADMIN_COMMANDS.find((c) => c.name === name);
    if (command) return { command, rest: argv.slice(words) };
  }
  return undefined;
}

export async function runCli(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const args = argv.filter((a) => a !== '--json');
  const fail = (code: string, message: string, exitCode: number) => {
    process.stderr.write(`keyward: ${message}\n`);
    if (json) process.stdout.write(JSON.stringify({ error: { code, message } }) + '\n');
    return exitCode;
  };
  if (args.length === 0 || args[0] === '--help' || args[0] === 'help') {
    process.stdout.write(help() + '\n');
    return args.length === 0 ? 2 : 0;
  }
  const found = findCommand(args);
  if (!found) return fail('unknown_command', `unknown command "${args.slice(0, 2).join(' ')}"\n${help()}`, 2);
  const { command, rest } = found;

  let flags: Record<string, string | boolean | string[] | undefined>;
  try {
    flags = parseArgs({ args: rest, options: command.options, strict: true, allowPositionals: false }).values as typeof flags;
  } catch (error) {
    return fail('usage', `${(error as Error).message}\nusage: ${command.usage}`, 2);
  }
  // A repeatable flag arrives as a list: present means at least one value, and none of them empty.
  const given = (value: unknown) => (Array.isArray(value) ? value.length > 0 && value.every((v) => v !== '') : typeof value === 'string' && value !== '');
  const missing = (command.required ?? []).filter((name) => !given(flags[name]));
  if (missing.length) return fail('usage', `missing ${missing.map((m) => `--${m}`).join(', ')}\nusage: ${command.usage}`, 2);

  let ctx;
  try {
    ctx = await openContext(loadConfig(), pino({ level: 'warn' }, pino.destination(2)));
  } catch (error) {
    return fail(error instanceof ConfigError ? 'config' : 'startup', (error as Error).message, 1);
  }
  try {
    const result = await command.run(ctx, flags);
    process.stdout.write((json ? JSON.stringify(result) : command.text(result)) + '\n');
    return 0;
  } catch (error) {
    if (error instanceof KeywardError) return fail(error.code, error.message, 1);
    if (error instanceof UsageError) return fail('usage', `${error.message}\nusage: ${command.usage}`, 2);
    return fail('internal', `unexpected error: ${(error as Error).message}`, 1);
  } finally {
    await ctx.jobs.stop();
    await ctx.storage.close();
  }
}


