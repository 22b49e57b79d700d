/**
 * Time, injected. Every primitive that reads time or arms a timer takes a `clock`
 * option, so tests drive time with `ManualClock` (from `majra/testing`) instead of
 * sleeping. This is the only file in `src/` allowed to touch the real clock.
 *
 * @module
 */

/** A cancellable timer. */
export interface TimerHandle {
  /** Cancels the timer; calling it again, or after it fired, does nothing. */
  cancel(): void;
  /** Lets the process exit while the timer is pending (no-op on manual clocks). Returns itself. */
  unref(): TimerHandle;
}

/** A source of time and timers. */
export interface Clock {
  /** Wall-clock time in epoch milliseconds (may jump). */
  now(): number;
  /** Monotonic milliseconds from an arbitrary origin; never goes backwards. */
  monotonic(): number;
  /** Runs `fn` once after `delayMs` milliseconds. */
  setTimer(delayMs: number, fn: () => void): TimerHandle;
}

class SystemTimer implements TimerHandle {
  readonly #timer: ReturnType<typeof setTimeout>;
  constructor(delayMs: number, fn: () => void) {
    this.#timer = setTimeout(fn, Math.max(0, delayMs));
  }
  cancel(): void {
    clearTimeout(this.#timer);
  }
  unref(): TimerHandle {
    this.#timer.unref();
    return this;
  }
}

/** The real clock: `Date.now`, `performance.now` and `setTimeout`. */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimer: (delayMs: number, fn: () => void): TimerHandle => new SystemTimer(delayMs, fn),
});
