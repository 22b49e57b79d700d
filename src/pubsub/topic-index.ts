/**
 * The pattern index behind every topic hub: exact patterns in a `Map` (publish is one
 * lookup), wildcard patterns in a trie walked level by level (publish cost follows the
 * matching branches, not the number of wildcard patterns), and a bounded cache of
 * topic → matching wildcard entries that every add/remove of a wildcard pattern keeps
 * exact by clearing it.
 *
 * @module
 * @internal
 */
import { isWildcardPattern, validateTopic } from './topic.js';

/** What the index stores per pattern. `seq` orders delivery (subscription order). */
export interface IndexEntry {
  readonly pattern: string;
  readonly seq: number;
}

/** Default bound of the topic → wildcard-match cache. */
export const DEFAULT_MATCH_CACHE_SIZE = 1024;

class TrieNode<E> {
  /** Literal children by level text. */
  children: Map<string, TrieNode<E>> | undefined = undefined;
  /** The `+`/`*` child (they are aliases). */
  single: TrieNode<E> | undefined = undefined;
  /** Patterns ending at this node. */
  ends: E[] | undefined = undefined;
  /** Patterns `<path>/#` (or `#`) whose `#` hangs off this node. */
  rest: E[] | undefined = undefined;
  /** Patterns stored in this subtree, for pruning. */
  count = 0;
}

const NO_MATCHES: readonly never[] = Object.freeze([]);

/**
 * Pattern → entry index with exact lookup, a wildcard trie and a bounded match cache.
 * An exact pattern may map to a compact value `C` instead of an entry (see
 * {@link TopicIndex.setExact}); wildcard patterns always map to entries.
 */
export class TopicIndex<E extends IndexEntry, C = never> {
  readonly #exact = new Map<string, E | C>();
  /** The exact patterns (read-only view for the publish hot path). */
  readonly exactMap: ReadonlyMap<string, E | C> = this.#exact;
  readonly #wildcards = new Map<string, E>();
  readonly #root = new TrieNode<E>();
  readonly #cache = new Map<string, readonly E[]>();
  readonly #maxCache: number;
  #nodes = 1;

  constructor(maxCachedTopics = DEFAULT_MATCH_CACHE_SIZE) {
    this.#maxCache = maxCachedTopics;
  }

  /** Number of patterns. */
  get size(): number {
    return this.#exact.size + this.#wildcards.size;
  }

  /** Number of wildcard patterns. */
  get wildcardCount(): number {
    return this.#wildcards.size;
  }

  /** Topics currently in the match cache. */
  get cacheSize(): number {
    return this.#cache.size;
  }

  /** Trie nodes, including the root (1 when empty). */
  get nodeCount(): number {
    return this.#nodes;
  }

  /** The entry of a pattern. */
  get(pattern: string): E | C | undefined {
    return this.#exact.get(pattern) ?? this.#wildcards.get(pattern);
  }

  /** The entry whose exact (wildcard-free) pattern equals `topic`. */
  exact(topic: string): E | C | undefined {
    return this.#exact.get(topic);
  }

  /** Every entry, exact ones first, each group in insertion order. */
  *entries(): IterableIterator<E | C> {
    yield* this.#exact.values();
    yield* this.#wildcards.values();
  }

  /** Adds a validated pattern that is not present. */
  add(entry: E): void {
    const pattern = entry.pattern;
    if (!isWildcardPattern(pattern)) {
      this.#exact.set(pattern, entry);
      return;
    }
    this.#wildcards.set(pattern, entry);
    if (this.#cache.size > 0) this.#cache.clear();
    let node = this.#root;
    node.count++;
    let start = 0;
    for (;;) {
      let end = pattern.indexOf('/', start);
      if (end < 0) end = pattern.length;
      const level = pattern.slice(start, end);
      if (level === '#') {
        (node.rest ??= []).push(entry);
        return;
      }
      let next: TrieNode<E> | undefined;
      if (level === '+' || level === '*') {
        next = node.single ??= this.#newNode();
      } else {
        const children = (node.children ??= new Map<string, TrieNode<E>>());
        next = children.get(level);
        if (next === undefined) {
          next = this.#newNode();
          children.set(level, next);
        }
      }
      node = next;
      node.count++;
      if (end === pattern.length) {
        (node.ends ??= []).push(entry);
        return;
      }
      start = end + 1;
    }
  }

  /**
   * Sets the value of a validated exact (wildcard-free) pattern, adding or replacing it:
   * the hub stores a compact value for a pattern with a single plain subscription.
   */
  setExact(pattern: string, value: E | C): void {
    this.#exact.set(pattern, value);
  }

  /** Removes a pattern; returns whether it was present. */
  delete(pattern: string): boolean {
    if (this.#exact.delete(pattern)) return true;
    const entry = this.#wildcards.get(pattern);
    if (entry === undefined) return false;
    this.#wildcards.delete(pattern);
    if (this.#cache.size > 0) this.#cache.clear();
    this.#remove(this.#root, pattern, 0, entry);
    return true;
  }

  /**
   * The wildcard entries matching `topic`, in `seq` order. The array is shared and must
   * not be mutated; it stays valid (a snapshot) after index changes. With `validate`,
   * a topic that is not cached is validated first (cached topics were validated).
   *
   * @throws InvalidArgumentError (`ERR_PUBSUB_INVALID_TOPIC`) when validating.
   */
  matchWildcards(topic: string, validate = false): readonly E[] {
    const cached = this.#cache.get(topic);
    if (cached !== undefined) return cached;
    if (validate) validateTopic(topic);
    if (this.#wildcards.size === 0) return NO_MATCHES;
    const out: E[] = [];
    this.#collect(this.#root, topic.split('/'), 0, out);
    if (out.length > 1) out.sort(bySeq);
    const result: readonly E[] = out.length === 0 ? NO_MATCHES : out;
    if (this.#maxCache > 0) {
      if (this.#cache.size >= this.#maxCache) {
        const oldest = this.#cache.keys().next();
        if (oldest.done !== true) this.#cache.delete(oldest.value);
      }
      this.#cache.set(topic, result);
    }
    return result;
  }

  /** Drops the match cache. */
  clearCache(): void {
    this.#cache.clear();
  }

  #newNode(): TrieNode<E> {
    this.#nodes++;
    return new TrieNode<E>();
  }

  #collect(node: TrieNode<E>, levels: readonly string[], depth: number, out: E[]): void {
    if (node.rest !== undefined) for (const e of node.rest) out.push(e);
    if (depth === levels.length) {
      if (node.ends !== undefined) for (const e of node.ends) out.push(e);
      return;
    }
    const level = levels[depth] as string;
    const literal = node.children?.get(level);
    if (literal !== undefined) this.#collect(literal, levels, depth + 1, out);
    if (node.single !== undefined) this.#collect(node.single, levels, depth + 1, out);
  }

  /** Removes `entry` below `node`; returns true when `node` became empty. */
  #remove(node: TrieNode<E>, pattern: string, start: number, entry: E): boolean {
    node.count--;
    let end = pattern.indexOf('/', start);
    if (end < 0) end = pattern.length;
    const level = pattern.slice(start, end);
    if (level === '#') {
      node.rest = without(node.rest, entry);
    } else {
      const single = level === '+' || level === '*';
      const child = single ? node.single : node.children?.get(level);
      if (child !== undefined) {
        const emptied =
          end === pattern.length
            ? this.#removeEnd(child, entry)
            : this.#remove(child, pattern, end + 1, entry);
        if (emptied) {
          this.#nodes--;
          if (single) node.single = undefined;
          else {
            node.children?.delete(level);
            if (node.children?.size === 0) node.children = undefined;
          }
        }
      }
    }
    return node.count === 0 && node !== this.#root;
  }

  #removeEnd(node: TrieNode<E>, entry: E): boolean {
    node.count--;
    node.ends = without(node.ends, entry);
    return node.count === 0;
  }
}

function bySeq(a: IndexEntry, b: IndexEntry): number {
  return a.seq - b.seq;
}

function without<E>(list: E[] | undefined, entry: E): E[] | undefined {
  if (list === undefined) return undefined;
  const i = list.indexOf(entry);
  if (i >= 0) list.splice(i, 1);
  return list.length === 0 ? undefined : list;
}
