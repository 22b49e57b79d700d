/**
 * Message, option and statistics types shared by the topic hubs.
 *
 * @module
 */
import type { OverflowPolicy } from './receiver.js';

/**
 * A message as delivered by a topic hub. One object is shared by every subscriber of a
 * publish (namespaced subscribers get their own, with the prefix removed): treat it and
 * its payload as immutable.
 */
export interface TypedMessage<T> {
  /** The topic it was published to (without the namespace prefix in a namespaced view). */
  readonly topic: string;
  /** The published value (shared by all receivers of one publish: treat it as immutable). */
  readonly payload: T;
  /** Publish time, epoch milliseconds from the hub's clock. */
  readonly timestamp: number;
}

/** Options of a handler subscription (`on`). */
export interface HandlerOptions<T> {
  /**
   * Only messages for which this returns true are delivered. It runs inside `publish`;
   * a throwing filter counts as false and is reported to `onError`.
   */
  readonly filter?: ((payload: T, topic: string) => boolean) | undefined;
  /** Receive the replay buffer of matching topics first (default true when replay is on). */
  readonly replay?: boolean | undefined;
}

/** Options of a receiver subscription (`subscribe`). */
export interface SubscribeOptions<T> extends HandlerOptions<T> {
  /** Buffer capacity; default: the hub's `capacity`. */
  readonly capacity?: number | undefined;
  /** Overflow policy; default: the hub's `overflow`. */
  readonly overflow?: OverflowPolicy | undefined;
  /** Told, on the consumer side, how many messages were lost before the next one. */
  readonly onLag?: ((missed: number) => void) | undefined;
}

/** Counters of a topic hub since creation, and its current sizes. */
export interface PubSubStats {
  /** `publish`/`publishAsync` calls that delivered (matched or not). */
  readonly published: number;
  /** Deliveries accepted (handler called or message buffered). */
  readonly delivered: number;
  /** Deliveries refused by full `'drop-newest'` (or re-entrantly full `'block'`) receivers. */
  readonly dropped: number;
  /** Buffered messages overwritten in full `'drop-oldest'` receivers. */
  readonly lagged: number;
  /** Active subscriptions. */
  readonly subscriptions: number;
  /** Distinct patterns subscribed. */
  readonly patterns: number;
  /** Topics holding a replay buffer. */
  readonly replayTopics: number;
  /** Topics in the wildcard match cache. */
  readonly cachedTopics: number;
  /** Nodes of the wildcard trie (1, the root, when no wildcard pattern is subscribed). */
  readonly indexNodes: number;
}
