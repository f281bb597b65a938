// Reads the usage records the router wrote (the sink flushes about once a second).

import type { TestPlatform } from '../../support/test-platform.js';
import '../../../src/usage/usage-record.js';

export async function waitForUsage(tp: TestPlatform, requestId: string, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await tp.platform.ctx.db.selectFrom('usage_records').selectAll().where('request_id', '=', requestId).execute();
    if (rows.length > 0 || Date.now() > deadline) return rows;
    await new Promise((r) => setTimeout(r, 100));
  }
}
