// Reads of a whole table kept in memory can overlap (a change notice's and the periodic
// reconcile's): only the read that began last may be applied, so an older snapshot that comes
// back late never overwrites a newer one.

/** `read` then `apply`, as one function to call as often as wanted; a read overtaken by a later one is dropped. */
export function latestReadWins<T>(read: () => Promise<T>, apply: (value: T) => void): () => Promise<void> {
  let started = 0;
  let applied = 0;
  return async () => {
    const ticket = ++started;
    const value = await read();
    if (ticket < applied) return;
    applied = ticket;
    apply(value);
  };
}
