// CSV as RFC 4180 writes it (CRLF lines, fields with a comma, quote or line break quoted, quotes
// doubled), made safe to open in a spreadsheet: a text cell that starts like a formula is prefixed
// with an apostrophe (OWASP's advice on CSV injection), so `=HYPERLINK(…)` stays text.

const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  let text = String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(rows: unknown[][]): string {
  return rows.map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
