import { randomUUID } from 'node:crypto';
import { Fifo } from './fifo.js';
import { parsePriority, type Priority } from './priority.js';

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
  }

  /** Removes and returns the next item, or `undefined` when empty. */
  dequeue(): QueueItem<T> | undefined {
    if (this.#size === 0) return undefined;
    const tiers = this.#tiers;
    for (let p = 4; p >= 0; p--) {
      const tier = tiers[p] as Fifo<QueueItem<T>>;
      if (tier.size > 0) {
        this.#size--;
        return tier.shift();
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
  }

  #tier(priority: unknown): Fifo<QueueItem<T>> {
    const tier = typeof priority === 'number' ? this.#tiers[priority] : undefined;
    // Index lookup accepts only 0..4 integers; anything else goes to the typed error.
    return tier ?? (this.#tiers[parsePriority(priority)] as Fifo<QueueItem<T>>);
  }
}
