/**
 * Who is subscribed to a `TypedPubSub`: the pattern index with its entries, the
 * subscription counts, and the compact form of single plain handlers on exact topics.
 * The hub decides what is allowed and delivers; this keeps the bookkeeping exact under
 * re-entrant subscribe/unsubscribe.
 *
 * @module
 * @internal
 */
import { PatternEntry, Subscription } from './subscription.js';
import { TopicIndex } from './topic-index.js';
import { isWildcardPattern } from './topic.js';
import type { TypedMessage } from './types.js';

/** @internal */
export type Sub<T> = Subscription<TypedMessage<T>, T>;
/** @internal */
export type Entry<T> = PatternEntry<TypedMessage<T>, T>;
/** @internal */
export type Handler<T> = (payload: T, topic: string) => void;
/**
 * What an exact topic maps to: its entry, or — for a topic whose only subscription is a
 * plain handler (no filter, namespace or replay) — the handler itself. The compact form
 * keeps a subscription to one Map slot (no entry, array or subscription object), which
 * is what makes 100k single-handler topics cheap; it becomes an entry as soon as a
 * second subscription joins the topic.
 *
 * @internal
 */
export type Slot<T> = Entry<T> | Handler<T>;

/** A subscription that started in the compact form (see {@link HubRegistry.add}). */
function isCompactBorn(sub: { readonly seq: number }): boolean {
  return sub.seq === 0;
}

/** @internal */
export class HubRegistry<T> {
  readonly index: TopicIndex<Entry<T>, Handler<T>>;
  /** The exact patterns (the publish hot path's one lookup). */
  readonly exact: ReadonlyMap<string, Slot<T>>;
  /** Active subscriptions (receivers and handlers). */
  subscriptions = 0;
  /** Active `'block'` receivers. */
  blocking = 0;
  /**
   * Whether new handler subscriptions may take the compact form. A compact handle finds
   * its subscription by (topic, handler), which is unambiguous only while no compact
   * subscription was ever removed behind its handle's back (`unsubscribeAll`, close);
   * after that the hub uses full subscriptions, so a stale handle never removes a newer one.
   */
  #compactOk = true;
  readonly #release = (sub: Sub<T>): void => this.close(sub);
  /** Told after every change of the counts or of the wildcard patterns. */
  readonly #changed: () => void;

  constructor(maxCachedTopics: number, changed: () => void) {
    this.index = new TopicIndex(maxCachedTopics);
    this.exact = this.index.exactMap;
    this.#changed = changed;
  }

  /** True when a plain handler on `pattern` can take the compact form now. */
  compactFits(pattern: string): boolean {
    return this.#compactOk && !isWildcardPattern(pattern) && this.index.get(pattern) === undefined;
  }

  /** Subscribes `handler` in the compact form (`compactFits` said yes); returns its handle. */
  addCompact(topic: string, handler: Handler<T>): () => void {
    this.index.setExact(topic, handler);
    this.subscriptions++;
    this.#changed();
    // The handle is the only per-subscription object, and only while the caller keeps it.
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#offCompact(topic, handler);
    };
  }

  /** Indexes a new (full) subscription of `pattern`. */
  add(pattern: string, sub: Sub<T>): void {
    let entry = this.index.get(pattern);
    if (typeof entry === 'function') {
      // A second subscription joins a compact topic: the handler becomes a subscription
      // (`seq` 0: older than any publish; it marks the one a compact handle owns).
      const first = new Subscription<TypedMessage<T>, T>(0, entry, undefined, undefined, 0);
      first.release = this.#release;
      entry = new PatternEntry<TypedMessage<T>, T>(first, pattern);
      first.entry = entry;
      this.index.setExact(pattern, entry);
    }
    if (entry === undefined) {
      const created = new PatternEntry<TypedMessage<T>, T>(sub, pattern);
      sub.entry = created;
      this.index.add(created);
    } else {
      sub.entry = entry;
      // In place even during a publish: the publish skips subscriptions newer than itself.
      entry.subs.push(sub);
    }
    if (sub.receiver !== undefined) (sub.entry as Entry<T>).receivers++;
    sub.release = this.#release;
    this.subscriptions++;
    if (sub.blocking) this.blocking++;
    this.#changed();
  }

  /** Removes a subscription (idempotent); a receiver drains, then ends. */
  close(sub: Sub<T>): void {
    if (sub.isClosed) return;
    sub.seq = Infinity;
    const entry = sub.entry;
    if (entry !== undefined) {
      // Copy on write: a publish in progress keeps iterating its own array.
      entry.subs = entry.subs.filter((s) => s !== sub);
      if (sub.receiver !== undefined) entry.receivers--;
      if (entry.subs.length === 0) this.index.delete(entry.pattern);
    }
    this.subscriptions--;
    if (sub.blocking) this.blocking--;
    this.#changed();
    sub.receiver?.end();
  }

  /** Ends every subscription of a validated `pattern`; returns how many. */
  unsubscribeAll(pattern: string): number {
    const entry = this.index.get(pattern);
    if (entry === undefined) return 0;
    // Its compact subscription's handle outlives it: see #compactOk.
    if (typeof entry === 'function' || entry.subs.some(isCompactBorn)) this.#compactOk = false;
    if (typeof entry === 'function') {
      this.#dropCompact(pattern);
      return 1;
    }
    const subs = [...entry.subs];
    for (const sub of subs) this.close(sub);
    return subs.length;
  }

  /** Removes closed receivers still indexed; returns how many. */
  cleanupDead(): number {
    let removed = 0;
    for (const entry of [...this.index.entries()]) {
      if (typeof entry === 'function') continue; // a handler: never dead
      for (const sub of [...entry.subs]) {
        if (sub.receiver?.isClosed === true) {
          this.close(sub);
          removed++;
        }
      }
    }
    return removed;
  }

  /** Ends every subscription. */
  closeAll(): void {
    this.#compactOk = false;
    for (const [topic, slot] of [...this.exact]) {
      if (typeof slot === 'function') this.#dropCompact(topic);
    }
    for (const entry of [...this.index.entries()]) {
      if (typeof entry === 'function') continue;
      for (const sub of [...entry.subs]) this.close(sub);
    }
    this.index.clearCache();
  }

  /** The first full `'block'` receiver among `exact` and `wild`, if any. */
  firstFull(exact: Slot<T> | undefined, wild: readonly Entry<T>[]): Sub<T> | undefined {
    if (exact !== undefined && typeof exact !== 'function') {
      for (const sub of exact.subs) if (sub.blocking && sub.receiver?.isFull === true) return sub;
    }
    for (const entry of wild) {
      for (const sub of entry.subs) if (sub.blocking && sub.receiver?.isFull === true) return sub;
    }
    return undefined;
  }

  /**
   * A compact handle's unsubscribe: its subscription is the topic's compact slot, or the
   * compact-born subscription of the entry the slot became; if neither is there, it was
   * already removed (see #compactOk for why this cannot be a newer one).
   */
  #offCompact(topic: string, handler: Handler<T>): void {
    const slot = this.exact.get(topic);
    if (slot === handler) {
      this.#dropCompact(topic);
    } else if (slot !== undefined && typeof slot !== 'function') {
      const sub = slot.subs.find(isCompactBorn);
      if (sub?.handler === handler) this.close(sub);
    }
  }

  #dropCompact(topic: string): void {
    this.index.delete(topic);
    this.subscriptions--;
    this.#changed();
  }
}
