// The one stylesheet of Keyward's own pages (sign-in, consent, account), served from /assets so
// the Content-Security-Policy can forbid inline styles and scripts.

export const STYLESHEET_PATH = '/assets/keyward.css';

export const STYLESHEET = `
:root {
  --ink: #111827; --muted: #4b5563; --faint: #6b7280; --line: #e5e7eb; --paper: #ffffff;
  --wash: #f3f4f6; --brand: #1d4ed8; --brand-ink: #ffffff; --danger: #b91c1c; --danger-wash: #fef2f2;
  --warn: #92400e; --warn-wash: #fffbeb; --ok: #166534; --ok-wash: #f0fdf4; --radius: 12px;
  color-scheme: light;
}
* { box-sizing: border-box; }
html { font-family: ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 16px; line-height: 1.5; color: var(--ink); background: var(--wash); }
body { margin: 0; min-height: 100vh; display: flex; flex-direction: column; align-items: center; padding: 48px 16px; }
.brand { display: flex; align-items: center; gap: 10px; font-weight: 650; font-size: 18px; letter-spacing: -0.01em;
  color: var(--ink); text-decoration: none; margin-bottom: 24px; }
.brand-mark { width: 28px; height: 28px; border-radius: 8px; background: var(--brand); color: var(--brand-ink);
  display: grid; place-items: center; font-size: 15px; font-weight: 700; }
.card { width: 100%; max-width: 440px; background: var(--paper); border: 1px solid var(--line); border-radius: var(--radius);
  padding: 32px; box-shadow: 0 1px 2px rgba(0,0,0,.04), 0 8px 24px rgba(0,0,0,.04); }
.card.wide { max-width: 720px; }
h1 { font-size: 22px; line-height: 1.3; margin: 0 0 8px; letter-spacing: -0.015em; }
h2 { font-size: 16px; margin: 24px 0 8px; }
p { margin: 0 0 16px; color: var(--muted); }
.lead { font-size: 15px; }
label { display: block; font-weight: 560; font-size: 14px; margin: 16px 0 6px; }
input[type=email], input[type=password], input[type=text] { width: 100%; font: inherit; padding: 10px 12px;
  border: 1px solid #d1d5db; border-radius: 8px; background: #fff; color: var(--ink); }
input:focus-visible, button:focus-visible, a:focus-visible { outline: 3px solid rgba(29,78,216,.35); outline-offset: 2px; }
button, .button { font: inherit; font-weight: 600; border-radius: 8px; padding: 10px 16px; border: 1px solid transparent;
  cursor: pointer; text-decoration: none; display: inline-flex; justify-content: center; align-items: center; }
.primary { background: var(--brand); color: var(--brand-ink); }
.primary:hover { background: #1e40af; }
.secondary { background: #fff; color: var(--ink); border-color: #d1d5db; }
.secondary:hover { background: var(--wash); }
.danger { background: #fff; color: var(--danger); border-color: #fecaca; }
.block { width: 100%; margin-top: 24px; }
.actions { display: flex; gap: 12px; margin-top: 24px; }
.actions > * { flex: 1; }
.notice { border-radius: 8px; padding: 12px 14px; font-size: 14px; margin: 0 0 16px; }
.notice.error { background: var(--danger-wash); color: var(--danger); border: 1px solid #fecaca; }
.notice.warn, .notice.warning { background: var(--warn-wash); color: var(--warn); border: 1px solid #fde68a; }
.notice.ok { background: var(--ok-wash); color: var(--ok); border: 1px solid #bbf7d0; }
.app { display: flex; gap: 14px; align-items: center; margin-bottom: 20px; }
.app-mark { width: 44px; height: 44px; border-radius: 10px; background: var(--wash); border: 1px solid var(--line);
  display: grid; place-items: center; font-weight: 700; color: var(--muted); font-size: 18px; flex: none; }
.app-name { font-weight: 650; font-size: 17px; }
.app-host { color: var(--faint); font-size: 14px; word-break: break-all; }
ul.scopes { list-style: none; padding: 0; margin: 0 0 8px; border: 1px solid var(--line); border-radius: 10px; }
ul.scopes li { padding: 12px 14px; border-top: 1px solid var(--line); }
ul.scopes li:first-child { border-top: 0; }
ul.apps { list-style: none; padding: 0; margin: 0; }
ul.apps li { display: flex; justify-content: space-between; align-items: center; gap: 16px; padding: 14px 0; border-top: 1px solid var(--line); }
ul.apps li:first-child { border-top: 0; }
ul.apps .fine { margin: 4px 0 0; }
.scope-name { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; color: var(--faint); }
.fine { font-size: 13px; color: var(--faint); margin-top: 20px; }
table { width: 100%; border-collapse: collapse; font-size: 14px; }
th, td { text-align: left; padding: 10px 8px; border-top: 1px solid var(--line); vertical-align: top; }
th { color: var(--faint); font-weight: 560; border-top: 0; }
.who { color: var(--faint); font-size: 14px; margin-top: 16px; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; }
#user_code, .user-code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 20px; letter-spacing: .12em; text-transform: uppercase; }
body.console { padding: 0 16px 48px; }
.topbar { width: 100%; max-width: 1100px; display: flex; flex-wrap: wrap; align-items: center; gap: 16px 24px; padding: 16px 0; }
.topbar .brand { margin: 0; }
nav.console-nav { flex: 1; display: flex; flex-wrap: nowrap; align-items: center; gap: 4px; }
nav.console-nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: 4px; padding: 0; margin: 0; }
nav.console-nav a { display: block; padding: 6px 10px; border-radius: 8px; color: var(--muted); text-decoration: none; font-size: 14px; font-weight: 560; }
nav.console-nav a:hover { background: #e5e7eb; color: var(--ink); }
nav.console-nav a[aria-current=page] { background: var(--paper); color: var(--brand); border: 1px solid var(--line); }
nav.console-nav form { margin: 0 0 0 auto; }
nav.console-nav .who { margin: 0 8px 0 auto; font-size: 13px; white-space: nowrap; }
nav.console-nav button { padding: 6px 12px; font-size: 14px; white-space: nowrap; }
.console-card { max-width: 1100px; }
.console-card section + section { margin-top: 32px; }
.console-card form.inline { display: inline; margin: 0; }
.console-card form.stack { max-width: 520px; }
.row-actions { display: flex; flex-wrap: wrap; gap: 6px; }
.row-actions button, .row-actions .button { padding: 5px 10px; font-size: 13px; }
select { width: 100%; font: inherit; padding: 10px 12px; border: 1px solid #d1d5db; border-radius: 8px; background: #fff; color: var(--ink); }
input[type=url], textarea { width: 100%; font: inherit; padding: 10px 12px; border: 1px solid #d1d5db; border-radius: 8px; background: #fff; color: var(--ink); }
.field-error { color: var(--danger); font-size: 13px; margin: 6px 0 0; }
.spending-limit { margin: 8px 0 16px; }
.spending-limit-custom { display: grid; grid-template-columns: 2fr 1fr; gap: 0 12px; }
.spending-limit .fine { margin: 6px 0 0; }
ul.apps li.connected-app { display: block; padding: 20px 0; }
ul.apps li.connected-app h2 { margin-top: 0; }
ul.apps ul.app-scopes { margin: 0 0 8px; padding-left: 20px; }
ul.apps ul.app-scopes li { display: list-item; padding: 2px 0; border-top: 0; }
form.app-limit { max-width: 420px; margin-top: 8px; }
form.app-revoke { margin-top: 12px; }
.empty { border: 1px dashed #d1d5db; border-radius: 10px; padding: 20px; color: var(--muted); }
.pager { display: flex; gap: 12px; align-items: center; margin-top: 16px; font-size: 14px; }
.badge { display: inline-block; font-size: 12px; border-radius: 999px; padding: 1px 8px; background: var(--wash); color: var(--muted); border: 1px solid var(--line); }
.badge.off { color: var(--danger); background: var(--danger-wash); border-color: #fecaca; }
.badge.on { color: var(--ok); background: var(--ok-wash); border-color: #bbf7d0; }
.secret { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; background: var(--wash); border: 1px solid var(--line);
  border-radius: 6px; padding: 6px 8px; word-break: break-all; display: block; color: var(--ink); }
.table-wrap { overflow-x: auto; }
form.filters { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 8px 12px; align-items: end; margin-bottom: 20px; }
form.filters label { margin-top: 0; }
.filter-actions { display: flex; gap: 12px; align-items: center; }
input[type=date] { width: 100%; font: inherit; padding: 9px 10px; border: 1px solid #d1d5db; border-radius: 8px; background: #fff; color: var(--ink); }
dl.totals { display: flex; flex-wrap: wrap; gap: 12px; margin: 0 0 20px; }
dl.totals > div { flex: 1; min-width: 120px; border: 1px solid var(--line); border-radius: 10px; padding: 10px 14px; }
dl.totals dt { color: var(--faint); font-size: 13px; }
dl.totals dd { margin: 2px 0 0; font-size: 22px; font-weight: 650; }
figure.chart { margin: 0 0 20px; }
figure.chart svg { width: 100%; height: auto; display: block; }
figure.chart figcaption { color: var(--faint); font-size: 13px; }
figure.chart .axis, figure.chart .grid { stroke: var(--line); stroke-width: 1; }
figure.chart .tick { fill: var(--faint); font-size: 11px; }
figure.chart .bar-calls { fill: var(--brand); }
figure.chart .bar-tokens { fill: #0f766e; }
.rankings { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 24px; }
table.usage td { white-space: nowrap; }
table.usage td .fine { margin: 2px 0 0; white-space: normal; }
td code { white-space: nowrap; }
`;
