// Usage over time as an SVG bar chart drawn on the server: no script, no third-party library, so
// it passes the console's CSP and reads the same without JavaScript. Each bar has a <title>.

import { DAY_MS, type UsageDay, type UsageTotals } from '../../usage/usage-queries.js';
import { html } from '../html.js';

const WIDTH = 720;
const HEIGHT = 120;
const LEFT = 56;
const BOTTOM = 22;
const TOP = 8;

const dayLabel = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const compact = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(1)}B` : n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e4 ? `${Math.round(n / 1e3)}k` : String(n));

/** Every UTC day of [from, to), with the days that had no calls as zeros. */
export function fillDays(days: UsageDay[], range: { from: number; to: number }): UsageDay[] {
  const byDay = new Map(days.map((d) => [d.day, d]));
  const out: UsageDay[] = [];
  const first = Math.floor(range.from / DAY_MS) * DAY_MS;
  const last = Math.floor((range.to - 1) / DAY_MS) * DAY_MS;
  for (let day = first; day <= last && out.length < 400; day += DAY_MS) {
    out.push(byDay.get(day) ?? { day, calls: 0, failed: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, unpricedCalls: 0 });
  }
  return out;
}

/** One series per day as bars; `label` names it for screen readers and the chart's caption. */
export function dailyBarChart(days: UsageDay[], series: { label: string; value: (d: UsageDay) => number; className: string }) {
  const values = days.map(series.value);
  const max = Math.max(1, ...values);
  const plotWidth = WIDTH - LEFT - 4;
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const step = plotWidth / Math.max(1, days.length);
  const barWidth = Math.max(1, step * 0.7);
  const total = values.reduce((a, b) => a + b, 0);
  const first = days[0];
  const last = days[days.length - 1];
  return html`<figure class="chart">
<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${series.label} per day: ${total} in total, at most ${max} in a day" xmlns="http://www.w3.org/2000/svg">
<line class="axis" x1="${LEFT}" y1="${TOP + plotHeight}" x2="${WIDTH - 4}" y2="${TOP + plotHeight}"></line>
<line class="grid" x1="${LEFT}" y1="${TOP}" x2="${WIDTH - 4}" y2="${TOP}"></line>
<text class="tick" x="${LEFT - 6}" y="${TOP + 4}" text-anchor="end">${compact(max)}</text>
<text class="tick" x="${LEFT - 6}" y="${TOP + plotHeight}" text-anchor="end">0</text>
${days.map((d, i) => {
  const value = values[i]!;
  const height = value === 0 ? 0 : Math.max(1, (value / max) * plotHeight);
  const x = LEFT + i * step + (step - barWidth) / 2;
  return html`<rect class="${series.className}" x="${x.toFixed(1)}" y="${(TOP + plotHeight - height).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${height.toFixed(1)}"><title>${dayLabel(d.day)}: ${value} ${series.label.toLowerCase()}</title></rect>`;
})}
${first ? html`<text class="tick" x="${LEFT}" y="${HEIGHT - 4}">${dayLabel(first.day)}</text>` : ''}
${last && last !== first ? html`<text class="tick" x="${WIDTH - 4}" y="${HEIGHT - 4}" text-anchor="end">${dayLabel(last.day)}</text>` : ''}
</svg>
<figcaption>${series.label} per day (UTC)</figcaption>
</figure>`;
}

const count = (n: number) => n.toLocaleString('en-US');

/** Spend in dollars; cents below a dollar are too coarse for single calls, so small sums keep 4 decimals. */
export const dollars = (usd: number) => `$${usd >= 1 ? usd.toFixed(2) : usd.toFixed(4)}`;

/** The totals strip the overview and the usage page share: calls, failures, tokens and spend. */
export function totalsList(totals: UsageTotals) {
  const spend = totals.costUsd === null ? 'unknown' : dollars(totals.costUsd);
  return html`<dl class="totals">
<div><dt>Calls</dt><dd data-total="calls">${count(totals.calls)}</dd></div>
<div><dt>Failed</dt><dd data-total="failed">${count(totals.failed)}</dd></div>
<div><dt>Tokens in</dt><dd data-total="input_tokens">${count(totals.inputTokens)}</dd></div>
<div><dt>Tokens out</dt><dd data-total="output_tokens">${count(totals.outputTokens)}</dd></div>
<div><dt>Spend</dt><dd data-total="cost_usd">${spend}</dd>${totals.unpricedCalls > 0 ? html`<p class="fine">${count(totals.unpricedCalls)} ${totals.unpricedCalls === 1 ? "call" : "calls"} with no known price not included</p>` : ''}</div>
</dl>`;
}
