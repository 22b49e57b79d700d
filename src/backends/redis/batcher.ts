/**
 * Coalesces calls made while the event loop is busy into one round trip (group commit).
 * Items added before the current tick's continuations have run are sent together on
 * `process.nextTick`, in batches of at most `maxItems` items / `maxBytes` bytes, so 64
 * concurrent callers cost a few script calls instead of 64. Every caller still gets its
 * own result, and a failed batch rejects each of its callers. Several batches may be in
 * flight at once; order within a batch is the order of the calls.
 *
 * @internal
 */
export class Batcher<I, O> {
  readonly #run: (items: readonly I[]) => Promise<readonly O[]>;
  readonly #maxItems: number;
  readonly #maxBytes: number;
  readonly #sizeOf: (item: I) => number;
  #items: I[] = [];
  #settlers: { resolve: (value: O) => void; reject: (reason: unknown) => void }[] = [];
  #bytes = 0;
  #scheduled = false;

  constructor(
    run: (items: readonly I[]) => Promise<readonly O[]>,
    options: { maxItems: number; maxBytes?: number; sizeOf?: (item: I) => number },
  ) {
    this.#run = run;
    this.#maxItems = options.maxItems;
    this.#maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    this.#sizeOf = options.sizeOf ?? (() => 0);
  }

  /** Number of items waiting for the next flush. */
  get pending(): number {
    return this.#items.length;
  }

  /** Queues `item` and resolves with its result once its batch has run. */
  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      const size = this.#sizeOf(item);
      if (this.#items.length > 0 && this.#bytes + size > this.#maxBytes) this.#flush();
      this.#items.push(item);
      this.#settlers.push({ resolve, reject });
      this.#bytes += size;
      if (this.#items.length >= this.#maxItems) this.#flush();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        process.nextTick(() => {
          this.#scheduled = false;
          this.#flush();
        });
      }
    });
  }

  #flush(): void {
    if (this.#items.length === 0) return;
    const items = this.#items;
    const settlers = this.#settlers;
    this.#items = [];
    this.#settlers = [];
    this.#bytes = 0;
    this.#run(items).then(
      (results) => {
        for (let i = 0; i < settlers.length; i++) {
          const settler = settlers[i];
          if (settler === undefined) continue;
          if (i < results.length) settler.resolve(results[i] as O);
          else settler.reject(new Error('batch returned too few results'));
        }
      },
      (error: unknown) => {
        for (const settler of settlers) settler.reject(error);
      },
    );
  }
}
