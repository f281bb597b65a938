// A small bounded map for values that are pure functions of their key (a prepared statement per
// SQL text, a checked URL per base and path): past its capacity the oldest entry goes, so no
// caller's input can grow it. A hit does not reorder (that cost more than the lookup on the
// router's hot path); the working sets here are far below the capacity.

export class BoundedCache<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    return this.entries.get(key);
  }

  set(key: K, value: V): void {
    if (!this.entries.has(key) && this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value as K);
    this.entries.set(key, value);
  }

  /** The cached value, or `make(key)` cached (a throw caches nothing). */
  getOrMake(key: K, make: (key: K) => V): V {
    let value = this.entries.get(key);
    if (value === undefined) {
      value = make(key);
      this.set(key, value);
    }
    return value;
  }

  clear(): void {
    this.entries.clear();
  }
}
