import { describe, expect, it } from 'vitest';
import { isMajraError } from '../core/errors.js';
import { ManualClock } from '../testing/manual-clock.js';
import { MemoryMetricsSink } from '../testing/memory-metrics.js';
import type { CircuitStateChange } from './circuit-breaker.js';
import { ConnectionPool } from './connection-pool.js';
import { MemoryTransport } from './memory.js';
import type { Connection, ConnectOptions, Listener, Transport } from './types.js';

/** A MemoryTransport that counts dials and can hold them until released. */
class CountingTransport implements Transport {
  readonly net = new MemoryTransport();
  dials = 0;
  gate: Promise<void> | undefined;
  async connect(endpoint: string, options?: ConnectOptions): Promise<Connection> {
    this.dials++;
    if (this.gate !== undefined) await this.gate;
    return this.net.connect(endpoint, options);
  }
  listen(endpoint: string, on: (c: Connection) => void): Promise<Listener> {
    return this.net.listen(endpoint, on);
  }
}

async function setup(options: ConstructorParameters<typeof ConnectionPool>[1] = {}) {
  const transport = new CountingTransport();
  const accepted: Connection[] = [];
  await transport.listen('a', (c) => accepted.push(c));
  await transport.listen('b', (c) => accepted.push(c));
  const clock = new ManualClock();
  const pool = new ConnectionPool(transport, { clock, ...options });
  return { transport, pool, clock, accepted };
}

describe('ConnectionPool', () => {
  it('dials once and reuses the connection; endpoints are counted', async () => {
    const { pool, transport } = await setup();
    const c1 = await pool.acquire('a');
    const c2 = await pool.acquire('a');
    expect(c2).toBe(c1);
    expect(c1.isConnected).toBe(true);
    await pool.acquire('b');
    expect(pool.endpointCount).toBe(2);
    expect(pool.connectionCount).toBe(2);
    expect(transport.dials).toBe(2);
    await c1.send({ ok: true });
  });

  it('tryAcquire hands out a pooled connection synchronously and never dials', async () => {
    const { pool, transport } = await setup();
    expect(pool.tryAcquire('a')).toBeUndefined();
    expect(transport.dials).toBe(0);
    const c1 = await pool.acquire('a');
    expect(pool.tryAcquire('a')).toBe(c1);
    await c1.close();
    expect(pool.tryAcquire('a')).toBeUndefined();
    expect(transport.dials).toBe(1);
    expect(() => pool.tryAcquire('')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }) as Error,
    );
    expect(() => pool.tryAcquire(42 as unknown as string)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }) as Error,
    );
    await pool.close();
    expect(() => pool.tryAcquire('a')).toThrow('closed');
  });

  it('concurrent acquires share one in-flight dial', async () => {
    const { pool, transport } = await setup();
    let release!: () => void;
    transport.gate = new Promise((r) => (release = r));
    const all = Promise.all([pool.acquire('a'), pool.acquire('a'), pool.acquire('a')]);
    release();
    const [x, y, z] = await all;
    expect(x).toBe(y);
    expect(y).toBe(z);
    expect(transport.dials).toBe(1);
    expect(pool.connectionCount).toBe(1);
  });

  it('keeps up to maxPerEndpoint connections and hands them out round-robin', async () => {
    const { pool, transport } = await setup({ maxPerEndpoint: 2 });
    const c1 = await pool.acquire('a');
    const c2 = await pool.acquire('a');
    expect(c2).not.toBe(c1);
    const c3 = await pool.acquire('a');
    const c4 = await pool.acquire('a');
    expect(new Set([c1, c2, c3, c4]).size).toBe(2);
    expect(transport.dials).toBe(2);
  });

  it('a closed connection is dropped and the next acquire dials a fresh one', async () => {
    const { pool } = await setup();
    const c1 = await pool.acquire('a');
    await c1.close();
    expect(pool.connectionCount).toBe(0);
    const c2 = await pool.acquire('a');
    expect(c2).not.toBe(c1);
    expect(c2.isConnected).toBe(true);
  });

  it('the peer closing its side is noticed too', async () => {
    const { pool, accepted } = await setup();
    await pool.acquire('a');
    await accepted[0]!.close();
    await new Promise((r) => setImmediate(r));
    expect(pool.connectionCount).toBe(0);
  });

  it('evictStale closes idle connections, keeps recently acquired ones, forgets empty endpoints', async () => {
    const { pool, clock } = await setup();
    const idle = await pool.acquire('a');
    await pool.acquire('b');
    clock.advance(500);
    await pool.acquire('b'); // refreshes b's last use
    clock.advance(600);
    expect(await pool.evictStale(1000)).toBe(1);
    expect(idle.isConnected).toBe(false);
    expect(pool.connectionCount).toBe(1);
    expect(pool.endpointCount).toBe(1);
    expect(await pool.evictStale(60 * 60 * 1000)).toBe(0);
    expect(await pool.evictStale(0)).toBe(1);
    expect(pool.endpointCount).toBe(0);
  });

  it('opens the endpoint circuit after N failed dials, then probes and closes', async () => {
    const { pool, transport, clock } = await setup({
      breaker: { failureThreshold: 3, cooldownMs: 1000 },
    });
    const changes: string[] = [];
    const pool2 = new ConnectionPool(transport, {
      clock,
      breaker: { failureThreshold: 3, cooldownMs: 1000 },
      onCircuitStateChange: (c: CircuitStateChange) => changes.push(`${c.name}:${c.to}`),
    });
    for (let i = 0; i < 3; i++) {
      await expect(pool2.acquire('down')).rejects.toMatchObject({
        code: 'ERR_TRANSPORT_UNKNOWN_ENDPOINT',
      });
    }
    expect(pool2.circuitState('down')).toBe('open');
    const dials = transport.dials;
    await expect(pool2.acquire('down')).rejects.toThrow('circuit breaker open for down');
    expect(transport.dials).toBe(dials);
    clock.advance(1000);
    expect(pool2.circuitState('down')).toBe('half-open');
    await transport.listen('down', () => undefined);
    await pool2.acquire('down');
    expect(pool2.circuitState('down')).toBe('closed');
    expect(changes).toEqual(['down:open', 'down:half-open', 'down:closed']);
    expect(pool.circuitState('never-seen')).toBe('closed');
  });

  it('a failed probe re-opens; resetCircuit forces closed', async () => {
    const { pool, clock } = await setup({ breaker: { failureThreshold: 1, cooldownMs: 100 } });
    await expect(pool.acquire('x')).rejects.toBeDefined();
    clock.advance(100);
    await expect(pool.acquire('x')).rejects.toMatchObject({
      code: 'ERR_TRANSPORT_UNKNOWN_ENDPOINT',
    });
    expect(pool.circuitState('x')).toBe('open');
    pool.resetCircuit('x');
    expect(pool.circuitState('x')).toBe('closed');
  });

  it('markFailed closes the connection and counts against the circuit', async () => {
    const { pool } = await setup({ breaker: { failureThreshold: 1 } });
    const c = await pool.acquire('a');
    pool.markFailed('a', c, new Error('write failed'));
    expect(pool.connectionCount).toBe(0);
    expect(pool.circuitState('a')).toBe('open');
    await expect(pool.acquire('a')).rejects.toMatchObject({ code: 'ERR_TRANSPORT_CIRCUIT_OPEN' });
  });

  it('factory errors propagate unchanged', async () => {
    const boom = new Error('custom dial error');
    const pool = new ConnectionPool({
      connect: () => Promise.reject(boom),
      listen: () => Promise.reject(new Error('n/a')),
    });
    await expect(pool.acquire('z')).rejects.toBe(boom);
  });

  it('an aborted acquire rejects only that caller; the shared dial completes', async () => {
    const { pool, transport } = await setup();
    let release!: () => void;
    transport.gate = new Promise((r) => (release = r));
    const controller = new AbortController();
    const aborted = pool.acquire('a', { signal: controller.signal });
    const other = pool.acquire('a');
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    release();
    expect((await other).isConnected).toBe(true);
    expect(transport.dials).toBe(1);
  });

  it('a dial slower than connectTimeoutMs fails with a timeout and counts as a failure', async () => {
    const slow: Transport = {
      connect: (_e, options) =>
        new Promise((_, reject) =>
          options?.signal?.addEventListener('abort', () => reject(options.signal!.reason as Error)),
        ),
      listen: () => Promise.reject(new Error('n/a')),
    };
    const clock = new ManualClock();
    const pool = new ConnectionPool(slow, {
      clock,
      connectTimeoutMs: 50,
      breaker: { failureThreshold: 1 },
    });
    const pending = pool.acquire('slow');
    clock.advance(50);
    await expect(pending).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    expect(pool.circuitState('slow')).toBe('open');
  });

  it('bounds tracked endpoints: maxEndpoints evicts the least recently used empty one', async () => {
    const transport = new MemoryTransport();
    const pool = new ConnectionPool(transport, { maxEndpoints: 3, clock: new ManualClock() });
    for (let i = 0; i < 1000; i++) {
      await expect(pool.acquire(`gone-${i}`)).rejects.toBeDefined();
      expect(pool.endpointCount).toBeLessThanOrEqual(3);
    }
    const listeners = [];
    for (const name of ['l1', 'l2', 'l3'])
      listeners.push(await transport.listen(name, () => undefined));
    for (const name of ['l1', 'l2', 'l3']) await pool.acquire(name);
    await expect(pool.acquire('l4')).rejects.toMatchObject({ code: 'ERR_TRANSPORT_POOL_FULL' });
  });

  it('close() closes everything and later acquires fail with ERR_CLOSED', async () => {
    const metrics = new MemoryMetricsSink();
    const { pool } = await setup({ metrics });
    const c = await pool.acquire('a');
    await pool.close();
    await pool.close();
    expect(pool.isClosed).toBe(true);
    expect(c.isConnected).toBe(false);
    await expect(pool.acquire('a')).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    expect(metrics.counter('majra_transport_pool_dials_total', { outcome: 'ok' })).toBe(1);
    expect(metrics.gauge('majra_transport_pool_connections')).toBe(0);
  });

  it('validates options and arguments', async () => {
    const net = new MemoryTransport();
    for (const options of [
      { maxPerEndpoint: 0 },
      { maxEndpoints: -1 },
      { idleTimeoutMs: -5 },
      { connectTimeoutMs: 0 },
      { breaker: { failureThreshold: 0 } },
    ]) {
      let caught: unknown;
      try {
        new ConnectionPool(net, options);
      } catch (error) {
        caught = error;
      }
      expect(isMajraError(caught, 'ERR_INVALID_ARGUMENT')).toBe(true);
    }
    expect(() => new ConnectionPool({} as Transport)).toThrow(/transport/);
    const pool = new ConnectionPool(net);
    await expect(pool.acquire('')).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});
