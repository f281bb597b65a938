// Records each translation check (feature × provider × inbound format × streaming) as the tests
// run; scripts/translation-conformance.mjs turns the records into docs/translation-conformance.md.
// The table is generated from what the tests observed, never written by hand.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type ConformanceResult = 'pass' | 'fail' | 'refused' | 'n/a';

export interface ConformanceRecord {
  feature: string;
  provider: string;
  inbound: 'openai' | 'anthropic';
  stream: boolean;
  result: ConformanceResult;
  note?: string;
  /** Position of the feature in the test file, so the table keeps the order. */
  order?: number;
}

export const CONFORMANCE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'conformance');

const records: ConformanceRecord[] = [];

export function recordConformance(record: ConformanceRecord): void {
  records.push(record);
}

/** Writes this run's records (one file per engine, so the SQLite and PostgreSQL runs both count). */
export function writeConformance(name: string): void {
  mkdirSync(CONFORMANCE_DIR, { recursive: true });
  const engine = process.env.KEYWARD_TEST_DATABASE_URL ? 'postgres' : 'sqlite';
  writeFileSync(join(CONFORMANCE_DIR, `${name}.${engine}.json`), JSON.stringify({ generatedAt: new Date().toISOString(), records }, null, 2) + '\n');
}
