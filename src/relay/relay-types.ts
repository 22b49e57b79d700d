/**
 * The public option, router and statistics types of {@link Relay}.
 *
 * @module
 */
import type { WaitOptions } from '../core/abort.js';
import type { Clock } from '../core/clock.js';
import type { JsonValue } from '../core/codec.js';
import type { MetricsSink } from '../core/metrics.js';
import type { RelayMessage } from './message.js';

/** Outbound delivery: how a relay's messages reach other nodes (see `PeerRouter`). */
export interface RelayRouter {
  /** Delivers `message` to `message.to`, or to every peer when `to` is `''`. */
  deliver(message: RelayMessage, options?: WaitOptions): Promise<void>;
}

/** Answers a request; the resolved value is sent back as the reply payload. */
export type RequestHandler = (message: RelayMessage) => JsonValue | Promise<JsonValue>;

/** Options of {@link Relay}. */
export interface RelayOptions {
  /** Where outbound messages go. Without one, `send` & co. fail with `ERR_RELAY_NO_ROUTE`. */
  readonly router?: RelayRouter;
  /** Most senders tracked for deduplication (least recently accepted evicted). @defaultValue 65536 */
  readonly maxDedupEntries?: number;
  /** A sender silent for longer is forgotten (its next message is accepted). @defaultValue 600000 */
  readonly dedupTtlMs?: number;
  /** Most requests awaiting a reply at once. @defaultValue 10000 */
  readonly maxPendingRequests?: number;
  /** Timeout of a request that does not pass its own `timeoutMs`. @defaultValue 30000 */
  readonly requestTimeoutMs?: number;
  /** Capacity of each subscription's inbox. @defaultValue 256 */
  readonly subscriptionCapacity?: number;
  /** This node's incarnation. @defaultValue the wall clock in ms, strictly increasing within a process */
  readonly epoch?: number;
  /** Receives background errors (invalid inbound messages, failed handlers, broken links). */
  readonly onError?: (error: Error) => void;
  /** Time source for timestamps, request timeouts and dedup TTLs. @defaultValue systemClock */
  readonly clock?: Clock;
  /** Metrics sink (`majra_relay_*`). @defaultValue discards */
  readonly metrics?: MetricsSink;
}

/** Options of {@link Relay.request}. */
export interface RelayRequestOptions extends WaitOptions {
  /** Rejects with `ERR_RELAY_REQUEST_TIMEOUT` after this long. @defaultValue `requestTimeoutMs` */
  readonly timeoutMs?: number;
}

/** Counters of a {@link Relay}. */
export interface RelayStats {
  /** Messages emitted: sends, broadcasts (each counted once), requests and replies. */
  readonly messagesSent: number;
  /** Inbound messages accepted (after deduplication). */
  readonly messagesReceived: number;
  /** Inbound messages dropped as duplicate, replayed or from a stale epoch. */
  readonly duplicatesDropped: number;
  /** Sender entries removed from the dedup table (capacity or TTL). */
  readonly dedupEvicted: number;
  /** Senders tracked for deduplication now. */
  readonly dedupTableSize: number;
  /** Times a sender was seen with a newer epoch (it restarted) and its sequence was reset. */
  readonly epochResets: number;
  /** Replies ignored because they came from a node other than the one the request went to. */
  readonly misdirectedReplies: number;
  /** Inbound messages that failed validation (reported to `onError`). */
  readonly invalidMessages: number;
  /** Requests awaiting a reply now. */
  readonly pendingRequests: number;
  /** Requests that ended with `ERR_RELAY_REQUEST_TIMEOUT`. */
  readonly requestsTimedOut: number;
}
