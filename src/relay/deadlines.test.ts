import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.js';
import { noopMetrics } from '../core/metrics.js';
import { DeadlineSweep } from './deadlines.js';
import type { RelayMessage } from './message.js';
import { PendingRequests } from './pending.js';
import { Relay } from './relay.js';
import type { RelayRouter } from './relay-types.js';

function capture(): RelayRouter & { out: RelayMessage[] } {
  const out: RelayMessage[] = [];
  return { out, deliver: (m) => (out.push(m), Promise.resolve()) };
}

const reply: RelayMessage = {
  seq: 1,
  epoch: 1,
  from: 'b',
  to: 'a',
  type: 't',
  payload: null,
  timestamp: 0,
  isReply: true,
};

describe('request timeouts: one sweep timer', () => {
  it('mixed timeouts expire in deadline order, each at its own time, with one timer', async () => {
    const clock = new ManualClock();
    const a = new Relay('a', { router: capture(), clock });
    const outcomes: string[] = [];
    const ask = (name: string, timeoutMs: number) =>
      a.request('b', name, null, { timeoutMs }).catch((e: unknown) => {
        outcomes.push(`${name}:${(e as { code: string }).code}@${clock.monotonic()}`);
      });
    const all = [ask('slow', 300), ask('fast', 100), ask('mid', 200), ask('fast2', 100)];
    expect(clock.pendingTimers).toBe(1);
    const flush = () => new Promise((r) => setImmediate(r));
    clock.advance(99);
    await flush();
    expect(outcomes).toEqual([]);
    for (let i = 0; i < 3; i++) {
      clock.advance(i === 0 ? 1 : 100);
      await flush();
    }
    await Promise.all(all);
    expect(outcomes).toEqual([
      'fast:ERR_RELAY_REQUEST_TIMEOUT@100',
      'fast2:ERR_RELAY_REQUEST_TIMEOUT@100',
      'mid:ERR_RELAY_REQUEST_TIMEOUT@200',
      'slow:ERR_RELAY_REQUEST_TIMEOUT@300',
    ]);
    expect(a.pendingRequests).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    expect(a.stats().requestsTimedOut).toBe(4);
  });

  it('answered requests do not hold memory, even behind one that never returns', async () => {
    const clock = new ManualClock();
    const pending = new PendingRequests(100, clock, noopMetrics);
    const stuck = pending.open('a', 'stuck', 'b', 't', 60_000, undefined);
    let maxHeld = 0;
    for (let i = 0; i < 10_000; i++) {
      const request = pending.open('a', `c${i}`, 'b', 't', 60_000, undefined);
      pending.finish(request, reply, undefined, 'ok');
      await request.promise;
      clock.advance(1);
      maxHeld = Math.max(maxHeld, pending.sweepHeld);
    }
    expect(pending.size).toBe(1);
    expect(maxHeld).toBeLessThanOrEqual(2 * 1 + 64 + 1);
    clock.advance(60_000);
    await expect(stuck.promise).rejects.toMatchObject({ code: 'ERR_RELAY_REQUEST_TIMEOUT' });
    expect(pending.sweepHeld).toBe(0);
    expect(pending.size).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('close disarms the timer', async () => {
    const clock = new ManualClock();
    const a = new Relay('a', { router: capture(), clock });
    const response = a.request('b', 'q', null, { timeoutMs: 1000 });
    await a.close();
    await expect(response).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    expect(clock.pendingTimers).toBe(0);
  });

  it('a deadline beyond the longest timer is reached by re-arming', () => {
    const clock = new ManualClock();
    const expired: number[] = [];
    const sweep = new DeadlineSweep<{ deadline: number; isDone: boolean }>(clock, (item) =>
      expired.push(item.deadline),
    );
    const far = 3 * 2 ** 31;
    sweep.add({ deadline: far, isDone: false }, far);
    clock.advance(2 ** 31);
    clock.advance(2 ** 31);
    expect(expired).toEqual([]);
    clock.advance(2 ** 31);
    expect(expired).toEqual([far]);
  });
});
