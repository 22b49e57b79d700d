import type { Clock, TimerHandle } from '../core/clock.js';
import { nonNegativeNumber } from '../core/validate.js';

interface PendingTimer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/**
 * A {@link Clock} that moves only when told to. Timers fire in due-time order (ties in
 * creation order) during {@link ManualClock.advance}; a timer armed by a firing timer
 * fires in the same advance when it falls due within it.
 *
 * @example
 * ```ts
 * const clock = new ManualClock();
 * const limiter = new RateLimiter({ ratePerSecond: 1, burst: 1, clock });
 * clock.advance(1000);
 * ```
 */
export class ManualClock implements Clock {
  #wall: number;
  #mono = 0;
  #nextId = 0;
  #timers: PendingTimer[] = [];

  /**
   * Starts at wall-clock time `startMs` and monotonic time 0; time moves only through
   * `advance` / `advanceAsync`.
   *
   * @param startMs - initial wall-clock time (epoch ms).
   */
  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.#wall = startMs;
  }

  /** Wall-clock time, epoch ms. */
  now(): number {
    return this.#wall;
  }

  /** Monotonic ms since the clock was created. */
  monotonic(): number {
    return this.#mono;
  }

  /** Arms a timer that fires during a later `advance` past its due time. */
  setTimer(delayMs: number, fn: () => void): TimerHandle {
    const timer: PendingTimer = {
      id: this.#nextId++,
      at: this.#mono + Math.max(0, delayMs),
      fn,
      cancelled: false,
    };
    this.#timers.push(timer);
    const handle: TimerHandle = {
      cancel: () => {
        timer.cancelled = true;
        this.#timers = this.#timers.filter((t) => t !== timer);
      },
      unref: () => handle,
    };
    return handle;
  }

  /** Number of armed timers. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /** Moves time forward by `ms`, firing due timers synchronously in order. */
  advance(ms: number): void {
    nonNegativeNumber('ms', ms);
    const target = this.#mono + ms;
    for (;;) {
      const next = this.#nextDue(target);
      if (next === undefined) break;
      this.#wall += next.at - this.#mono;
      this.#mono = next.at;
      this.#timers = this.#timers.filter((t) => t !== next);
      next.fn();
    }
    this.#wall += target - this.#mono;
    this.#mono = target;
  }

  /**
   * Like {@link ManualClock.advance}, but lets promise callbacks run after each timer, so
   * code that awaits between timers behaves as it would in real time.
   */
  async advanceAsync(ms: number): Promise<void> {
    nonNegativeNumber('ms', ms);
    const target = this.#mono + ms;
    await flushMicrotasks();
    for (;;) {
      const next = this.#nextDue(target);
      if (next === undefined) break;
      this.#wall += next.at - this.#mono;
      this.#mono = next.at;
      this.#timers = this.#timers.filter((t) => t !== next);
      next.fn();
      await flushMicrotasks();
    }
    this.#wall += target - this.#mono;
    this.#mono = target;
    await flushMicrotasks();
  }

  /** Sets the wall clock without moving monotonic time (simulates a clock jump). */
  setWallTime(ms: number): void {
    this.#wall = ms;
  }

  #nextDue(target: number): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const t of this.#timers) {
      if (t.cancelled || t.at > target) continue;
      if (best === undefined || t.at < best.at || (t.at === best.at && t.id < best.id)) best = t;
    }
    return best;
  }
}

/** Resolves after every queued promise callback has run (one macrotask turn). */
export function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
