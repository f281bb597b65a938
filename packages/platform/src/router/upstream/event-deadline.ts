// How long a provider's stream may go without an event. undici's idle timeout is reset by any
// byte, so a provider sending only SSE comments (`: keep-alive`), or one line that never ends,
// would keep a call open forever; this deadline is reset by complete events only.

/**
 * One timer per stream, re-armed only when it fires, so an event costs a clock read. Time spent
 * `held` (the reader handing events on while the caller's side is slow) is not the provider's
 * and does not count.
 */
export class EventDeadline {
  private lastEventAt = performance.now();
  private held = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ms: number,
    private readonly expire: () => void,
  ) {
    this.arm(ms);
  }

  /** Events are being handed on: the clock stops. */
  hold(): void {
    this.held = true;
  }

  /** The reader waits for the provider again, its last events just handed on: the clock starts over. */
  resume(): void {
    this.held = false;
    this.lastEventAt = performance.now();
    // Fired while held: nothing was armed since (a reader that never resumes leaves no timer behind).
    if (!this.timer) this.arm(this.ms);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(this.check, ms);
  }

  private readonly check = (): void => {
    this.timer = undefined;
    if (this.held) return;
    const idle = performance.now() - this.lastEventAt;
    if (idle >= this.ms) this.expire();
    else this.arm(this.ms - idle);
  };
}
