// Whether the database refused a write for what it holds (a constraint, a value out of range or
// that it cannot store), as against being unable to write at all (unreachable, full, busy, read
// only): the first fails the same way however often it is tried, the second may pass later.

/** PostgreSQL's SQLSTATE classes 22 (data exception) and 23 (integrity constraint violation). */
const REFUSED_SQLSTATE = /^2[23][0-9A-Z]{3}$/;
/** SQLite's result codes for the same (its extended codes, e.g. SQLITE_CONSTRAINT_NOTNULL, begin with these). */
const REFUSED_SQLITE = /^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG)/;

export function isRefusedData(error: unknown): boolean {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && (REFUSED_SQLSTATE.test(code) || REFUSED_SQLITE.test(code));
}
