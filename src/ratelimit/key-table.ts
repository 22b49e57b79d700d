/**
 * Compact per-key storage for the in-memory limiters: a `Map<string, slot>` index and
 * parallel typed arrays indexed by slot (the limiter's numeric columns, last access
 * time and an intrusive least-recently-used list). No per-key object, closure or timer
 * exists, which is what keeps a key near 100 bytes (see docs/ratelimit.md).
 *
 * @internal
 */

const NONE = -1;
const INITIAL_CAPACITY = 1024;

/** Slot storage with LRU order; columns are `stride` float64 values per slot. */
export class KeyTable {
  /** Limiter columns: slot `s` owns `data[s * stride] .. data[s * stride + stride - 1]`. */
  data: Float64Array;
  /** Last access time (clock ms) per slot. */
  lastAccess: Float64Array;
  readonly #stride: number;
  readonly #maxKeys: number;
  readonly #index = new Map<string, number>();
  #keys: (string | undefined)[] = [];
  #prev: Int32Array;
  #next: Int32Array;
  /** Least recently used slot. */
  #head = NONE;
  /** Most recently used slot. */
  #tail = NONE;
  /** Singly linked free list through `#next`. */
  #free = NONE;
  /** Slots ever handed out (high-water mark); slots below it are used or free. */
  #used = 0;
  #capacity: number;

  constructor(stride: number, maxKeys: number) {
    this.#stride = stride;
    this.#maxKeys = maxKeys;
    this.#capacity = Math.min(maxKeys, INITIAL_CAPACITY);
    this.data = new Float64Array(this.#capacity * stride);
    this.lastAccess = new Float64Array(this.#capacity);
    this.#prev = new Int32Array(this.#capacity);
    this.#next = new Int32Array(this.#capacity);
  }

  /** Keys currently stored. */
  get size(): number {
    return this.#index.size;
  }

  /** The slot of `key`, or -1. Does not touch LRU order. */
  find(key: string): number {
    const slot = this.#index.get(key);
    return slot === undefined ? NONE : slot;
  }

  /** Records an access at `now` and moves `slot` to the most-recently-used end. */
  touch(slot: number, now: number): void {
    this.lastAccess[slot] = now;
    if (slot === this.#tail) return;
    this.#unlink(slot);
    this.#append(slot);
  }

  /** Last access of the least recently used key, or NaN when empty. */
  oldestAccess(): number {
    return this.#head === NONE ? Number.NaN : (this.lastAccess[this.#head] ?? Number.NaN);
  }

  /**
   * Adds `key` (known to be absent) with `lastAccess = now`; its columns are zeroed.
   * When the table is full, first removes the least recently used key if
   * `now - lastAccess >= staleAfterMs`, and sets {@link KeyTable.lastInsertEvicted};
   * returns -1 (nothing changed) when it is not stale.
   */
  insert(key: string, now: number, staleAfterMs: number): number {
    let slot: number;
    let evicted = false;
    if (this.#free !== NONE) {
      slot = this.#free;
      this.#free = this.#next[slot] ?? NONE;
    } else if (this.#used < this.#capacity) {
      slot = this.#used++;
    } else if (this.#capacity < this.#maxKeys) {
      this.#grow();
      slot = this.#used++;
    } else {
      const head = this.#head;
      if (head === NONE || now - (this.lastAccess[head] ?? 0) < staleAfterMs) return NONE;
      this.#remove(head);
      slot = this.#free;
      this.#free = this.#next[slot] ?? NONE;
      evicted = true;
    }
    this.#index.set(key, slot);
    this.#keys[slot] = key;
    this.lastAccess[slot] = now;
    this.data.fill(0, slot * this.#stride, slot * this.#stride + this.#stride);
    this.#append(slot);
    this.lastInsertEvicted = evicted;
    return slot;
  }

  /** True when the last successful {@link KeyTable.insert} had to evict a stale key. */
  lastInsertEvicted = false;

  /** Removes keys, oldest first, while `now - lastAccess >= staleAfterMs`. Returns the count. */
  evictStale(now: number, staleAfterMs: number): number {
    let count = 0;
    while (this.#head !== NONE && now - (this.lastAccess[this.#head] ?? 0) >= staleAfterMs) {
      this.#remove(this.#head);
      count++;
    }
    return count;
  }

  /** Removes every key and releases the columns. */
  clear(): void {
    this.#index.clear();
    this.#keys = [];
    this.#head = this.#tail = this.#free = NONE;
    this.#used = 0;
    this.#capacity = Math.min(this.#maxKeys, INITIAL_CAPACITY);
    this.data = new Float64Array(this.#capacity * this.#stride);
    this.lastAccess = new Float64Array(this.#capacity);
    this.#prev = new Int32Array(this.#capacity);
    this.#next = new Int32Array(this.#capacity);
  }

  #remove(slot: number): void {
    const key = this.#keys[slot];
    if (key !== undefined) this.#index.delete(key);
    this.#keys[slot] = undefined;
    this.#unlink(slot);
    this.#next[slot] = this.#free;
    this.#free = slot;
  }

  #unlink(slot: number): void {
    const prev = this.#prev[slot] ?? NONE;
    const next = this.#next[slot] ?? NONE;
    if (prev === NONE) this.#head = next;
    else this.#next[prev] = next;
    if (next === NONE) this.#tail = prev;
    else this.#prev[next] = prev;
  }

  #append(slot: number): void {
    this.#prev[slot] = this.#tail;
    this.#next[slot] = NONE;
    if (this.#tail === NONE) this.#head = slot;
    else this.#next[this.#tail] = slot;
    this.#tail = slot;
  }

  #grow(): void {
    const capacity = Math.min(this.#maxKeys, this.#capacity * 2);
    const data = new Float64Array(capacity * this.#stride);
    data.set(this.data);
    this.data = data;
    const lastAccess = new Float64Array(capacity);
    lastAccess.set(this.lastAccess);
    this.lastAccess = lastAccess;
    const prev = new Int32Array(capacity);
    prev.set(this.#prev);
    this.#prev = prev;
    const next = new Int32Array(capacity);
    next.set(this.#next);
    this.#next = next;
    this.#capacity = capacity;
  }
}
