import { describe, expect, it } from 'vitest';
import { isMajraError } from '../core/errors.js';
import { ManualClock, flushMicrotasks } from '../testing/manual-clock.js';
import { MemoryMetricsSink } from '../testing/memory-metrics.js';
import { BarrierSet } from './barrier-set.js';
import type { BarrierSetOptions } from './types.js';

function setup(options: BarrierSetOptions = {}) {
  const clock = new ManualClock();
  const metrics = new MemoryMetricsSink();
  const barriers = new BarrierSet({ clock, metrics, ...options });
  return { clock, metrics, barriers };
}

const code = (c: string) => (e: unknown) => isMajraError(e) && e.code === c;

/** Tracks whether a promise settled, without letting a rejection go unhandled. */
function track(promise: Promise<void>) {
  const state: { settled: boolean; error?: unknown } = { settled: false };
  promise.then(
    () => (state.settled = true),
    (error: unknown) => {
      state.settled = true;
      state.error = error;
    },
  );
  return state;
}

describe('BarrierSet, spec scenarios', () => {
  it('#1 {a,b,c}: waiting 1/3, 2/3, then released', () => {
    const { barriers } = setup();
    expect(barriers.create('b', ['a', 'b', 'c'])).toBe(true);
    expect(barriers.arrive('b', 'a')).toEqual({ status: 'waiting', arrived: 1, expected: 3 });
    expect(barriers.arrive('b', 'b')).toEqual({ status: 'waiting', arrived: 2, expected: 3 });
    expect(barriers.arrive('b', 'c')).toEqual({ status: 'released' });
  });

  it('#2 (TS) arriving at an unknown barrier throws ERR_BARRIER_NOT_FOUND', () => {
    const { barriers } = setup();
    expect(() => barriers.arrive('nope', 'a')).toThrow(
      expect.objectContaining({ code: 'ERR_BARRIER_NOT_FOUND' }),
    );
    expect(barriers.status('nope')).toBeUndefined();
  });

  it('#3 force(b) releases {a,b} after a arrived, and wakes a pending arriveAndWait', async () => {
    const { barriers } = setup();
    barriers.create('x', ['a', 'b']);
    const waiting = track(barriers.arriveAndWait('x', 'a'));
    await flushMicrotasks();
    expect(waiting.settled).toBe(false);
    expect(barriers.forceRelease('x', 'b')).toEqual({ status: 'released' });
    await flushMicrotasks();
    expect(waiting).toEqual({ settled: true });
  });

  it('#4 (TS) a second arrival before release throws ERR_BARRIER_DUPLICATE_ARRIVAL and counts once', () => {
    const { barriers } = setup();
    barriers.create('x', ['a', 'b']);
    barriers.arrive('x', 'a');
    expect(() => barriers.arrive('x', 'a')).toThrow(
      expect.objectContaining({ code: 'ERR_BARRIER_DUPLICATE_ARRIVAL' }),
    );
    expect(barriers.status('x')).toEqual({ status: 'waiting', arrived: 1, expected: 2 });
  });

  it('#5 complete returns the record; the set is empty; completing again → undefined', () => {
    const { barriers } = setup();
    barriers.create('x', ['b', 'a']);
    barriers.arrive('x', 'b');
    barriers.arrive('x', 'a');
    expect(barriers.complete('x')).toEqual({
      name: 'x',
      participants: ['a', 'b'],
      forced: false,
      released: true,
    });
    expect(barriers.size).toBe(0);
    expect(barriers.complete('x')).toBeUndefined();
  });

  it('#6 three concurrent arriveAndWait resolve; a waiter released by a plain arrive; unknown rejects', async () => {
    const { barriers } = setup();
    barriers.create('x', ['a', 'b', 'c']);
    await Promise.all(['a', 'b', 'c'].map((p) => barriers.arriveAndWait('x', p)));
    barriers.create('y', ['a', 'b']);
    const waiting = barriers.arriveAndWait('y', 'a');
    barriers.arrive('y', 'b');
    await waiting;
    await expect(barriers.arriveAndWait('z', 'a')).rejects.toSatisfy(code('ERR_BARRIER_NOT_FOUND'));
  });

  it('#7 of 8 interleaved arrivals exactly one sees released', async () => {
    const { barriers } = setup();
    const names = Array.from({ length: 8 }, (_, i) => `p${i}`);
    barriers.create('x', names);
    const results = await Promise.all(
      names.map(async (p, i) => {
        for (let k = 0; k < i % 3; k++) await Promise.resolve();
        return barriers.arrive('x', p).status;
      }),
    );
    expect(results.filter((s) => s === 'released')).toHaveLength(1);
  });

  it('#8 a new set is empty; 4 workers that sleep then arriveAndWait all complete', async () => {
    const { barriers, clock } = setup();
    expect(barriers.size).toBe(0);
    expect(barriers.isEmpty()).toBe(true);
    barriers.create('x', ['w0', 'w1', 'w2', 'w3']);
    const sleep = (ms: number) => new Promise<void>((r) => clock.setTimer(ms, r));
    const done = Promise.all(
      [0, 1, 2, 3].map(async (i) => {
        await sleep(5 * (i + 1));
        await barriers.arriveAndWait('x', `w${i}`);
        return i;
      }),
    );
    await clock.advanceAsync(20);
    expect(await done).toEqual([0, 1, 2, 3]);
  });

  it('#9 (TS) an empty participant set is rejected', () => {
    const { barriers } = setup();
    expect(() => barriers.create('x', [])).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(barriers.size).toBe(0);
  });

  it('#10 (TS) a non-member arrival throws ERR_BARRIER_UNKNOWN_PARTICIPANT and is not counted', () => {
    const { barriers } = setup();
    barriers.create('x', ['a', 'b']);
    expect(() => barriers.arrive('x', 'intruder')).toThrow(
      expect.objectContaining({ code: 'ERR_BARRIER_UNKNOWN_PARTICIPANT' }),
    );
    expect(barriers.status('x')).toEqual({ status: 'waiting', arrived: 0, expected: 2 });
  });

  it('#11 forcing an arrived participant removes it from arrived; forced shows in the record', () => {
    const { barriers } = setup();
    barriers.create('x', ['a', 'b', 'c']);
    barriers.arrive('x', 'a');
    expect(barriers.forceRelease('x', 'a')).toEqual({ status: 'waiting', arrived: 0, expected: 2 });
    expect(() => barriers.forceRelease('x', 'a')).toThrow(
      expect.objectContaining({ code: 'ERR_BARRIER_UNKNOWN_PARTICIPANT' }),
    );
    expect(() => barriers.arrive('x', 'a')).toThrow(
      expect.objectContaining({ code: 'ERR_BARRIER_UNKNOWN_PARTICIPANT' }),
    );
    barriers.arrive('x', 'b');
    expect(barriers.force('x', 'c')).toEqual({ status: 'released' });
    expect(barriers.complete('x')).toEqual({
      name: 'x',
      participants: ['b'],
      forced: true,
      released: true,
    });
  });

  it('#12 re-creating returns false and rejects the old waiters with ERR_BARRIER_REPLACED', async () => {
    const { barriers } = setup();
    barriers.create('x', ['a', 'b']);
    const waiting = barriers.arriveAndWait('x', 'a');
    expect(barriers.create('x', ['a', 'b'])).toBe(false);
    await expect(waiting).rejects.toSatisfy(code('ERR_BARRIER_REPLACED'));
    expect(barriers.status('x')).toEqual({ status: 'waiting', arrived: 0, expected: 2 });
  });

  it('#13 completing with waiters rejects them with ERR_BARRIER_REMOVED', async () => {
    const { barriers, metrics } = setup();
    barriers.create('x', ['a', 'b']);
    const waiting = barriers.arriveAndWait('x', 'a');
    const observer = barriers.wait('x');
    expect(barriers.stats().waiters).toBe(2);
    expect(barriers.complete('x')).toEqual({
      name: 'x',
      participants: ['a'],
      forced: false,
      released: false,
    });
    await expect(waiting).rejects.toSatisfy(code('ERR_BARRIER_REMOVED'));
    await expect(observer).rejects.toSatisfy(code('ERR_BARRIER_REMOVED'));
    expect(barriers.stats()).toMatchObject({ waiters: 0, failedWaits: 2 });
    expect(metrics.counter('majra_barrier_wait_failures_total', { reason: 'removed' })).toBe(2);
  });

  it('#14 timeoutMs and signal reject; a later release does not resolve them again; the arrival stays', async () => {
    const { barriers, clock } = setup();
    barriers.create('x', ['a', 'b', 'c']);
    const timed = track(barriers.arriveAndWait('x', 'a', { timeoutMs: 100 }));
    const controller = new AbortController();
    const aborted = track(barriers.arriveAndWait('x', 'b', { signal: controller.signal }));
    await clock.advanceAsync(99);
    expect(timed.settled).toBe(false);
    await clock.advanceAsync(1);
    expect(isMajraError(timed.error, 'ERR_TIMEOUT')).toBe(true);
    controller.abort(new Error('shutdown'));
    await flushMicrotasks();
    expect(isMajraError(aborted.error, 'ERR_ABORTED')).toBe(true);
    expect(barriers.status('x')).toEqual({ status: 'waiting', arrived: 2, expected: 3 });
    const again = barriers.wait('x');
    expect(barriers.arrive('x', 'c')).toEqual({ status: 'released' });
    await again;
    expect(timed.error).toBeDefined();
    expect(barriers.stats()).toMatchObject({ waiters: 0, failedWaits: 2, releases: 1 });
    expect(clock.pendingTimers).toBe(0);
  });

  it('#14 an already-aborted signal rejects before arriving', async () => {
    const { barriers } = setup();
    barriers.create('x', ['a', 'b']);
    await expect(
      barriers.arriveAndWait('x', 'a', { signal: AbortSignal.abort() }),
    ).rejects.toSatisfy(code('ERR_ABORTED'));
    expect(barriers.status('x')).toEqual({ status: 'waiting', arrived: 0, expected: 2 });
  });

  it('#15 arriving after release returns released until complete; wait resolves at once', async () => {
    const { barriers } = setup();
    barriers.create('x', ['a']);
    expect(barriers.arrive('x', 'a')).toEqual({ status: 'released' });
    expect(barriers.arrive('x', 'a')).toEqual({ status: 'released' });
    await barriers.arriveAndWait('x', 'a');
    await barriers.wait('x');
    barriers.complete('x');
    expect(() => barriers.arrive('x', 'a')).toThrow(
      expect.objectContaining({ code: 'ERR_BARRIER_NOT_FOUND' }),
    );
  });
});

describe('BarrierSet bad input, limits and lifecycle', () => {
  it('rejects bad names, participants and options with typed errors and changes nothing', async () => {
    const { barriers } = setup();
    const bad: [unknown, unknown][] = [
      ['', ['a']],
      ['x', ['a', 'a']],
      ['x', ['']],
      ['x', 'ab'],
      ['x', null],
      ['x', [1]],
      ['y'.repeat(257), ['a']],
    ];
    for (const [name, participants] of bad) {
      expect(() => barriers.create(name as string, participants as string[])).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
    expect(barriers.size).toBe(0);
    barriers.create('x', ['a', 'b']);
    await expect(barriers.arriveAndWait('x', 'a', { timeoutMs: -1 })).rejects.toSatisfy(
      code('ERR_INVALID_ARGUMENT'),
    );
    await expect(barriers.arriveAndWait('x', 'a', { timeoutMs: Number.NaN })).rejects.toSatisfy(
      code('ERR_INVALID_ARGUMENT'),
    );
    await expect(barriers.arriveAndWait('x', 'a', { signal: 'no' as never })).rejects.toSatisfy(
      code('ERR_INVALID_ARGUMENT'),
    );
    await expect(barriers.arriveAndWait('x', 'zed')).rejects.toSatisfy(
      code('ERR_BARRIER_UNKNOWN_PARTICIPANT'),
    );
    expect(barriers.status('x')).toEqual({ status: 'waiting', arrived: 0, expected: 2 });
    for (const options of [{ maxBarriers: 0 }, { maxParticipants: -1 }, { maxBarriers: 1.5 }]) {
      expect(() => new BarrierSet(options)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
  });

  it('maxBarriers and maxParticipants are enforced with ERR_BARRIER_CAPACITY', () => {
    const { barriers } = setup({ maxBarriers: 2, maxParticipants: 3 });
    barriers.create('a', ['1']);
    barriers.create('b', ['1']);
    expect(() => barriers.create('c', ['1'])).toThrow(
      expect.objectContaining({ code: 'ERR_BARRIER_CAPACITY' }),
    );
    expect(barriers.create('a', ['1', '2', '3'])).toBe(false);
    expect(() => barriers.create('b', ['1', '2', '3', '4'])).toThrow(
      expect.objectContaining({ code: 'ERR_BARRIER_CAPACITY' }),
    );
    barriers.complete('a');
    barriers.create('c', ['1']);
    expect(barriers.size).toBe(2);
  });

  it('churn: create/arrive/complete cycles leave nothing behind', async () => {
    const { barriers, clock } = setup({ maxBarriers: 10 });
    for (let i = 0; i < 2000; i++) {
      const name = `round-${i}`;
      barriers.create(name, ['a', 'b']);
      const w = barriers.arriveAndWait(name, 'a', { timeoutMs: 1000 });
      if (i % 3 === 0) {
        barriers.complete(name);
        await expect(w).rejects.toSatisfy(code('ERR_BARRIER_REMOVED'));
      } else {
        barriers.arrive(name, 'b');
        await w;
        barriers.complete(name);
      }
    }
    expect(barriers.stats()).toMatchObject({ barriers: 0, waiters: 0 });
    expect(clock.pendingTimers).toBe(0);
  });

  it('close() rejects waiters with ClosedError and refuses further use', async () => {
    const { barriers } = setup();
    barriers.create('x', ['a', 'b']);
    const waiting = barriers.arriveAndWait('x', 'a');
    await barriers.close();
    await expect(waiting).rejects.toSatisfy(code('ERR_CLOSED'));
    expect(() => barriers.create('y', ['a'])).toThrow(
      expect.objectContaining({ code: 'ERR_CLOSED' }),
    );
    await expect(barriers.wait('x')).rejects.toSatisfy(code('ERR_CLOSED'));
    expect(barriers.isClosed).toBe(true);
    await barriers[Symbol.asyncDispose]();
  });

  it('reports arrivals, releases, forced removals and gauges', async () => {
    const { barriers, metrics } = setup();
    barriers.create('x', ['a', 'b', 'c']);
    barriers.arrive('x', 'a');
    const w = barriers.arriveAndWait('x', 'b');
    expect(metrics.gauge('majra_barrier_waiters')).toBe(1);
    barriers.forceRelease('x', 'c');
    await w;
    expect(metrics.counter('majra_barrier_arrivals_total')).toBe(2);
    expect(metrics.counter('majra_barrier_releases_total')).toBe(1);
    expect(metrics.counter('majra_barrier_forced_total')).toBe(1);
    expect(metrics.gauge('majra_barrier_waiters')).toBe(0);
    expect(metrics.gauge('majra_barrier_barriers')).toBe(1);
  });
});
