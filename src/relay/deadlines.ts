/**
 * Request timeouts with one clock timer per relay instead of one per request: arming and
 * cancelling a timer on every request cost more than the rest of the request bookkeeping.
 *
 * @internal
 * @module
 */
import type { Clock, TimerHandle } from '../core/clock.js';

const MAX_TIMER_MS = 2_147_483_647;

/** What the sweep needs of an entry. */
export interface Deadlined {
  /** Monotonic ms at which the entry times out. */
  readonly deadline: number;
  /** True once settled by any path (then the sweep just drops it). */
  readonly isDone: boolean;
}

/** Entries of one timeout value: created in time order, so their deadlines are ordered too. */
interface Lane<T> {
  items: T[];
  head: number;
}

/**
 * Tracks deadlines in one lane per distinct timeout (a FIFO with non-decreasing
 * deadlines) and keeps a single timer armed at the earliest one. Settled entries stay
 * in their lane until the sweep passes them or a compaction removes them; compaction
 * runs when they outnumber the live ones (twice over, plus a constant), so memory stays
 * proportional to the live entries.
 */
export class DeadlineSweep<T extends Deadlined> {
  readonly #clock: Clock;
  readonly #onExpired: (item: T) => void;
  readonly #lanes = new Map<number, Lane<T>>();
  #timer: TimerHandle | undefined;
  /** The deadline the timer is armed for, or Infinity when disarmed. */
  #armedAt = Number.POSITIVE_INFINITY;
  /** Entries held in lanes, live or settled. */
  #held = 0;

  constructor(clock: Clock, onExpired: (item: T) => void) {
    this.#clock = clock;
    this.#onExpired = onExpired;
  }

  /** Entries held, live or settled (for tests of the bound). */
  get held(): number {
    return this.#held;
  }

  /** Tracks `item`, which times out `timeoutMs` after creation (its `deadline`). */
  add(item: T, timeoutMs: number): void {
    let lane = this.#lanes.get(timeoutMs);
    if (lane === undefined) {
      lane = { items: [], head: 0 };
      this.#lanes.set(timeoutMs, lane);
    }
    lane.items.push(item);
    this.#held++;
    if (item.deadline < this.#armedAt) this.#arm(item.deadline);
  }

  /** Called after an entry settled; `live` is how many entries are still pending. */
  settled(live: number): void {
    if (this.#held <= 2 * live + 64) return;
    if (live === 0) {
      // Nothing pending (sequential requests): every held entry is settled, so drop
      // them all without filtering. The timer stays armed; its sweep finds no lanes.
      this.#lanes.clear();
      this.#held = 0;
    } else this.#compact();
  }

  /** Forgets every entry and disarms the timer. */
  clear(): void {
    this.#lanes.clear();
    this.#held = 0;
    this.#disarm();
  }

  #compact(): void {
    this.#held = 0;
    for (const [timeoutMs, lane] of this.#lanes) {
      const live = lane.items.slice(lane.head).filter((item) => !item.isDone);
      if (live.length === 0) this.#lanes.delete(timeoutMs);
      else {
        lane.items = live;
        lane.head = 0;
        this.#held += live.length;
      }
    }
  }

  readonly #sweep = (): void => {
    this.#timer = undefined;
    this.#armedAt = Number.POSITIVE_INFINITY;
    const now = this.#clock.monotonic();
    const expired: T[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const [timeoutMs, lane] of this.#lanes) {
      const { items } = lane;
      while (lane.head < items.length) {
        const item = items[lane.head] as T;
        if (!item.isDone && item.deadline > now) break;
        lane.head++;
        this.#held--;
        if (!item.isDone) expired.push(item);
      }
      if (lane.head === items.length) this.#lanes.delete(timeoutMs);
      else {
        if (lane.head > 1024 && lane.head * 2 > items.length) {
          lane.items = items.slice(lane.head);
          lane.head = 0;
        }
        next = Math.min(next, (lane.items[lane.head] as T).deadline);
      }
    }
    if (next !== Number.POSITIVE_INFINITY) this.#arm(next);
    for (const item of expired) this.#onExpired(item);
  };

  #arm(deadline: number): void {
    this.#timer?.cancel();
    this.#armedAt = deadline;
    // Timers take at most 2^31 - 1 ms (Node fires longer ones at once): a further
    // deadline is reached by re-arming from the sweep.
    const delay = Math.min(deadline - this.#clock.monotonic(), MAX_TIMER_MS);
    this.#timer = this.#clock.setTimer(delay, this.#sweep);
    this.#timer.unref();
  }

  #disarm(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#armedAt = Number.POSITIVE_INFINITY;
  }
}
