// The "Spending limit for this app" control, one for the consent page and Connected apps: a select
// of No limit / presets / "Another amount…", and the amount and period used with the last. No script.

import { capLabel, capValue, type AppCap, type AppCapPolicy, type AppCapState } from '../limits/app-caps.js';
import { html, type RawHtml } from '../web/html.js';

export const SPENDING_LIMIT_LABEL = 'Spending limit for this app';

/** The control's field names, as parseCapChoice reads them. */
export const CAP_FIELDS = { choice: 'spending_limit', usd: 'spending_limit_usd', period: 'spending_limit_period' } as const;

export interface CapFormValues {
  choice?: unknown;
  usd?: unknown;
  period?: unknown;
}

/** The control's fields out of a posted form. */
export const capFields = (form: Record<string, unknown>): CapFormValues => ({ choice: form[CAP_FIELDS.choice], usd: form[CAP_FIELDS.usd], period: form[CAP_FIELDS.period] });

export interface SpendingLimitControl {
  /** Unique within the page (several apps on Connected apps). */
  id: string;
  options: Array<AppCap | null>;
  selected: AppCap | null;
  policy: AppCapPolicy;
  /** A refused choice: the message, and what was posted (shown again). */
  error?: string | undefined;
  posted?: CapFormValues | undefined;
}

const text = (value: unknown) => (typeof value === 'string' ? value.slice(0, 40) : '');

export function spendingLimitControl(control: SpendingLimitControl): RawHtml {
  const { id, posted } = control;
  const postedChoice = posted ? text(posted.choice) : undefined;
  const isSelected = (option: AppCap | null) => (postedChoice ? postedChoice === capValue(option) : capValue(option) === capValue(control.selected));
  const custom = postedChoice === 'custom';
  const period = custom ? text(posted?.period) : 'month';
  const errorId = `${id}-error`;
  const attrs = control.error ? html` aria-invalid="true" aria-describedby="${errorId}"` : '';
  return html`<div class="spending-limit" data-spending-limit>
  <label for="${id}">${SPENDING_LIMIT_LABEL}</label>
  <select id="${id}" name="spending_limit"${attrs}>
${control.options.map((option) => html`    <option value="${capValue(option)}"${isSelected(option) ? html` selected` : ''}>${capLabel(option)}</option>\n`)}    <option value="custom"${custom ? html` selected` : ''}>Another amount…</option>
  </select>
  <div class="spending-limit-custom">
    <div><label for="${id}-usd">Amount (USD)</label><input type="text" inputmode="decimal" id="${id}-usd" name="spending_limit_usd" value="${custom ? text(posted?.usd) : ''}" placeholder="e.g. 2.50"${custom ? attrs : ''}></div>
    <div><label for="${id}-period">Per</label><select id="${id}-period" name="spending_limit_period"><option value="day"${period === 'day' ? html` selected` : ''}>day</option><option value="month"${period !== 'day' ? html` selected` : ''}>month</option></select></div>
  </div>
  <p class="fine">Amount and period apply when you choose “Another amount…”.${control.policy.maximum ? ` Your organization allows at most ${capLabel(control.policy.maximum)} per app.` : ''}</p>
  ${control.error ? html`<p class="field-error" id="${errorId}" role="alert">${control.error}</p>` : ''}
</div>`;
}

/** "$1.00", "$0.05", "$0.001": at least cents, more digits only when the amount has them. */
const capAmount = (nano: number) => {
  const usd = nano / 1e9;
  for (const digits of [2, 3, 4, 5, 6]) if (Math.abs(Number(usd.toFixed(digits)) - usd) < 1e-12) return `$${usd.toFixed(digits)}`;
  return `$${usd.toFixed(6)}`;
};

const PERIOD_SPAN: Record<string, string> = { day: 'today', week: 'this week', month: 'this month', total: 'in total' };
const resetTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';

/** "Spent $0.0123 of $1.00 today · resets 2026-12-07 00:00 UTC", or "Spent $0.0123 this month · No limit". */
export function capSpendText(state: AppCapState): string {
  const spent = `$${(state.spentNanoUsd / 1e9).toFixed(4)}`;
  if (!state.cap) return `Spent ${spent} this month · No limit`;
  const resets = state.resetsAt === null ? 'does not reset' : `resets ${resetTime(state.resetsAt)}`;
  return `Spent ${spent} of ${capAmount(state.cap.nanoUsd)} ${PERIOD_SPAN[state.cap.period]} · ${resets}`;
}
