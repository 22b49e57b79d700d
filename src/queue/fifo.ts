/**
 * An unbounded FIFO with O(1) amortised push and shift: an array with a moving head
 * that compacts once the consumed prefix dominates. Internal to the queue module.
 *
 * @internal
 */
export class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  /** Items held. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Appends at the tail. */
  push(item: T): void {
    this.#items.push(item);
  }

  /** Removes and returns the head, or undefined when empty. */
  shift(): T | undefined {
    if (this.#head === this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head++;
    if (this.#head === this.#items.length) {
      this.#items.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** The head without removing it. */
  peek(): T | undefined {
    return this.#head === this.#items.length ? undefined : this.#items[this.#head];
  }

  /** Drops every item. */
  clear(): void {
    this.#items = [];
    this.#head = 0;
  }

  /** Iterates head to tail. */
  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.#head; i < this.#items.length; i++) yield this.#items[i] as T;
  }
}
