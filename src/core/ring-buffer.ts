import { positiveInteger } from './validate.js';

/** Largest capacity a {@link RingBuffer} accepts (2^24 items). */
export const MAX_RING_CAPACITY = 16_777_216;

/**
 * A FIFO with exactly the capacity asked for. Pushing into a full buffer overwrites the
 * oldest item and counts it in {@link RingBuffer.overwritten}, so consumers can report
 * how much they missed. Storage grows on demand (doubling up to the capacity), so an
 * idle buffer with a large capacity costs almost nothing.
 */
export class RingBuffer<T> {
  /** Maximum number of items held. */
  readonly capacity: number;
  #items: (T | undefined)[];
  #head = 0;
  #size = 0;
  #overwritten = 0;

  /** @throws InvalidArgumentError when `capacity` is not an integer in 1..2^24. */
  constructor(capacity: number) {
    this.capacity = positiveInteger('capacity', capacity, MAX_RING_CAPACITY);
    this.#items = new Array<T | undefined>(Math.min(capacity, 8));
  }

  /** Number of items held. */
  get size(): number {
    return this.#size;
  }

  /** True when no item is held. */
  get isEmpty(): boolean {
    return this.#size === 0;
  }

  /** True when the next push overwrites. */
  get isFull(): boolean {
    return this.#size === this.capacity;
  }

  /** Total items overwritten since creation. */
  get overwritten(): number {
    return this.#overwritten;
  }

  /**
   * Appends `item`. Returns the overwritten oldest item's count (1) when the buffer was
   * full, else 0.
   */
  push(item: T): number {
    if (this.#size === this.capacity) {
      this.#items[this.#head] = item;
      this.#head = (this.#head + 1) % this.#items.length;
      this.#overwritten++;
      return 1;
    }
    if (this.#size === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#size) % this.#items.length] = item;
    this.#size++;
    return 0;
  }

  /** Removes and returns the oldest item, or undefined when empty. */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined; // release the reference for the GC
    this.#head = (this.#head + 1) % this.#items.length;
    this.#size--;
    return item;
  }

  /** The oldest item without removing it. */
  peek(): T | undefined {
    return this.#size === 0 ? undefined : this.#items[this.#head];
  }

  /** Removes every item (the overwritten count is kept). */
  clear(): void {
    this.#items = new Array<T | undefined>(Math.min(this.capacity, 8));
    this.#head = 0;
    this.#size = 0;
  }

  /** Iterates oldest to newest without removing. */
  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.#size; i++) {
      yield this.#items[(this.#head + i) % this.#items.length] as T;
    }
  }

  /** A snapshot, oldest first. */
  toArray(): T[] {
    return [...this];
  }

  #grow(): void {
    const next = new Array<T | undefined>(
      Math.min(this.capacity, Math.max(8, this.#items.length * 2)),
    );
    for (let i = 0; i < this.#size; i++)
      next[i] = this.#items[(this.#head + i) % this.#items.length];
    this.#items = next;
    this.#head = 0;
  }
}
