import type { MetricsSink } from '../core/metrics.js';
import { RELAY_LABELS, relayDedupEntries, relayDedupEvicted } from './metrics.js';

/** How a message fared in the dedup table. */
export type DedupVerdict = 'accept' | 'duplicate' | 'stale-epoch' | 'too-old';

interface SenderState {
  epoch: number;
  high: number;
  /** Bit i set = seq (high - i) seen, for i in 0..31. */
  mask: number;
  seenAt: number;
}

/** Width of the reordering window: a seq up to this far below the highest is still judged exactly. */
export const REORDER_WINDOW = 32;

/**
 * Per-sender duplicate suppression. Each sender has an epoch (its incarnation), the
 * highest seq accepted and a 32-seq bitmap below it, so reordered messages inside the
 * window are accepted exactly once. A larger epoch resets the sender (restart); a smaller
 * one is dropped. State is created only for accepted messages and the table never holds
 * more than `maxEntries` senders: the least recently accepted sender is evicted first.
 * Map insertion order is last-accepted order, so capacity and TTL eviction are O(1) per
 * entry removed.
 *
 * @internal
 */
export class DedupTable {
  readonly maxEntries: number;
  readonly ttlMs: number;
  readonly #senders = new Map<string, SenderState>();
  /** The state at the back of `#senders` (the last accepted sender), when known. */
  #last: SenderState | undefined;
  /** Entries removed by capacity or TTL, since creation. */
  evictedByCapacity = 0;
  evictedByTtl = 0;
  epochResets = 0;

  constructor(maxEntries: number, ttlMs: number) {
    this.maxEntries = maxEntries;
    this.ttlMs = ttlMs;
  }

  get size(): number {
    return this.#senders.size;
  }

  /** Judges (and on accept records) message `seq` of `from` in incarnation `epoch`. */
  check(from: string, epoch: number, seq: number, now: number): DedupVerdict {
    const state = this.#senders.get(from);
    if (state === undefined || now - state.seenAt > this.ttlMs) {
      if (state !== undefined) {
        this.#senders.delete(from);
        this.evictedByTtl++;
      }
      this.#insert(from, { epoch, high: seq, mask: 1, seenAt: now }, now);
      return 'accept';
    }
    if (epoch !== state.epoch) {
      if (epoch < state.epoch) return 'stale-epoch';
      this.epochResets++;
      state.epoch = epoch;
      state.high = seq;
      state.mask = 1;
    } else if (seq > state.high) {
      const shift = seq - state.high;
      state.mask = shift >= REORDER_WINDOW ? 1 : ((state.mask << shift) | 1) >>> 0;
      state.high = seq;
    } else {
      const distance = state.high - seq;
      if (distance >= REORDER_WINDOW) return 'too-old';
      const bit = (1 << distance) >>> 0;
      if ((state.mask & bit) !== 0) return 'duplicate';
      state.mask = (state.mask | bit) >>> 0;
    }
    state.seenAt = now;
    // Move to the back: insertion order stays last-accepted order. Skipped when it is
    // already there (a delete and re-insert per message churns the hash table).
    if (this.#last !== state) {
      this.#senders.delete(from);
      this.#senders.set(from, state);
      this.#last = state;
    }
    return 'accept';
  }

  /** Removes senders whose last accepted message is older than `maxIdleMs`. */
  evictIdle(maxIdleMs: number, now: number): number {
    let removed = 0;
    for (const [key, state] of this.#senders) {
      if (now - state.seenAt <= maxIdleMs) break;
      this.#senders.delete(key);
      removed++;
    }
    this.evictedByTtl += removed;
    return removed;
  }

  clear(): void {
    this.#senders.clear();
    this.#last = undefined;
  }

  #insert(from: string, state: SenderState, now: number): void {
    // Lazily expire a few senders from the front (the oldest), then enforce the cap.
    let budget = 4;
    while (this.#senders.size > 0) {
      const first = this.#senders.entries().next().value;
      if (first === undefined) break;
      const expired = budget > 0 && now - first[1].seenAt > this.ttlMs;
      if (!expired && this.#senders.size < this.maxEntries) break;
      this.#senders.delete(first[0]);
      if (expired) {
        budget--;
        this.evictedByTtl++;
      } else this.evictedByCapacity++;
    }
    this.#senders.set(from, state);
    this.#last = state;
  }
}

/**
 * Reports a {@link DedupTable}'s size and evictions to a metrics sink. The table counts
 * evictions itself; the deltas since the last report are sent here.
 *
 * @internal
 */
export class DedupMetrics {
  readonly #table: DedupTable;
  readonly #metrics: MetricsSink;
  #lastCap = 0;
  #lastTtl = 0;

  constructor(table: DedupTable, metrics: MetricsSink) {
    this.#table = table;
    this.#metrics = metrics;
  }

  /** Reports after an operation that began with the table at `before` entries. */
  report(before: number): void {
    const size = this.#table.size;
    if (size !== before) this.#metrics.set(relayDedupEntries, size);
    const cap = this.#table.evictedByCapacity;
    const ttl = this.#table.evictedByTtl;
    if (cap !== this.#lastCap) {
      this.#metrics.increment(
        relayDedupEvicted,
        cap - this.#lastCap,
        RELAY_LABELS.evicted.capacity,
      );
      this.#lastCap = cap;
    }
    if (ttl !== this.#lastTtl) {
      this.#metrics.increment(relayDedupEvicted, ttl - this.#lastTtl, RELAY_LABELS.evicted.ttl);
      this.#lastTtl = ttl;
    }
  }
}
