import { abortError, waitFor, type WaitOptions } from '../core/abort.js';
import { systemClock, type Clock } from '../core/clock.js';
import { CapacityExceededError, ClosedError, TimeoutError, toError } from '../core/errors.js';
import { Lifecycle, type Closeable } from '../core/lifecycle.js';
import { noopMetrics, type MetricsSink } from '../core/metrics.js';
import {
  invalid,
  isFunction,
  nonEmptyString,
  nonNegativeNumber,
  optionalSignal,
  positiveInteger,
} from '../core/validate.js';
import {
  CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitState,
  type CircuitStateChange,
} from './circuit-breaker.js';
import { poolConnections, poolDials, poolEvictions } from './metrics.js';
import type { Connection, Transport } from './types.js';

/** Breaker settings applied to every endpoint of a {@link ConnectionPool}. */
export type PoolBreakerOptions = Pick<
  CircuitBreakerOptions,
  'failureThreshold' | 'cooldownMs' | 'halfOpenMaxProbes' | 'isFailure'
>;

/** Options of {@link ConnectionPool}. */
export interface ConnectionPoolOptions {
  /** Live connections kept per endpoint; acquires share them round-robin. @defaultValue 1 */
  readonly maxPerEndpoint?: number;
  /** Endpoints tracked at once (connections + breaker state). @defaultValue 1024 */
  readonly maxEndpoints?: number;
  /** Idle time after which `evictStale()` closes a connection. @defaultValue 60000 */
  readonly idleTimeoutMs?: number;
  /** A dial that takes longer fails with `ERR_TIMEOUT` (counted by the breaker). @defaultValue 10000 */
  readonly connectTimeoutMs?: number;
  /** Per-endpoint circuit breaker settings (defaults 5 failures, 30 s cooldown, 1 probe). */
  readonly breaker?: PoolBreakerOptions;
  /** Called whenever an endpoint's circuit changes state (`name` is the endpoint). */
  readonly onCircuitStateChange?: (change: CircuitStateChange) => void;
  /** Time source for dial timeouts, idle times and breaker cooldowns. @defaultValue systemClock */
  readonly clock?: Clock;
  /**
   * Metrics sink (`majra_transport_pool_*`, `majra_transport_circuit_*`). @defaultValue discards
   */
  readonly metrics?: MetricsSink;
}

/** Counters of a {@link ConnectionPool}. */
export interface ConnectionPoolStats {
  /** Endpoints tracked now (with connections or breaker state). */
  readonly endpoints: number;
  /** Live pooled connections now. */
  readonly connections: number;
  /** Dials started (concurrent acquires of one endpoint share a dial). */
  readonly dials: number;
  /** Dials that failed or timed out. */
  readonly dialFailures: number;
  /**
   * Pooled connections removed: marked failed, closed by the peer, idle (`evictStale`) or
   * closed with their endpoint.
   */
  readonly evicted: number;
}

interface Pooled {
  readonly connection: Connection;
  lastUsedAt: number;
}

interface EndpointEntry {
  readonly endpoint: string;
  readonly breaker: CircuitBreaker;
  pooled: Pooled[];
  dialing: Promise<Connection> | undefined;
  next: number;
}

/**
 * Reuses connections per endpoint. Concurrent `acquire`s of an endpoint with no live
 * connection share one dial; at most `maxPerEndpoint` connections are kept and handed
 * out round-robin. Each endpoint has a {@link CircuitBreaker} around its dials, so a
 * dead endpoint is not hammered. Closed or failed connections are dropped as soon as they
 * close; `evictStale` closes idle ones. At most `maxEndpoints` endpoints are tracked: a
 * new endpoint evicts the least recently used one that holds no connection.
 *
 * @example
 * ```ts
 * const pool = new ConnectionPool(new TcpTransport(), { breaker: { failureThreshold: 3 } });
 * const conn = await pool.acquire('127.0.0.1:7000');
 * await conn.send({ hello: 1 });
 * await pool.close();
 * ```
 */
export class ConnectionPool implements Closeable {
  /** Live connections kept per endpoint (from the options). */
  readonly maxPerEndpoint: number;
  /** Endpoints tracked at once (from the options). */
  readonly maxEndpoints: number;
  /** Default idle limit of `evictStale()` (from the options). */
  readonly idleTimeoutMs: number;
  /** Dial timeout (from the options). */
  readonly connectTimeoutMs: number;
  readonly #transport: Transport;
  readonly #breaker: PoolBreakerOptions;
  readonly #onChange: ((change: CircuitStateChange) => void) | undefined;
  readonly #clock: Clock;
  readonly #metrics: MetricsSink;
  readonly #life = new Lifecycle('ConnectionPool');
  /** Insertion order = least recently acquired first. */
  readonly #entries = new Map<string, EndpointEntry>();
  /** The entry at the back of `#entries` when known (see `#touch`). */
  #last: EndpointEntry | undefined;
  #connections = 0;
  #dials = 0;
  #dialFailures = 0;
  #evicted = 0;

  /** @throws InvalidArgumentError for a bad option. */
  constructor(transport: Transport, options: ConnectionPoolOptions = {}) {
    if (
      typeof transport !== 'object' ||
      typeof (transport as Partial<Transport> | null)?.connect !== 'function'
    ) {
      invalid('transport', 'a Transport', transport);
    }
    this.#transport = transport;
    this.maxPerEndpoint = positiveInteger('maxPerEndpoint', options.maxPerEndpoint ?? 1, 1024);
    this.maxEndpoints = positiveInteger('maxEndpoints', options.maxEndpoints ?? 1024);
    this.idleTimeoutMs = nonNegativeNumber('idleTimeoutMs', options.idleTimeoutMs ?? 60_000);
    this.connectTimeoutMs = positiveInteger('connectTimeoutMs', options.connectTimeoutMs ?? 10_000);
    this.#breaker = { ...options.breaker };
    // Validate breaker options now rather than on the first acquire.
    new CircuitBreaker(this.#breaker);
    if (options.onCircuitStateChange !== undefined) {
      isFunction('onCircuitStateChange', options.onCircuitStateChange);
    }
    this.#onChange = options.onCircuitStateChange;
    this.#clock = options.clock ?? systemClock;
    this.#metrics = options.metrics ?? noopMetrics;
  }

  /** Endpoints tracked (with connections, a dial in flight or breaker state). */
  get endpointCount(): number {
    return this.#entries.size;
  }

  /** Connections held. */
  get connectionCount(): number {
    return this.#connections;
  }

  get closed(): Promise<void> {
    return this.#life.closed;
  }

  get isClosed(): boolean {
    return this.#life.isClosed;
  }

  /** A snapshot of the counters. */
  stats(): ConnectionPoolStats {
    return {
      endpoints: this.#entries.size,
      connections: this.#connections,
      dials: this.#dials,
      dialFailures: this.#dialFailures,
      evicted: this.#evicted,
    };
  }

  /** The circuit state of `endpoint` (`'closed'` for an endpoint never seen). */
  circuitState(endpoint: string): CircuitState {
    return this.#entries.get(endpoint)?.breaker.state ?? 'closed';
  }

  /** Forces `endpoint`'s circuit closed. */
  resetCircuit(endpoint: string): void {
    this.#entries.get(endpoint)?.breaker.reset();
  }

  /**
   * A live connection to `endpoint`: a pooled one, or a new dial (shared with concurrent
   * callers). Rejects with `ERR_TRANSPORT_CIRCUIT_OPEN` while the endpoint's circuit is
   * open, with the transport's error when the dial fails, and with an abort error when
   * `signal` aborts (only this caller stops waiting; a shared dial continues).
   */
  acquire(endpoint: string, options: WaitOptions = {}): Promise<Connection> {
    try {
      this.#life.assertOpen('acquire');
      nonEmptyString('endpoint', endpoint, 4096);
      const signal = optionalSignal('signal', options.signal);
      if (signal?.aborted === true) throw abortError(signal, 'acquire');
      const entry = this.#entry(endpoint);
      const ready = this.#pooled(entry);
      if (ready !== undefined) return Promise.resolve(ready);
      const dial = entry.dialing ?? this.#dial(entry);
      if (signal === undefined) return dial;
      return waitFor<Connection>(
        (resolve, reject) => {
          dial.then(resolve, reject);
          return undefined;
        },
        { signal, what: 'acquire' },
      );
    } catch (error) {
      return Promise.reject(toError(error));
    }
  }

  /**
   * The synchronous fast path of {@link acquire}: the pooled connection `acquire` would
   * hand out right now, or `undefined` when it would have to dial (or wait for a dial).
   * Lets a caller write without a promise turn in between.
   *
   * @throws ClosedError after `close()`; InvalidArgumentError for a bad endpoint.
   */
  tryAcquire(endpoint: string): Connection | undefined {
    this.#life.assertOpen('acquire');
    nonEmptyString('endpoint', endpoint, 4096);
    const entry = this.#entries.get(endpoint);
    if (entry === undefined) return undefined;
    const ready = this.#pooled(entry);
    if (ready !== undefined) this.#touch(entry);
    return ready;
  }

  /** A live pooled connection of `entry` (round-robin) when no dial is due, else undefined. */
  #pooled(entry: EndpointEntry): Connection | undefined {
    this.#prune(entry);
    const { pooled } = entry;
    if (
      pooled.length > 0 &&
      (pooled.length >= this.maxPerEndpoint || entry.dialing !== undefined)
    ) {
      const item = pooled[entry.next++ % pooled.length] as Pooled;
      item.lastUsedAt = this.#clock.monotonic();
      return item.connection;
    }
    return undefined;
  }

  /**
   * Reports that `connection` (from `endpoint`) failed in use: it is closed and dropped,
   * and the failure counts against the endpoint's circuit.
   */
  markFailed(endpoint: string, connection: Connection, error?: unknown): void {
    const entry = this.#entries.get(endpoint);
    if (entry === undefined) return;
    this.#remove(entry, connection, 'failed');
    entry.breaker.recordFailure(error);
    void connection.close().catch(() => undefined);
  }

  /** Closes and forgets every connection of `endpoint` (its circuit is kept). */
  async closeEndpoint(endpoint: string): Promise<void> {
    const entry = this.#entries.get(endpoint);
    if (entry === undefined) return;
    const list = entry.pooled;
    for (const item of [...list]) this.#remove(entry, item.connection, 'closed');
    await closeAll(list.map((p) => p.connection));
  }

  /**
   * Closes connections that are disconnected or idle for more than `maxIdleMs` (since
   * their last acquire), and forgets endpoints left with no connection, no dial in flight
   * and a closed circuit without failures. Returns the number of connections removed.
   */
  async evictStale(maxIdleMs: number = this.idleTimeoutMs): Promise<number> {
    nonNegativeNumber('maxIdleMs', maxIdleMs);
    const now = this.#clock.monotonic();
    const victims: Connection[] = [];
    for (const entry of [...this.#entries.values()]) {
      for (const item of [...entry.pooled]) {
        const stale = !item.connection.isConnected;
        if (stale || now - item.lastUsedAt > maxIdleMs) {
          this.#remove(entry, item.connection, stale ? 'stale' : 'idle');
          victims.push(item.connection);
        }
      }
      if (this.#removable(entry)) this.#entries.delete(entry.endpoint);
    }
    await closeAll(victims);
    return victims.length;
  }

  /** Closes every connection; further acquires fail with `ERR_CLOSED`. */
  close(): Promise<void> {
    return this.#life.close(async () => {
      const all: Connection[] = [];
      for (const entry of this.#entries.values()) {
        for (const item of [...entry.pooled]) {
          this.#remove(entry, item.connection, 'closed');
          all.push(item.connection);
        }
      }
      this.#entries.clear();
      this.#last = undefined;
      await closeAll(all);
    });
  }

  /** Same as `close()`, so `await using pool = ...` closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #entry(endpoint: string): EndpointEntry {
    const existing = this.#entries.get(endpoint);
    if (existing !== undefined) {
      this.#touch(existing);
      return existing;
    }
    if (this.#entries.size >= this.maxEndpoints) this.#evictEndpoint();
    const breaker = new CircuitBreaker({
      ...this.#breaker,
      name: endpoint,
      clock: this.#clock,
      metrics: this.#metrics,
      ...(this.#onChange === undefined ? {} : { onStateChange: this.#onChange }),
    });
    const entry: EndpointEntry = { endpoint, breaker, pooled: [], dialing: undefined, next: 0 };
    this.#entries.set(endpoint, entry);
    this.#last = entry;
    return entry;
  }

  /**
   * Moves `entry` (present in the map) to the back, keeping the map in least-recently-
   * acquired order. Skipped when it is already last: a delete and re-insert per send
   * would churn the map's hash table on the hot path of a single busy peer.
   */
  #touch(entry: EndpointEntry): void {
    if (this.#last === entry) return;
    this.#entries.delete(entry.endpoint);
    this.#entries.set(entry.endpoint, entry);
    this.#last = entry;
  }

  #evictEndpoint(): void {
    for (const entry of this.#entries.values()) {
      this.#prune(entry);
      if (entry.pooled.length === 0 && entry.dialing === undefined) {
        this.#entries.delete(entry.endpoint);
        return;
      }
    }
    throw new CapacityExceededError(
      `connection pool tracks ${this.maxEndpoints} endpoints, all with live connections`,
      { code: 'ERR_TRANSPORT_POOL_FULL', details: { maxEndpoints: this.maxEndpoints } },
    );
  }

  #removable(entry: EndpointEntry): boolean {
    return (
      entry.pooled.length === 0 &&
      entry.dialing === undefined &&
      entry.breaker.state === 'closed' &&
      entry.breaker.stats().consecutiveFailures === 0
    );
  }

  #dial(entry: EndpointEntry): Promise<Connection> {
    const permit = entry.breaker.tryAcquire();
    if (permit === undefined) return Promise.reject(entry.breaker.openError());
    this.#dials++;
    const controller = new AbortController();
    const timer = this.#clock.setTimer(this.connectTimeoutMs, () => {
      controller.abort(
        new TimeoutError(
          `connect to ${entry.endpoint} timed out after ${this.connectTimeoutMs} ms`,
        ),
      );
    });
    timer.unref();
    const dial = (async () => {
      try {
        const connection = await this.#transport.connect(entry.endpoint, {
          signal: controller.signal,
        });
        permit.success();
        this.#metrics.increment(poolDials, 1, { outcome: 'ok' });
        if (this.#life.isClosed) {
          void connection.close().catch(() => undefined);
          throw this.#closedError();
        }
        this.#add(entry, connection);
        return connection;
      } catch (error) {
        if (!this.#life.isClosed) {
          permit.failure(error);
          this.#dialFailures++;
          this.#metrics.increment(poolDials, 1, { outcome: 'error' });
        }
        throw error;
      } finally {
        timer.cancel();
        entry.dialing = undefined;
      }
    })();
    entry.dialing = dial;
    // Callers that stop waiting (abort) must not leave an unhandled rejection behind.
    dial.catch(() => undefined);
    return dial;
  }

  #closedError(): Error {
    return new ClosedError('ConnectionPool is closed: cannot acquire');
  }

  #add(entry: EndpointEntry, connection: Connection): void {
    entry.pooled.push({ connection, lastUsedAt: this.#clock.monotonic() });
    if (this.#entries.get(entry.endpoint) !== entry) {
      this.#entries.set(entry.endpoint, entry);
      this.#last = entry;
    }
    this.#connections++;
    this.#metrics.set(poolConnections, this.#connections);
    void connection.closed.then(() => this.#remove(entry, connection, 'stale'));
  }

  #prune(entry: EndpointEntry): void {
    // Backwards, so a removal does not skip the next item (and no copy on the hot path).
    const { pooled } = entry;
    for (let i = pooled.length - 1; i >= 0; i--) {
      const item = pooled[i] as Pooled;
      if (!item.connection.isConnected) this.#remove(entry, item.connection, 'stale');
    }
  }

  #remove(entry: EndpointEntry, connection: Connection, reason: string): void {
    const index = entry.pooled.findIndex((p) => p.connection === connection);
    if (index < 0) return;
    entry.pooled.splice(index, 1);
    this.#connections--;
    this.#evicted++;
    this.#metrics.increment(poolEvictions, 1, { reason });
    this.#metrics.set(poolConnections, this.#connections);
  }
}

async function closeAll(connections: readonly Connection[]): Promise<void> {
  // Close errors are swallowed: the connection is gone either way, and one failing
  // close must not keep the others open.
  await Promise.all(connections.map((c) => c.close().catch(() => undefined)));
}
