// The disabled-client list in memory follows the newest read of a client, never an older read that
// finishes late: a client disabled while an earlier read was on its way stays disabled.

import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { AppContext } from '../../src/app-context.js';
import { RevocationState } from '../../src/oauth/resource-server.js';

/** A database whose client reads answer when the test says, one by one; other reads find nothing. */
function heldReads() {
  const pending: Array<(row: object) => void> = [];
  const builder = {
    select: () => builder,
    selectAll: () => builder,
    where: () => builder,
    execute: async () => [],
    executeTakeFirst: () => new Promise<object>((resolve) => pending.push(resolve)),
  };
  return { db: { selectFrom: () => builder }, answer: (i: number, row: object) => pending[i]!(row) };
}

const clientRow = (disabledAt: number | null) => ({
  client_id: 'app',
  kind: 'public',
  name: 'App',
  metadata_json: '{}',
  secret_hash: null,
  organization_id: null,
  proxy_ids_json: null,
  key_ids_json: null,
  created_at: 1,
  updated_at: 1,
  disabled_at: disabledAt,
});

describe('a client read that a change overtook', () => {
  it('does not mark a client enabled again after a newer read found it disabled', async () => {
    const reads = heldReads();
    const listeners = new Map<string, (id: string) => void>();
    const changes = { on: (topic: string, listener: (id: string) => void) => listeners.set(topic, listener), onResync: () => undefined };
    const state = new RevocationState({ db: reads.db, changes, log: pino({ level: 'silent' }) } as unknown as AppContext, 60_000);
    await state.load();

    const before = state.client('app'); // read 0: started while the client was enabled
    listeners.get('client')!('app'); // the client was disabled: read 1 starts
    reads.answer(1, clientRow(Date.now()));
    await state.client('app');
    expect(state.isClientDisabled('app')).toBe(true);

    reads.answer(0, clientRow(null)); // the older read finishes last
    await before;
    expect(state.isClientDisabled('app')).toBe(true);
  });
});
