import { describe, expect, it } from 'vitest';
import { isMajraError } from '../core/errors.js';
import { ManualClock } from '../testing/manual-clock.js';
import { MemoryMetricsSink } from '../testing/memory-metrics.js';
import { CircuitBreaker, type CircuitStateChange } from './circuit-breaker.js';

const fail = (): Promise<never> => Promise.reject(new Error('boom'));
const ok = (): Promise<string> => Promise.resolve('ok');

async function failTimes(breaker: CircuitBreaker, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await expect(breaker.execute(fail)).rejects.toThrow('boom');
}

describe('CircuitBreaker', () => {
  it('defaults to 5 failures and a 30 s cooldown', () => {
    const breaker = new CircuitBreaker();
    expect(breaker.failureThreshold).toBe(5);
    expect(breaker.cooldownMs).toBe(30_000);
    expect(breaker.halfOpenMaxProbes).toBe(1);
    expect(breaker.state).toBe('closed');
  });

  it('opens after N consecutive failures and refuses without calling fn', async () => {
    const clock = new ManualClock();
    const breaker = new CircuitBreaker({
      failureThreshold: 3,
      cooldownMs: 1000,
      clock,
      name: 'ep',
    });
    await failTimes(breaker, 2);
    expect(breaker.state).toBe('closed');
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
    let called = 0;
    const refused = breaker.execute(() => {
      called++;
      return ok();
    });
    await expect(refused).rejects.toMatchObject({ code: 'ERR_TRANSPORT_CIRCUIT_OPEN' });
    await expect(refused).rejects.toThrow('circuit breaker open for ep');
    expect(called).toBe(0);
    expect(breaker.stats().rejected).toBe(1);
  });

  it('a success between failures resets the consecutive count', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 3, clock: new ManualClock() });
    await failTimes(breaker, 2);
    await breaker.execute(ok);
    await failTimes(breaker, 2);
    expect(breaker.state).toBe('closed');
    expect(breaker.stats().consecutiveFailures).toBe(2);
  });

  it('half-open after the cooldown; a successful probe closes and clears counters', async () => {
    const clock = new ManualClock();
    const breaker = new CircuitBreaker({ failureThreshold: 2, cooldownMs: 1000, clock });
    await failTimes(breaker, 2);
    clock.advance(999);
    expect(breaker.state).toBe('open');
    clock.advance(1);
    expect(breaker.state).toBe('half-open');
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');
    expect(breaker.stats().consecutiveFailures).toBe(0);
  });

  it('a failed probe re-opens for a fresh cooldown', async () => {
    const clock = new ManualClock();
    const breaker = new CircuitBreaker({ failureThreshold: 2, cooldownMs: 1000, clock });
    await failTimes(breaker, 2);
    clock.advance(1000);
    expect(breaker.state).toBe('half-open');
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
    clock.advance(999);
    expect(breaker.state).toBe('open');
    clock.advance(1);
    expect(breaker.state).toBe('half-open');
  });

  it('admits at most halfOpenMaxProbes concurrent probes', async () => {
    const clock = new ManualClock();
    const breaker = new CircuitBreaker({
      failureThreshold: 1,
      cooldownMs: 10,
      halfOpenMaxProbes: 2,
      clock,
    });
    await failTimes(breaker, 1);
    clock.advance(10);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const p1 = breaker.execute(() => gate.then(() => 1));
    const p2 = breaker.execute(() => gate.then(() => 2));
    await expect(breaker.execute(ok)).rejects.toMatchObject({ code: 'ERR_TRANSPORT_CIRCUIT_OPEN' });
    expect(breaker.stats().probesInFlight).toBe(2);
    release();
    await expect(p1).resolves.toBe(1);
    await expect(p2).resolves.toBe(2);
    expect(breaker.state).toBe('closed');
  });

  it('a second trip after recovery blocks for a full cooldown', async () => {
    const clock = new ManualClock();
    const breaker = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 1000, clock });
    await failTimes(breaker, 1);
    clock.advance(5000);
    await breaker.execute(ok);
    expect(breaker.state).toBe('closed');
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
    clock.advance(500);
    expect(breaker.state).toBe('open');
  });

  it('reset() forces closed and clears counters', async () => {
    const clock = new ManualClock();
    const breaker = new CircuitBreaker({ failureThreshold: 1, clock });
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
    breaker.reset();
    expect(breaker.state).toBe('closed');
    expect(breaker.stats().consecutiveFailures).toBe(0);
    await expect(breaker.execute(ok)).resolves.toBe('ok');
  });

  it('emits state-change events and metrics; a throwing listener is contained', async () => {
    const clock = new ManualClock();
    const metrics = new MemoryMetricsSink();
    const changes: CircuitStateChange[] = [];
    const breaker = new CircuitBreaker({
      failureThreshold: 1,
      cooldownMs: 10,
      clock,
      metrics,
      name: 'x',
      onStateChange: () => {
        throw new Error('listener bug');
      },
    });
    const off = breaker.onStateChange((c) => changes.push(c));
    await failTimes(breaker, 1);
    clock.advance(10);
    await breaker.execute(ok);
    off();
    breaker.reset();
    expect(changes.map((c) => `${c.from}>${c.to}`)).toEqual([
      'closed>open',
      'open>half-open',
      'half-open>closed',
    ]);
    expect(changes[0]?.name).toBe('x');
    expect(metrics.counter('majra_transport_circuit_transitions_total', { to: 'open' })).toBe(1);
    expect(metrics.counter('majra_transport_circuit_transitions_total', { to: 'closed' })).toBe(1);
  });

  it('isFailure lets some errors pass without counting', async () => {
    const breaker = new CircuitBreaker({
      failureThreshold: 1,
      clock: new ManualClock(),
      isFailure: (e) => !(e instanceof TypeError),
    });
    await expect(
      breaker.execute(() => Promise.reject(new TypeError('caller bug'))),
    ).rejects.toThrow(TypeError);
    expect(breaker.state).toBe('closed');
  });

  it('synchronous throws count as failures; non-promise results pass through', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, clock: new ManualClock() });
    await expect(breaker.execute(() => 7)).resolves.toBe(7);
    await expect(
      breaker.execute(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    expect(breaker.state).toBe('open');
  });

  it('a slow success started before the trip does not close an open circuit', async () => {
    const clock = new ManualClock();
    const breaker = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 1000, clock });
    let release!: () => void;
    const slow = breaker.execute(() => new Promise<void>((r) => (release = r)));
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
    release();
    await slow;
    expect(breaker.state).toBe('open');
  });

  it('tryAcquire permits work without execute()', () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, clock: new ManualClock() });
    const permit = breaker.tryAcquire();
    expect(permit).toBeDefined();
    permit!.failure(new Error('x'));
    expect(breaker.tryAcquire()).toBeUndefined();
    expect(breaker.openError().code).toBe('ERR_TRANSPORT_CIRCUIT_OPEN');
  });

  it('rejects bad options with typed errors', () => {
    for (const options of [
      { failureThreshold: 0 },
      { failureThreshold: 1.5 },
      { cooldownMs: -1 },
      { cooldownMs: Number.NaN },
      { halfOpenMaxProbes: 0 },
      { isFailure: 3 as unknown as () => boolean },
    ]) {
      let caught: unknown;
      try {
        new CircuitBreaker(options);
      } catch (error) {
        caught = error;
      }
      expect(isMajraError(caught, 'ERR_INVALID_ARGUMENT')).toBe(true);
    }
  });
});
