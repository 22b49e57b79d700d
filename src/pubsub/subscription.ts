/**
 * Internals shared by the hubs: one subscription (a handler or a receiver, with an
 * optional filter) and the per-pattern entry that lists them.
 *
 * @module
 * @internal
 */
import { ClosedError, toError } from '../core/errors.js';
import type { IndexEntry } from './topic-index.js';
import type { ReceiverQueue } from './receiver.js';

/** Called with a handler's, filter's or hook's error. */
export type PubSubErrorHandler = (error: Error) => void;

/** A subscription. `seq` is its creation order, set to Infinity once it is closed. */
export class Subscription<M, P> {
  seq: number;
  readonly handler: ((payload: P, topic: string) => void) | undefined;
  readonly receiver: ReceiverQueue<M> | undefined;
  readonly filter: ((payload: P, topic: string) => boolean) | undefined;
  /** Characters to strip from the topic before delivery (namespace prefix), 0 for none. */
  readonly strip: number;
  /** A handler without filter or namespace: the publish loop calls it directly. */
  readonly plain: boolean;
  /** The pattern entry it belongs to. */
  entry: PatternEntry<M, P> | undefined = undefined;
  /** Removes it from its hub (one function per hub, shared by its subscriptions). */
  release: ((sub: Subscription<M, P>) => void) | undefined = undefined;

  constructor(
    seq: number,
    handler: ((payload: P, topic: string) => void) | undefined,
    receiver: ReceiverQueue<M> | undefined,
    filter: ((payload: P, topic: string) => boolean) | undefined,
    strip: number,
  ) {
    this.seq = seq;
    this.handler = handler;
    this.receiver = receiver;
    this.filter = filter;
    this.strip = strip;
    this.plain = handler !== undefined && filter === undefined && strip === 0;
  }

  /** True for a receiver with the block policy. */
  get blocking(): boolean {
    return this.receiver !== undefined && this.receiver.overflow === 'block';
  }

  get isClosed(): boolean {
    return this.seq === Infinity;
  }

  /** Removes it from its hub; idempotent. `on()` returns this bound to the subscription. */
  unsubscribe(): void {
    this.release?.(this);
  }
}

/** The subscriptions of one pattern. */
export class PatternEntry<M, P> implements IndexEntry {
  readonly pattern: string;
  readonly seq: number;
  subs: Subscription<M, P>[];
  /** Receiver subscriptions among `subs` (a publish builds a message only when > 0). */
  receivers = 0;

  constructor(first: Subscription<M, P>, pattern: string) {
    this.pattern = pattern;
    this.seq = first.seq;
    this.subs = [first]; // exact length: most patterns have one subscription
  }
}

/**
 * Calls `onError` without letting it throw into the publisher: a throwing error hook is
 * reported as a process warning instead.
 */
export function reportError(onError: PubSubErrorHandler, error: unknown): void {
  try {
    onError(toError(error));
  } catch (hookError) {
    process.emitWarning(toError(hookError));
  }
}

/** The default error hook: a process warning, so nothing is silently lost. */
export const warnOnError: PubSubErrorHandler = (error) => {
  process.emitWarning(error);
};

/** The error of an operation on a closed hub or channel. */
export function pubsubClosed(what: string, operation: string): ClosedError {
  return new ClosedError(`${what} is closed: cannot ${operation}`, { code: 'ERR_PUBSUB_CLOSED' });
}
