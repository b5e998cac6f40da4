/**
 * Fires onIdle once after `idleMs` without activity; activity re-arms it.
 * Timer functions are injectable for tests.
 */
export class IdleTimer {
  private handle: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly idleMs: number,
    private readonly onIdle: () => void,
    private readonly timers: {
      set: (fn: () => void, ms: number) => ReturnType<typeof setTimeout>;
      clear: (handle: ReturnType<typeof setTimeout>) => void;
    } = { set: (fn, ms) => setTimeout(fn, ms), clear: (h) => clearTimeout(h) },
  ) {}

  /** (Re)starts the countdown. */
  poke(): void {
    this.stop();
    this.handle = this.timers.set(() => {
      this.handle = null;
      this.onIdle();
    }, this.idleMs);
  }

  stop(): void {
    if (this.handle !== null) this.timers.clear(this.handle);
    this.handle = null;
  }
}
