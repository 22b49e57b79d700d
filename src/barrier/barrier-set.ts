import { throwIfAborted, waitFor, type TimedWaitOptions } from '../core/abort.js';
import { systemClock, type Clock } from '../core/clock.js';
import {
  CapacityExceededError,
  ClosedError,
  InvalidStateError,
  NotFoundError,
  isMajraError,
} from '../core/errors.js';
import { Lifecycle, type Closeable } from '../core/lifecycle.js';
import { noopMetrics, type MetricsSink } from '../core/metrics.js';
import {
  invalid,
  nonEmptyString,
  nonNegativeNumber,
  optionalSignal,
  positiveInteger,
} from '../core/validate.js';
import {
  BARRIER_ACTIVE,
  BARRIER_ARRIVALS,
  BARRIER_FORCED,
  BARRIER_RELEASES,
  BARRIER_WAITERS,
  BARRIER_WAIT_FAILURES,
} from './metrics.js';
import {
  DEFAULT_MAX_BARRIERS,
  DEFAULT_MAX_PARTICIPANTS,
  MAX_BARRIER_NAME_LENGTH,
  type BarrierRecord,
  type BarrierResult,
  type BarrierSetOptions,
  type BarrierStats,
} from './types.js';

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

interface Barrier {
  readonly name: string;
  readonly expected: Set<string>;
  readonly arrived: Set<string>;
  forced: boolean;
  released: boolean;
  readonly waiters: Set<Waiter>;
}

const RELEASED: BarrierResult = Object.freeze({ status: 'released' });

/**
 * Named N-way barriers. Each barrier declares its participants; it releases once every
 * declared participant has arrived, waking everyone waiting in
 * {@link BarrierSet.arriveAndWait} / {@link BarrierSet.wait}. A dead participant is
 * removed with {@link BarrierSet.forceRelease} so the others are not deadlocked. Waits
 * take `signal` and `timeoutMs`, and are rejected with a typed error when their barrier
 * is completed or re-created before it released, or when the set closes. A released
 * barrier stays (answering `released`) until {@link BarrierSet.complete} removes it.
 *
 * @example
 * ```ts
 * const barriers = new BarrierSet();
 * barriers.create('epoch-7', ['w1', 'w2', 'w3']);
 * await Promise.all(
 *   ['w1', 'w2', 'w3'].map((w) => barriers.arriveAndWait('epoch-7', w, { timeoutMs: 30_000 })),
 * );
 * barriers.complete('epoch-7'); // { name, participants: ['w1', 'w2', 'w3'], forced: false, released: true }
 * ```
 */
export class BarrierSet implements Closeable {
  readonly #barriers = new Map<string, Barrier>();
  readonly #maxBarriers: number;
  readonly #maxParticipants: number;
  readonly #clock: Clock;
  readonly #metrics: MetricsSink;
  readonly #life = new Lifecycle('BarrierSet');
  #waiters = 0;
  #arrivals = 0;
  #releases = 0;
  #forced = 0;
  #failedWaits = 0;

  /**
   * Creates an empty set; validates `maxBarriers` and the other options (`ERR_INVALID_ARGUMENT`).
   */
  constructor(options: BarrierSetOptions = {}) {
    this.#maxBarriers =
      options.maxBarriers === undefined
        ? DEFAULT_MAX_BARRIERS
        : positiveInteger('maxBarriers', options.maxBarriers);
    this.#maxParticipants =
      options.maxParticipants === undefined
        ? DEFAULT_MAX_PARTICIPANTS
        : positiveInteger('maxParticipants', options.maxParticipants);
    this.#clock = options.clock ?? systemClock;
    this.#metrics = options.metrics ?? noopMetrics;
  }

  /** Barriers defined. */
  get size(): number {
    return this.#barriers.size;
  }

  /** True when no barrier is defined. */
  isEmpty(): boolean {
    return this.#barriers.size === 0;
  }

  /** True when a barrier named `name` is defined. */
  has(name: string): boolean {
    return this.#barriers.has(name);
  }

  /**
   * Defines barrier `name` expecting `participants` (at least one, distinct). Returns true
   * for a new name; false when it replaced an existing barrier, whose pending waiters are
   * rejected with ERR_BARRIER_REPLACED.
   */
  create(name: string, participants: Iterable<string>): boolean {
    this.#life.assertOpen('create');
    nonEmptyString('name', name, MAX_BARRIER_NAME_LENGTH);
    const expected = this.#participants(participants);
    const old = this.#barriers.get(name);
    if (old === undefined && this.#barriers.size >= this.#maxBarriers) {
      throw new CapacityExceededError(`barrier set is full: maxBarriers (${this.#maxBarriers})`, {
        code: 'ERR_BARRIER_CAPACITY',
        details: { maxBarriers: this.#maxBarriers },
      });
    }
    if (old !== undefined) {
      this.#rejectWaiters(
        old,
        'replaced',
        new InvalidStateError(`barrier "${name}" was re-created before it released`, {
          code: 'ERR_BARRIER_REPLACED',
        }),
      );
    }
    this.#barriers.set(name, {
      name,
      expected,
      arrived: new Set(),
      forced: false,
      released: false,
      waiters: new Set(),
    });
    this.#metrics.set(BARRIER_ACTIVE, this.#barriers.size);
    return old === undefined;
  }

  /**
   * Records that `participant` arrived. Returns `released` when that completed the
   * barrier (or it had already released), otherwise how many of the expected arrived.
   * Throws ERR_BARRIER_NOT_FOUND, ERR_BARRIER_UNKNOWN_PARTICIPANT for a name not declared,
   * and ERR_BARRIER_DUPLICATE_ARRIVAL for a second arrival before release.
   */
  arrive(name: string, participant: string): BarrierResult {
    this.#life.assertOpen('arrive');
    const barrier = this.#get(name);
    nonEmptyString('participant', participant, MAX_BARRIER_NAME_LENGTH);
    this.#assertMember(barrier, participant);
    if (barrier.released) return RELEASED;
    if (barrier.arrived.has(participant)) {
      throw new InvalidStateError(
        `participant "${participant}" already arrived at barrier "${name}"`,
        { code: 'ERR_BARRIER_DUPLICATE_ARRIVAL', details: { barrier: name, participant } },
      );
    }
    barrier.arrived.add(participant);
    this.#arrivals++;
    this.#metrics.increment(BARRIER_ARRIVALS);
    return this.#evaluate(barrier);
  }

  /**
   * Arrives, then waits until the barrier releases. Rejects (before arriving) with the
   * errors of {@link BarrierSet.arrive} or when `signal` is already aborted; after
   * arriving with TimeoutError (`timeoutMs`), AbortedError (`signal`), ERR_BARRIER_REMOVED,
   * ERR_BARRIER_REPLACED or ClosedError. A participant whose wait failed stays arrived:
   * call {@link BarrierSet.wait} to wait again.
   */
  async arriveAndWait(
    name: string,
    participant: string,
    options: TimedWaitOptions = {},
  ): Promise<void> {
    const signal = optionalSignal('signal', options.signal);
    if (options.timeoutMs !== undefined) nonNegativeNumber('timeoutMs', options.timeoutMs);
    throwIfAborted(signal, `barrier "${name}"`);
    if (this.arrive(name, participant).status === 'released') return;
    await this.#wait(this.#get(name), options);
  }

  /**
   * Waits until barrier `name` releases without arriving (for observers, or to wait again
   * after a timed-out {@link BarrierSet.arriveAndWait}). Resolves at once when released.
   */
  async wait(name: string, options: TimedWaitOptions = {}): Promise<void> {
    this.#life.assertOpen('wait');
    const signal = optionalSignal('signal', options.signal);
    if (options.timeoutMs !== undefined) nonNegativeNumber('timeoutMs', options.timeoutMs);
    const barrier = this.#get(name);
    throwIfAborted(signal, `barrier "${name}"`);
    if (barrier.released) return;
    await this.#wait(barrier, options);
  }

  /**
   * Removes `participant` (a dead worker) from the barrier's expected and arrived sets and
   * marks it forced; if everyone left has arrived, the barrier releases. Throws
   * ERR_BARRIER_NOT_FOUND or ERR_BARRIER_UNKNOWN_PARTICIPANT.
   */
  forceRelease(name: string, participant: string): BarrierResult {
    this.#life.assertOpen('forceRelease');
    const barrier = this.#get(name);
    nonEmptyString('participant', participant, MAX_BARRIER_NAME_LENGTH);
    this.#assertMember(barrier, participant);
    barrier.expected.delete(participant);
    barrier.arrived.delete(participant);
    barrier.forced = true;
    this.#forced++;
    this.#metrics.increment(BARRIER_FORCED);
    if (barrier.released) return RELEASED;
    return this.#evaluate(barrier);
  }

  /** The reference's name for {@link BarrierSet.forceRelease}. */
  force(name: string, participant: string): BarrierResult {
    return this.forceRelease(name, participant);
  }

  /** Where barrier `name` stands, or undefined when it is not defined. */
  status(name: string): BarrierResult | undefined {
    const barrier = this.#barriers.get(name);
    if (barrier === undefined) return undefined;
    if (barrier.released) return RELEASED;
    return { status: 'waiting', arrived: barrier.arrived.size, expected: barrier.expected.size };
  }

  /**
   * Removes barrier `name` and returns its record, or undefined when it is not defined.
   * Waiters of a barrier that had not released are rejected with ERR_BARRIER_REMOVED.
   */
  complete(name: string): BarrierRecord | undefined {
    const barrier = this.#barriers.get(name);
    if (barrier === undefined) return undefined;
    this.#barriers.delete(name);
    this.#metrics.set(BARRIER_ACTIVE, this.#barriers.size);
    this.#rejectWaiters(
      barrier,
      'removed',
      new InvalidStateError(`barrier "${name}" was completed before it released`, {
        code: 'ERR_BARRIER_REMOVED',
      }),
    );
    return Object.freeze({
      name,
      participants: Object.freeze([...barrier.arrived].sort()),
      forced: barrier.forced,
      released: barrier.released,
    });
  }

  /** Counters and current sizes. */
  stats(): BarrierStats {
    return {
      barriers: this.#barriers.size,
      waiters: this.#waiters,
      arrivals: this.#arrivals,
      releases: this.#releases,
      forced: this.#forced,
      failedWaits: this.#failedWaits,
    };
  }

  /** Resolves once closed. */
  get closed(): Promise<void> {
    return this.#life.closed;
  }

  /** True once `close()` was called. */
  get isClosed(): boolean {
    return this.#life.isClosed;
  }

  /** Rejects every pending wait with ClosedError and removes every barrier. Idempotent. */
  close(): Promise<void> {
    this.#life.closeSync(() => {
      for (const barrier of this.#barriers.values()) {
        this.#rejectWaiters(barrier, 'closed', new ClosedError('barrier set closed'));
      }
      this.#barriers.clear();
      this.#metrics.set(BARRIER_ACTIVE, 0);
    });
    return this.#life.closed;
  }

  /** Same as `close()`, so `await using barriers = ...` closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #participants(participants: Iterable<string>): Set<string> {
    if (
      typeof participants !== 'object' ||
      (participants as unknown) === null ||
      typeof (participants as Partial<Iterable<string>>)[Symbol.iterator] !== 'function'
    ) {
      invalid('participants', 'an iterable of participant names', participants);
    }
    const expected = new Set<string>();
    for (const p of participants) {
      nonEmptyString('participant', p, MAX_BARRIER_NAME_LENGTH);
      if (expected.has(p)) invalid('participants', 'distinct names', p);
      expected.add(p);
      if (expected.size > this.#maxParticipants) {
        throw new CapacityExceededError(
          `barrier has more than maxParticipants (${this.#maxParticipants}) participants`,
          { code: 'ERR_BARRIER_CAPACITY', details: { maxParticipants: this.#maxParticipants } },
        );
      }
    }
    if (expected.size === 0) invalid('participants', 'at least one participant', participants);
    return expected;
  }

  #get(name: string): Barrier {
    nonEmptyString('name', name, MAX_BARRIER_NAME_LENGTH);
    const barrier = this.#barriers.get(name);
    if (barrier === undefined) {
      throw new NotFoundError(`unknown barrier: ${name}`, {
        code: 'ERR_BARRIER_NOT_FOUND',
        details: { barrier: name },
      });
    }
    return barrier;
  }

  #assertMember(barrier: Barrier, participant: string): void {
    if (!barrier.expected.has(participant)) {
      throw new NotFoundError(
        `participant "${participant}" is not declared by barrier "${barrier.name}"`,
        {
          code: 'ERR_BARRIER_UNKNOWN_PARTICIPANT',
          details: { barrier: barrier.name, participant },
        },
      );
    }
  }

  #evaluate(barrier: Barrier): BarrierResult {
    // Only declared participants arrive and forceRelease removes from both sets, so
    // arrived ⊆ expected and equal sizes mean everyone is there.
    if (barrier.arrived.size < barrier.expected.size) {
      return { status: 'waiting', arrived: barrier.arrived.size, expected: barrier.expected.size };
    }
    barrier.released = true;
    this.#releases++;
    this.#metrics.increment(BARRIER_RELEASES);
    const waiters = [...barrier.waiters];
    barrier.waiters.clear();
    for (const waiter of waiters) waiter.resolve();
    return RELEASED;
  }

  async #wait(barrier: Barrier, options: TimedWaitOptions): Promise<void> {
    try {
      await waitFor<undefined>(
        (resolve, reject) => {
          const waiter: Waiter = { resolve: () => resolve(undefined), reject };
          barrier.waiters.add(waiter);
          this.#waiters++;
          this.#metrics.set(BARRIER_WAITERS, this.#waiters);
          return () => {
            barrier.waiters.delete(waiter);
            this.#waiters--;
            this.#metrics.set(BARRIER_WAITERS, this.#waiters);
          };
        },
        {
          signal: options.signal,
          timeoutMs: options.timeoutMs,
          clock: this.#clock,
          what: `barrier "${barrier.name}"`,
        },
      );
    } catch (error) {
      if (isMajraError(error, 'ERR_TIMEOUT')) this.#failed('timeout');
      else if (isMajraError(error, 'ERR_ABORTED')) this.#failed('aborted');
      throw error;
    }
  }

  #rejectWaiters(barrier: Barrier, reason: string, error: Error): void {
    const waiters = [...barrier.waiters];
    barrier.waiters.clear();
    for (const waiter of waiters) {
      this.#failed(reason);
      waiter.reject(error);
    }
  }

  #failed(reason: string): void {
    this.#failedWaits++;
    this.#metrics.increment(BARRIER_WAIT_FAILURES, 1, { reason });
  }
}
