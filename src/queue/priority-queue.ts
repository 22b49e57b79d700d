import { randomUUID } from 'node:crypto';
import type { MetricLabels, MetricsSink } from '../core/metrics.js';
import { nonEmptyString } from '../core/validate.js';
import { Fifo } from './fifo.js';
import { QUEUE_DEPTH, QUEUE_DEQUEUED, QUEUE_ENQUEUED } from './metrics.js';
import { parsePriority, PRIORITY_NAMES, type Priority } from './priority.js';

/** An item in a {@link PriorityQueue}. */
export interface QueueItem<T> {
  /** Item id (a UUID from {@link createQueueItem} unless given). */
  readonly id: string;
  /** Tier it is served from (higher first). */
  readonly priority: Priority;
  /** The caller's value, stored as given. */
  readonly payload: T;
}

/**
 * Creates a {@link QueueItem} with a fresh UUID (or the given id).
 *
 * @throws InvalidArgumentError `ERR_QUEUE_INVALID_PRIORITY` for a priority outside 0..4.
 */
export function createQueueItem<T>(priority: Priority, payload: T, id?: string): QueueItem<T> {
  return { id: id ?? randomUUID(), priority: parsePriority(priority), payload };
}

/** Options of {@link PriorityQueue} and `ConcurrentPriorityQueue`. */
export interface PriorityQueueOptions {
  /** Queue name, used as the `queue` metric label (a fixed name, never an id). @defaultValue 'priority' */
  readonly name?: string;
  /** Receives enqueued/dequeued counts per tier and the depth; default reports nothing. */
  readonly metrics?: MetricsSink;
}

/**
 * Reports a queue's traffic. Label objects are built once here so a report allocates
 * nothing; a queue without a sink holds no meter and pays one `undefined` check.
 */
class TierMeter {
  readonly #sink: MetricsSink;
  readonly #labels: MetricLabels;
  readonly #tierLabels: readonly MetricLabels[];

  constructor(sink: MetricsSink, queue: string) {
    this.#sink = sink;
    this.#labels = Object.freeze({ queue });
    this.#tierLabels = PRIORITY_NAMES.map((priority) => Object.freeze({ queue, priority }));
  }

  enqueued(priority: number, depth: number): void {
    this.#sink.increment(QUEUE_ENQUEUED, 1, this.#tierLabels[priority]);
    this.#sink.set(QUEUE_DEPTH, depth, this.#labels);
  }

  dequeued(priority: number, depth: number): void {
    this.#sink.increment(QUEUE_DEQUEUED, 1, this.#tierLabels[priority]);
    this.#sink.set(QUEUE_DEPTH, depth, this.#labels);
  }

  depth(depth: number): void {
    this.#sink.set(QUEUE_DEPTH, depth, this.#labels);
  }
}

/**
 * A five-tier priority FIFO. `dequeue` returns the oldest item of the highest non-empty
 * tier: FIFO within a tier, strict across tiers (no aging, so low tiers can starve).
 * Both operations are O(1). There is no capacity limit: bound it in the caller, or use
 * `ManagedQueue` with `maxQueued`.
 *
 * @example
 * ```ts
 * const q = new PriorityQueue<string>();
 * q.enqueue(createQueueItem(Priority.Low, 'later'));
 * q.enqueue(createQueueItem(Priority.Critical, 'now'));
 * q.dequeue()?.payload; // 'now'
 * ```
 */
export class PriorityQueue<T> {
  readonly #tiers: Fifo<QueueItem<T>>[] = [
    new Fifo(),
    new Fifo(),
    new Fifo(),
    new Fifo(),
    new Fifo(),
  ];
  #size = 0;
  readonly #meter: TierMeter | undefined;

  /** @throws InvalidArgumentError for an invalid `name`. */
  constructor(options: PriorityQueueOptions = {}) {
    const name = nonEmptyString('name', options.name ?? 'priority', 128);
    this.#meter = options.metrics === undefined ? undefined : new TierMeter(options.metrics, name);
  }

  /** Total items over all tiers. */
  get size(): number {
    return this.#size;
  }

  /** True when no item is held. */
  isEmpty(): boolean {
    return this.#size === 0;
  }

  /** Items in one tier. */
  sizeOf(priority: Priority): number {
    return this.#tier(priority).size;
  }

  /**
   * Appends `item` to the tail of its tier.
   *
   * @throws InvalidArgumentError `ERR_QUEUE_INVALID_PRIORITY` when `item.priority` is not a
   *   tier; the queue is unchanged.
   */
  enqueue(item: QueueItem<T>): void {
    this.#tier(item.priority).push(item);
    this.#size++;
    this.#meter?.enqueued(item.priority, this.#size);
  }

  /** Removes and returns the next item, or `undefined` when empty. */
  dequeue(): QueueItem<T> | undefined {
    if (this.#size === 0) return undefined;
    const tiers = this.#tiers;
    for (let p = 4; p >= 0; p--) {
      const tier = tiers[p] as Fifo<QueueItem<T>>;
      if (tier.size > 0) {
        this.#size--;
        const item = tier.shift();
        this.#meter?.dequeued(p, this.#size);
        return item;
      }
    }
    return undefined;
  }

  /** The next item without removing it. */
  peek(): QueueItem<T> | undefined {
    for (let p = 4; p >= 0; p--) {
      const item = (this.#tiers[p] as Fifo<QueueItem<T>>).peek();
      if (item !== undefined) return item;
    }
    return undefined;
  }

  /** Removes every item. */
  clear(): void {
    for (const tier of this.#tiers) tier.clear();
    this.#size = 0;
    this.#meter?.depth(0);
  }

  #tier(priority: unknown): Fifo<QueueItem<T>> {
    const tier = typeof priority === 'number' ? this.#tiers[priority] : undefined;
    // Index lookup accepts only 0..4 integers; anything else goes to the typed error.
    return tier ?? (this.#tiers[parsePriority(priority)] as Fifo<QueueItem<T>>);
  }
}
