/**
 * Internals shared by the hubs: one subscription (a handler or a receiver, with an
 * optional filter) and the per-pattern entry that lists them.
 *
 * @module
 * @internal
 */
import { toError } from '../core/errors.js';
import type { IndexEntry } from './topic-index.js';
import type { ReceiverQueue } from './receiver.js';

/** Called with a handler's, filter's or hook's error. */
export type PubSubErrorHandler = (error: Error) => void;

/** A subscription. `seq` is its creation order, set to Infinity once it is closed. */
export class Subscription<M, P> {
  seq: number;
  readonly handler: ((message: M) => void) | undefined;
  readonly receiver: ReceiverQueue<M> | undefined;
  readonly filter: ((payload: P, topic: string) => boolean) | undefined;
  /** Characters to strip from the topic before delivery (namespace prefix), 0 for none. */
  readonly strip: number;
  /** The pattern entry it belongs to. */
  entry: PatternEntry<M, P> | undefined = undefined;

  constructor(
    seq: number,
    handler: ((message: M) => void) | undefined,
    receiver: ReceiverQueue<M> | undefined,
    filter: ((payload: P, topic: string) => boolean) | undefined,
    strip: number,
  ) {
    this.seq = seq;
    this.handler = handler;
    this.receiver = receiver;
    this.filter = filter;
    this.strip = strip;
  }

  /** True for a receiver with the block policy. */
  get blocking(): boolean {
    return this.receiver !== undefined && this.receiver.overflow === 'block';
  }

  get isClosed(): boolean {
    return this.seq === Infinity;
  }
}

/** The subscriptions of one pattern. */
export class PatternEntry<M, P> implements IndexEntry {
  readonly pattern: string;
  readonly seq: number;
  subs: Subscription<M, P>[] = [];

  constructor(pattern: string, seq: number) {
    this.pattern = pattern;
    this.seq = seq;
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
