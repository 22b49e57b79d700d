/**
 * One priority tier of a `ManagedQueue`: an intrusive doubly linked list of jobs in
 * arrival order. Append, remove-anywhere and head access are O(1) with no allocation,
 * and iteration never walks over removed entries (a Map used as a FIFO does).
 *
 * @internal
 */
export interface Linked<N> {
  prev: N | undefined;
  next: N | undefined;
}

/** @internal */
export class TierList<N extends Linked<N>> {
  head: N | undefined;
  tail: N | undefined;
  size = 0;

  push(node: N): void {
    node.prev = this.tail;
    node.next = undefined;
    if (this.tail === undefined) this.head = node;
    else this.tail.next = node;
    this.tail = node;
    this.size++;
  }

  /** Unlinks `node`, which must be in this list. */
  remove(node: N): void {
    if (node.prev === undefined) this.head = node.next;
    else node.prev.next = node.next;
    if (node.next === undefined) this.tail = node.prev;
    else node.next.prev = node.prev;
    node.prev = undefined;
    node.next = undefined;
    this.size--;
  }

  *[Symbol.iterator](): IterableIterator<N> {
    for (let node = this.head; node !== undefined; node = node.next) yield node;
  }
}
