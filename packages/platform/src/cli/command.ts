// One admin command: its words, its flags, what it does, and how its result reads to a person.

import type { ParseArgsConfig } from 'node:util';
import type { AppContext } from '../app-context.js';

export type Flags = Record<string, string | boolean | string[] | undefined>;

export interface AdminCommand {
  /** The words that select it, e.g. `key add`. */
  name: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  required?: string[];
  run(ctx: AppContext, flags: Flags): Promise<Record<string, unknown>>;
  /** The human-readable line(s); --json prints the object instead. */
  text(result: Record<string, unknown>): string;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export const str = (flags: Flags, name: string): string | undefined => {
  const value = flags[name];
  return typeof value === 'string' ? value : undefined;
};

export const list = (flags: Flags, name: string): string[] => {
  const value = flags[name];
  return Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
};
