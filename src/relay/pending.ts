import { abortError } from '../core/abort.js';
import type { Clock } from '../core/clock.js';
import { BackendError, CapacityExceededError, TimeoutError } from '../core/errors.js';
import type { MetricsSink } from '../core/metrics.js';
import { DeadlineSweep } from './deadlines.js';
import type { RelayMessage } from './message.js';
import {
  RELAY_LABELS,
  relayPendingRequests,
  relayRequests,
  type RelayRequestOutcome,
} from './metrics.js';

/**
 * One request awaiting its reply. Written as a class (no per-request closures kept in
 * fields) because it sits on the request hot path.
 *
 * @internal
 */
export class PendingRequest {
  readonly id: string;
  /** The node the request was sent to: the only node whose reply is accepted. */
  readonly to: string;
  readonly createdAt: number;
  /** Monotonic ms at which the request times out. */
  readonly deadline: number;
  readonly timeoutMs: number;
  readonly type: string;
  readonly promise: Promise<RelayMessage>;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  #resolve!: (message: RelayMessage) => void;
  #reject!: (error: Error) => void;
  #done = false;

  constructor(id: string, to: string, type: string, createdAt: number, timeoutMs: number) {
    this.id = id;
    this.to = to;
    this.type = type;
    this.createdAt = createdAt;
    this.timeoutMs = timeoutMs;
    this.deadline = createdAt + timeoutMs;
    this.promise = new Promise<RelayMessage>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  get isDone(): boolean {
    return this.#done;
  }

  /** Settles with `reply` (or rejects with `error`); returns false when already settled. */
  settle(reply: RelayMessage | undefined, error: Error | undefined): boolean {
    if (this.#done) return false;
    this.#done = true;
    if (this.onAbort !== undefined) this.signal?.removeEventListener('abort', this.onAbort);
    if (error !== undefined) this.#reject(error);
    else if (reply !== undefined) this.#resolve(reply);
    return true;
  }
}

/**
 * The requests of one relay awaiting their replies: bounded by `max`, each settled
 * exactly once (reply, remote error, timeout, abort, eviction, close, failed delivery)
 * and removed on every path, with the pending gauge and outcome counter kept current.
 *
 * @internal
 */
export class PendingRequests {
  readonly max: number;
  readonly #clock: Clock;
  readonly #metrics: MetricsSink;
  readonly #map = new Map<string, PendingRequest>();
  readonly #deadlines: DeadlineSweep<PendingRequest>;
  /** Requests that timed out, since creation. */
  timedOut = 0;

  constructor(max: number, clock: Clock, metrics: MetricsSink) {
    this.max = max;
    this.#clock = clock;
    this.#metrics = metrics;
    this.#deadlines = new DeadlineSweep(clock, (pending) => this.#timeOut(pending));
  }

  /** Entries the timeout sweep holds, live or settled: stays proportional to {@link size}. */
  get sweepHeld(): number {
    return this.#deadlines.held;
  }

  get size(): number {
    return this.#map.size;
  }

  get(correlationId: string): PendingRequest | undefined {
    return this.#map.get(correlationId);
  }

  /** @throws CapacityExceededError `ERR_RELAY_TOO_MANY_REQUESTS` at `max` (`nodeId` names the relay). */
  assertRoom(nodeId: string): void {
    if (this.#map.size >= this.max) {
      throw new CapacityExceededError(
        `relay ${nodeId} has ${this.#map.size} pending requests (maxPendingRequests)`,
        { code: 'ERR_RELAY_TOO_MANY_REQUESTS', details: { max: this.max } },
      );
    }
  }

  /**
   * Registers a request to `to` that times out after `timeoutMs` and aborts on `signal`.
   *
   * @throws CapacityExceededError `ERR_RELAY_TOO_MANY_REQUESTS` at `max` (`nodeId` names the relay).
   */
  open(
    nodeId: string,
    correlationId: string,
    to: string,
    type: string,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): PendingRequest {
    this.assertRoom(nodeId);
    const pending = new PendingRequest(correlationId, to, type, this.#clock.monotonic(), timeoutMs);
    this.#map.set(correlationId, pending);
    this.#metrics.set(relayPendingRequests, this.#map.size);
    if (signal !== undefined) {
      pending.signal = signal;
      pending.onAbort = () =>
        this.finish(pending, undefined, abortError(signal, 'request'), 'aborted');
      signal.addEventListener('abort', pending.onAbort, { once: true });
    }
    this.#deadlines.add(pending, timeoutMs);
    return pending;
  }

  #timeOut(pending: PendingRequest): void {
    this.timedOut++;
    const { id, to, type, timeoutMs } = pending;
    this.finish(
      pending,
      undefined,
      new TimeoutError(`relay request ${id} to ${to} timed out after ${timeoutMs} ms`, {
        code: 'ERR_RELAY_REQUEST_TIMEOUT',
        details: { to, type, timeoutMs },
      }),
      'timeout',
    );
  }

  /** Settles `pending` with `reply` (a reply carrying an error rejects) or `error`, and removes it. */
  finish(
    pending: PendingRequest,
    reply: RelayMessage | undefined,
    error: Error | undefined,
    outcome: RelayRequestOutcome,
  ): void {
    if (reply?.error !== undefined) {
      error = remoteError(reply);
      outcome = 'remote_error';
    }
    if (!pending.settle(reply, error)) return;
    this.#map.delete(pending.id);
    this.#deadlines.settled(this.#map.size);
    this.#metrics.set(relayPendingRequests, this.#map.size);
    this.#metrics.increment(relayRequests, 1, RELAY_LABELS.outcome[outcome]);
  }

  /** Rejects requests older than `maxAgeMs` with `ERR_RELAY_REQUEST_EVICTED`; returns how many. */
  evictOlderThan(maxAgeMs: number): number {
    const now = this.#clock.monotonic();
    let evicted = 0;
    for (const [cid, pending] of [...this.#map]) {
      if (now - pending.createdAt > maxAgeMs) {
        evicted++;
        this.finish(
          pending,
          undefined,
          new TimeoutError(`relay request ${cid} evicted after ${now - pending.createdAt} ms`, {
            code: 'ERR_RELAY_REQUEST_EVICTED',
          }),
          'evicted',
        );
      }
    }
    return evicted;
  }

  /** Rejects every pending request with `error`. */
  rejectAll(error: Error): void {
    for (const pending of [...this.#map.values()]) this.finish(pending, undefined, error, 'closed');
    this.#deadlines.clear();
  }
}

function remoteError(reply: RelayMessage): BackendError {
  const error = reply.error ?? { code: 'ERR_HANDLER', message: 'remote handler failed' };
  return new BackendError(`relay request to ${reply.from} failed remotely: ${error.message}`, {
    code: 'ERR_RELAY_REMOTE_ERROR',
    details: { remoteCode: error.code, from: reply.from },
  });
}
