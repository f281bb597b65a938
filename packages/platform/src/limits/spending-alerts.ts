// A spending limit's alert threshold: the first time settled spend reaches it in a period, one
// instance marks the period (`alerted_at`), logs a warning and writes a `limit.alert_reached` audit
// entry; the console shows a notice while the period lasts (limit-management.ts spendingAlertsFor).

import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { recordAudit, SYSTEM_AUDIT_ACTOR } from '../audit/audit-log.js';
import type { Database } from '../db/schema.js';
import { nanoToUsd } from '../usage/call-cost.js';
import { describeAllowance, describeSubjects } from './limit-management.js';
import type { SpendingLimit } from './spending-limits.js';

/** Raises the alert of one limit's period if its spend has reached the threshold; true when this call raised it. */
export async function raiseSpendingAlertIfDue(db: Kysely<Database>, log: Logger, limit: SpendingLimit, periodStart: number): Promise<boolean> {
  if (!limit.alertPercent || limit.nanoUsd === null) return false;
  const row = await db.selectFrom('limit_periods').select(['spent_nano_usd', 'alerted_at']).where('limit_id', '=', limit.id).where('period_start', '=', periodStart).executeTakeFirst();
  if (!row || row.alerted_at !== null || Number(row.spent_nano_usd) * 100 < limit.nanoUsd * limit.alertPercent) return false;
  const spentUsd = nanoToUsd(Number(row.spent_nano_usd));
  const limitUsd = nanoToUsd(limit.nanoUsd);
  const [subject] = await describeSubjects(db, [limit]);
  // The conditional update decides which instance raises it; the audit entry commits with it or not at all.
  const raised = await db.transaction().execute(async (trx) => {
    const result = await trx
      .updateTable('limit_periods')
      .set({ alerted_at: Date.now() })
      .where('limit_id', '=', limit.id)
      .where('period_start', '=', periodStart)
      .where('alerted_at', 'is', null)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) return false;
    await recordAudit(trx, { ...SYSTEM_AUDIT_ACTOR, organizationId: limit.organizationId }, {
      action: 'limit.alert_reached',
      targetKind: 'spending_limit',
      targetId: limit.id,
      targetLabel: subject!,
      detail: `$${spentUsd} spent of ${describeAllowance({ usd: limitUsd, period: limit.period, requestsPerMinute: null, tokensPerMinute: null, alertPercent: limit.alertPercent })}`,
    });
    return true;
  });
  if (raised) log.warn({ limitId: limit.id, scope: limit.scope, spentUsd, limitUsd, alertPercent: limit.alertPercent }, 'spending limit alert threshold reached');
  return raised;
}
