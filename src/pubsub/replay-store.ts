/**
 * Per-topic replay buffers: the last `perTopic` messages of each concrete topic, for at
 * most `maxTopics` topics. The least recently published topic is evicted first.
 *
 * @module
 * @internal
 */
import { RingBuffer } from '../core/ring-buffer.js';
import { isWildcardPattern, matchValidated } from './topic.js';

export class ReplayStore<M> {
  readonly perTopic: number;
  readonly maxTopics: number;
  readonly #topics = new Map<string, RingBuffer<M>>();
  #evicted = 0;

  constructor(perTopic: number, maxTopics: number) {
    this.perTopic = perTopic;
    this.maxTopics = maxTopics;
  }

  /** Topics held. */
  get size(): number {
    return this.#topics.size;
  }

  /** Topics evicted so far to respect `maxTopics`. */
  get evicted(): number {
    return this.#evicted;
  }

  /** Records a message of a validated topic. */
  record(topic: string, message: M): void {
    const topics = this.#topics;
    let ring = topics.get(topic);
    if (ring === undefined) {
      if (topics.size >= this.maxTopics) {
        const oldest = topics.keys().next();
        if (oldest.done !== true) {
          topics.delete(oldest.value);
          this.#evicted++;
        }
      }
      ring = new RingBuffer<M>(this.perTopic);
    } else {
      topics.delete(topic); // re-insert: most recently published last
    }
    topics.set(topic, ring);
    ring.push(message);
  }

  /**
   * The retained messages for a validated pattern: for an exact pattern that topic's,
   * for a wildcard every matching topic's, oldest topic first, each in publish order.
   */
  matching(pattern: string): M[] {
    const out: M[] = [];
    if (!isWildcardPattern(pattern)) {
      const ring = this.#topics.get(pattern);
      if (ring !== undefined) for (const m of ring) out.push(m);
      return out;
    }
    for (const [topic, ring] of this.#topics) {
      if (matchValidated(pattern, topic)) for (const m of ring) out.push(m);
    }
    return out;
  }

  /** Drops everything. */
  clear(): void {
    this.#topics.clear();
  }
}
