import { systemClock, type Clock } from '../core/clock.js';
import { InvalidStateError, toError } from '../core/errors.js';
import { noopMetrics, type MetricsSink } from '../core/metrics.js';
import { isFunction, nonNegativeNumber, positiveInteger } from '../core/validate.js';
import { circuitRejected, circuitTransitions } from './metrics.js';

/** The three states of a {@link CircuitBreaker}. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** A state change reported by {@link CircuitBreaker.onStateChange}. */
export interface CircuitStateChange {
  /** State before the change. */
  readonly from: CircuitState;
  /** State after it. */
  readonly to: CircuitState;
  /** The breaker's name (the endpoint, inside a ConnectionPool). */
  readonly name: string;
}

/** Options of {@link CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. @defaultValue 5 */
  readonly failureThreshold?: number;
  /** Time the circuit stays open before admitting probes. @defaultValue 30000 */
  readonly cooldownMs?: number;
  /** Calls admitted at once while half-open. @defaultValue 1 */
  readonly halfOpenMaxProbes?: number;
  /** Name used in error messages and events. @defaultValue 'circuit' */
  readonly name?: string;
  /** Decides whether an error counts as a failure. @defaultValue every error counts */
  readonly isFailure?: (error: unknown) => boolean;
  /** Called on every state change (same as {@link CircuitBreaker.onStateChange}). */
  readonly onStateChange?: (change: CircuitStateChange) => void;
  /** Time source for the cooldown. @defaultValue systemClock */
  readonly clock?: Clock;
  /** Metrics sink (`majra_transport_circuit_*`). @defaultValue discards */
  readonly metrics?: MetricsSink;
}

/** Counters of a {@link CircuitBreaker}. */
export interface CircuitBreakerStats {
  /** Current state (an elapsed cooldown already shows as `half-open`). */
  readonly state: CircuitState;
  /** Consecutive failures counted since the last success or reset. */
  readonly consecutiveFailures: number;
  /** Calls that succeeded since the breaker was created. */
  readonly successes: number;
  /** Calls that failed (as judged by `isFailure`) since the breaker was created. */
  readonly failures: number;
  /** Calls refused without running because the circuit was open. */
  readonly rejected: number;
  /** Probes currently running in the half-open state. */
  readonly probesInFlight: number;
}

/** A permit returned by {@link CircuitBreaker.tryAcquire}; report the outcome exactly once. */
export interface CircuitPermit {
  /** Records a success: closes a half-open circuit and clears the failure streak. */
  success(): void;
  /** Records a failure: counts toward `failureThreshold`, or re-opens a half-open circuit. */
  failure(error?: unknown): void;
}

/**
 * A conventional circuit breaker, usable alone around any async function or inside a
 * {@link ConnectionPool} (one per endpoint).
 *
 * - **closed**: calls run; `failureThreshold` consecutive failures open the circuit.
 * - **open**: calls are refused with `ERR_TRANSPORT_CIRCUIT_OPEN` without running.
 * - **half-open**: after `cooldownMs`, at most `halfOpenMaxProbes` calls run at once; the
 *   first success closes the circuit (counters cleared), a failure re-opens it for a
 *   fresh cooldown.
 *
 * The open → half-open move is evaluated lazily (on the next call or state read), so the
 * breaker owns no timer. Time comes from the injected `clock`.
 *
 * @example
 * ```ts
 * const breaker = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 5000 });
 * breaker.onStateChange(({ from, to }) => console.log(`${from} -> ${to}`));
 * const body = await breaker.execute(() => fetch(url).then((r) => r.text()));
 * ```
 */
export class CircuitBreaker {
  /** Consecutive failures that open the circuit. */
  readonly failureThreshold: number;
  /** Open period before probes are admitted. */
  readonly cooldownMs: number;
  /** Concurrent probes admitted while half-open. */
  readonly halfOpenMaxProbes: number;
  /** Name used in messages and events. */
  readonly name: string;
  readonly #clock: Clock;
  readonly #metrics: MetricsSink;
  readonly #isFailure: ((error: unknown) => boolean) | undefined;
  readonly #listeners = new Set<(change: CircuitStateChange) => void>();
  #state: CircuitState = 'closed';
  #openedAt = 0;
  #consecutive = 0;
  #probes = 0;
  #generation = 0;
  #successes = 0;
  #failures = 0;
  #rejected = 0;

  /** @throws InvalidArgumentError for a bad option. */
  constructor(options: CircuitBreakerOptions = {}) {
    this.failureThreshold = positiveInteger('failureThreshold', options.failureThreshold ?? 5);
    this.cooldownMs = nonNegativeNumber('cooldownMs', options.cooldownMs ?? 30_000);
    this.halfOpenMaxProbes = positiveInteger('halfOpenMaxProbes', options.halfOpenMaxProbes ?? 1);
    this.name = options.name ?? 'circuit';
    if (options.isFailure !== undefined) isFunction('isFailure', options.isFailure);
    if (options.onStateChange !== undefined) {
      isFunction('onStateChange', options.onStateChange);
      this.#listeners.add(options.onStateChange);
    }
    this.#isFailure = options.isFailure;
    this.#clock = options.clock ?? systemClock;
    this.#metrics = options.metrics ?? noopMetrics;
  }

  /** The current state (moves open → half-open when the cooldown has elapsed). */
  get state(): CircuitState {
    this.#refresh();
    return this.#state;
  }

  /** A snapshot of the counters. */
  stats(): CircuitBreakerStats {
    return {
      state: this.state,
      consecutiveFailures: this.#consecutive,
      successes: this.#successes,
      failures: this.#failures,
      rejected: this.#rejected,
      probesInFlight: this.#probes,
    };
  }

  /** Registers a state-change listener; returns a function that removes it. */
  onStateChange(listener: (change: CircuitStateChange) => void): () => void {
    isFunction('listener', listener);
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Runs `fn` through the breaker. Rejects with `ERR_TRANSPORT_CIRCUIT_OPEN` (without
   * calling `fn`) while open or when every half-open probe slot is taken; otherwise
   * settles like `fn`, recording the outcome.
   */
  execute<T>(fn: () => T | PromiseLike<T>): Promise<T> {
    // Inlined admission (no permit object): this is the hot path.
    this.#refresh();
    let probe = false;
    if (this.#state !== 'closed') {
      if (this.#state !== 'half-open' || this.#probes >= this.halfOpenMaxProbes) {
        this.#rejected++;
        this.#metrics.increment(circuitRejected);
        return Promise.reject(this.openError());
      }
      this.#probes++;
      probe = true;
    }
    const generation = this.#generation;
    let result: T | PromiseLike<T>;
    try {
      result = fn();
    } catch (error) {
      this.#settle(generation, probe, false, error);
      return Promise.reject(toError(error));
    }
    return Promise.resolve(result).then(
      (value) => {
        this.#settle(generation, probe, true, undefined);
        return value;
      },
      (error: unknown) => {
        this.#settle(generation, probe, false, error);
        throw error;
      },
    );
  }

  /**
   * Low-level admission: returns a permit when a call may run now (report its outcome
   * through the permit, once), or undefined when the circuit refuses it (counted as
   * rejected).
   */
  tryAcquire(): CircuitPermit | undefined {
    this.#refresh();
    let probe = false;
    if (this.#state !== 'closed') {
      if (this.#state !== 'half-open' || this.#probes >= this.halfOpenMaxProbes) {
        this.#rejected++;
        this.#metrics.increment(circuitRejected);
        return undefined;
      }
      this.#probes++;
      probe = true;
    }
    return new CircuitBreaker.#Permit(this, this.#generation, probe);
  }

  static readonly #Permit = class Permit implements CircuitPermit {
    #settled = false;
    constructor(
      readonly breaker: CircuitBreaker,
      readonly generation: number,
      readonly probe: boolean,
    ) {}
    success(): void {
      if (this.#settled) return;
      this.#settled = true;
      this.breaker.#settle(this.generation, this.probe, true, undefined);
    }
    failure(error?: unknown): void {
      if (this.#settled) return;
      this.#settled = true;
      this.breaker.#settle(this.generation, this.probe, false, error);
    }
  };

  /** The error thrown when a call is refused. */
  openError(): InvalidStateError {
    return new InvalidStateError(`circuit breaker open for ${this.name}`, {
      code: 'ERR_TRANSPORT_CIRCUIT_OPEN',
      details: { name: this.name, state: this.#state },
    });
  }

  /** Records a success outside {@link CircuitBreaker.execute} (e.g. a reused connection). */
  recordSuccess(): void {
    this.#success();
  }

  /** Records a failure outside {@link CircuitBreaker.execute} (e.g. a broken connection). */
  recordFailure(error?: unknown): void {
    this.#failure(error, this.#state === 'half-open');
  }

  /** Forces the closed state and clears the counters. */
  reset(): void {
    this.#consecutive = 0;
    this.#probes = 0;
    this.#generation++;
    this.#transition('closed');
  }

  /**
   * Records the outcome of a call admitted in period `generation`. An outcome that
   * arrives after the circuit tripped or was reset belongs to an older period: it is
   * counted but does not move the state.
   */
  #settle(generation: number, probe: boolean, ok: boolean, error: unknown): void {
    if (generation !== this.#generation) {
      if (ok) this.#successes++;
      return;
    }
    if (probe) this.#probes--;
    if (ok) this.#success();
    else this.#failure(error, probe);
  }

  #success(): void {
    this.#successes++;
    this.#consecutive = 0;
    if (this.#state !== 'closed') {
      this.#probes = 0;
      this.#generation++;
      this.#transition('closed');
    }
  }

  #failure(error: unknown, probe: boolean): void {
    if (this.#isFailure !== undefined && error !== undefined && !this.#isFailure(error)) {
      // Not a failure of the dependency: a probe slot is simply freed.
      return;
    }
    this.#failures++;
    this.#consecutive++;
    if (probe || (this.#state === 'closed' && this.#consecutive >= this.failureThreshold)) {
      this.#open();
    }
  }

  #open(): void {
    this.#openedAt = this.#clock.monotonic();
    this.#probes = 0;
    this.#generation++;
    this.#transition('open');
  }

  #refresh(): void {
    if (this.#state === 'open' && this.#clock.monotonic() - this.#openedAt >= this.cooldownMs) {
      this.#transition('half-open');
    }
  }

  #transition(to: CircuitState): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    this.#metrics.increment(circuitTransitions, 1, { to });
    if (this.#listeners.size === 0) return;
    const change: CircuitStateChange = { from, to, name: this.name };
    for (const listener of [...this.#listeners]) {
      try {
        listener(change);
      } catch {
        // A throwing listener must not corrupt the breaker; listeners own their errors.
      }
    }
  }
}
