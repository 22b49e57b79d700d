import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.js';
import { MemoryMetricsSink } from '../testing/memory-metrics.js';
import type { HeartbeatTrackerOptions } from './tracker-options.js';
import { HeartbeatTracker } from './tracker.js';
import type { StatusTransition } from './types.js';

function setup(options: HeartbeatTrackerOptions = {}) {
  const clock = new ManualClock();
  const metrics = new MemoryMetricsSink();
  const tracker = new HeartbeatTracker({
    suspectAfterMs: 50,
    offlineAfterMs: 500,
    clock,
    metrics,
    ...options,
  });
  const transitions: StatusTransition[] = [];
  const evicted: string[] = [];
  tracker.on('transition', (t) => transitions.push(t));
  tracker.on('evicted', (id) => evicted.push(id));
  return { clock, metrics, tracker, transitions, evicted };
}

const gpu = (used: number, total: number, utilizationPct = 50) => ({
  utilizationPct,
  memoryUsedMb: used,
  memoryTotalMb: total,
});

describe('HeartbeatTracker, spec scenarios', () => {
  it('#1 register, beat, unknown beat', () => {
    const { tracker } = setup();
    tracker.register('n1');
    expect(tracker.size).toBe(1);
    expect(tracker.get('n1')?.status).toBe('online');
    expect(tracker.beat('n1')).toBe(true);
    expect(tracker.beat('nope')).toBe(false);
    expect(tracker.size).toBe(1);
  });

  it('#2 deregister true then false; empty', () => {
    const { tracker } = setup();
    tracker.register('n1');
    expect(tracker.deregister('n1')).toBe(true);
    expect(tracker.deregister('n1')).toBe(false);
    expect(tracker.isEmpty()).toBe(true);
  });

  it('#3 sweep reports only changes; a heartbeat recovers and reports it', () => {
    const { tracker, clock, transitions } = setup();
    tracker.register('n1');
    expect(tracker.sweep()).toEqual([]);
    clock.advance(80);
    expect(tracker.sweep()).toEqual([{ nodeId: 'n1', from: 'online', to: 'suspect', at: 80 }]);
    expect(tracker.sweep()).toEqual([]);
    tracker.beat('n1');
    expect(tracker.get('n1')?.status).toBe('online');
    expect(transitions.map((t) => `${t.from}>${t.to}`)).toEqual([
      'online>suspect',
      'suspect>online',
    ]);
  });

  it('#4 online() lists both nodes in registration order', () => {
    const { tracker } = setup();
    tracker.register('b');
    tracker.register('a');
    expect(tracker.online().map((n) => n.nodeId)).toEqual(['b', 'a']);
  });

  it('#5 beat with metadata replaces it; unknown → false', () => {
    const { tracker } = setup();
    tracker.register('n1', { metadata: { v: 1 } });
    expect(tracker.beat('n1', { metadata: { v: 2 } })).toBe(true);
    expect(tracker.get('n1')?.metadata).toEqual({ v: 2 });
    expect(tracker.beat('n1')).toBe(true);
    expect(tracker.get('n1')?.metadata).toEqual({ v: 2 });
    expect(tracker.beat('x', { metadata: 1 })).toBe(false);
  });

  it('#6/#13 many interleaved async beats over 8 nodes, then a soak of 500 × 200', async () => {
    const { tracker } = setup();
    const ids = Array.from({ length: 8 }, (_, i) => `n${i}`);
    for (const id of ids) tracker.register(id);
    await Promise.all(
      Array.from({ length: 8 }, async (_, t) => {
        for (let i = 0; i < 100; i++) {
          expect(tracker.beat(ids[(t + i) % 8]!)).toBe(true);
          await Promise.resolve();
        }
      }),
    );
    expect(tracker.online()).toHaveLength(8);
    const soak = setup().tracker;
    for (let n = 0; n < 500; n++) soak.register(`s${n}`);
    for (let r = 0; r < 200; r++) for (let n = 0; n < 500; n++) soak.beat(`s${n}`);
    expect(soak.fleetStats().online).toBe(500);
  });

  it('#7 telemetry on register, replaced by a beat; unknown → false', () => {
    const { tracker } = setup();
    tracker.register('n1', { gpus: [gpu(1000, 8000)] });
    expect(tracker.get('n1')?.gpus[0]?.memoryTotalMb).toBe(8000);
    expect(tracker.beat('n1', { gpus: [gpu(1000, 16000)] })).toBe(true);
    expect(tracker.get('n1')?.gpus).toEqual([gpu(1000, 16000)]);
    expect(tracker.beat('nope', { gpus: [] })).toBe(false);
  });

  it('#8 fleet stats; then one node turns suspect', () => {
    const { tracker, clock } = setup();
    tracker.register('n1', { gpus: [gpu(6000, 8000, 90), gpu(2000, 8000, 10)] });
    tracker.register('n2');
    expect(tracker.fleetStats()).toEqual({
      totalNodes: 2,
      online: 2,
      suspect: 0,
      offline: 0,
      totalGpus: 2,
      totalVramMb: 16000,
      availableVramMb: 8000,
      avgGpuUtilizationPct: 50,
    });
    clock.advance(80);
    tracker.beat('n1');
    tracker.sweep();
    expect(tracker.fleetStats()).toMatchObject({ online: 1, suspect: 1 });
  });

  it('#9 eviction after two offline sweeps, reported as an event', () => {
    const { tracker, clock, evicted, metrics } = setup({
      suspectAfterMs: 30,
      offlineAfterMs: 60,
      eviction: { offlineSweeps: 2 },
    });
    tracker.register('n1');
    clock.advance(80);
    tracker.sweep();
    expect(tracker.size).toBe(1);
    tracker.sweep();
    expect(tracker.size).toBe(0);
    expect(evicted).toEqual(['n1']);
    expect(metrics.counter('majra_heartbeat_evictions_total')).toBe(1);
  });

  it('#10 a heartbeat between offline sweeps resets the count', () => {
    const { tracker, clock, evicted } = setup({
      suspectAfterMs: 30,
      offlineAfterMs: 60,
      eviction: { offlineSweeps: 2 },
    });
    tracker.register('n1');
    clock.advance(80);
    tracker.sweep();
    tracker.beat('n1');
    clock.advance(80);
    tracker.sweep();
    expect(tracker.size).toBe(1);
    tracker.sweep();
    expect(evicted).toEqual(['n1']);
  });

  it('#11 telemetry survives JSON; empty tracker stats are zeros', () => {
    const { tracker } = setup();
    const g = { ...gpu(1, 2), temperatureC: 61.5 };
    tracker.register('n1', { gpus: [g] });
    expect(JSON.parse(JSON.stringify(tracker.get('n1')?.gpus))).toEqual([g]);
    expect(setup().tracker.fleetStats()).toEqual({
      totalNodes: 0,
      online: 0,
      suspect: 0,
      offline: 0,
      totalGpus: 0,
      totalVramMb: 0,
      availableVramMb: 0,
      avgGpuUtilizationPct: 0,
    });
  });

  it('#12 GPU and CPU nodes; a telemetry update changes utilisation', () => {
    const { tracker } = setup();
    tracker.register('gpu', { gpus: [gpu(4000, 24000, 30)] });
    tracker.register('cpu', { metadata: { cores: 64 } });
    expect(tracker.fleetStats()).toMatchObject({
      totalGpus: 1,
      totalVramMb: 24000,
      availableVramMb: 20000,
    });
    tracker.beat('gpu', { gpus: [gpu(4000, 24000, 95)] });
    expect(tracker.fleetStats().avgGpuUtilizationPct).toBe(95);
  });

  it('#13 fuzz: random register/beat/deregister/sweep never throws and counts stay consistent', () => {
    const { tracker, clock } = setup({ eviction: { offlineSweeps: 1 } });
    let seed = 3;
    const random = (n: number): number => (seed = (seed * 16807) % 2147483647) % n;
    for (let i = 0; i < 2000; i++) {
      const id = `n${random(8)}`;
      const op = random(5);
      if (op === 0) tracker.register(id);
      else if (op === 1) tracker.beat(id);
      else if (op === 2) tracker.deregister(id);
      else if (op === 3) tracker.sweep();
      else clock.advance(random(400));
      const s = tracker.fleetStats();
      expect(s.online + s.suspect + s.offline).toBe(tracker.size);
      if (i % 20 !== 0) continue;
      for (const status of ['online', 'suspect', 'offline'] as const) {
        expect(tracker.listByStatus(status)).toHaveLength(s[status]);
      }
    }
  });

  it('#14 boundaries are inclusive; a late sweep goes online → offline directly', () => {
    const { tracker, clock } = setup();
    tracker.register('a');
    clock.advance(49);
    expect(tracker.sweep()).toEqual([]);
    clock.advance(1);
    expect(tracker.sweep().map((t) => t.to)).toEqual(['suspect']);
    clock.advance(449);
    expect(tracker.sweep()).toEqual([]);
    clock.advance(1);
    expect(tracker.sweep().map((t) => t.to)).toEqual(['offline']);
    tracker.register('b');
    clock.advance(10_000);
    const late = tracker.sweep();
    expect(late).toEqual([{ nodeId: 'b', from: 'online', to: 'offline', at: clock.monotonic() }]);
  });

  it('#15 re-registering clears telemetry, resets to online and reports the recovery', () => {
    const { tracker, clock, transitions } = setup();
    tracker.register('n1', { gpus: [gpu(1, 2)], metadata: { a: 1 } });
    clock.advance(600);
    tracker.sweep();
    tracker.register('n1');
    expect(tracker.get('n1')).toMatchObject({ status: 'online', gpus: [], metadata: null });
    expect(transitions.at(-1)).toMatchObject({ from: 'offline', to: 'online' });
  });

  it('#16 config validation', () => {
    const bad: HeartbeatTrackerOptions[] = [
      { suspectAfterMs: 100, offlineAfterMs: 100 },
      { suspectAfterMs: 200, offlineAfterMs: 100 },
      { suspectAfterMs: Number.NaN },
      { offlineAfterMs: Number.POSITIVE_INFINITY },
      { suspectAfterMs: -1 },
      { suspectAfterMs: 0 },
      { eviction: { offlineSweeps: 0 } },
      { eviction: { offlineSweeps: 1.5 } },
      { maxNodes: 0 },
    ];
    for (const options of bad) {
      expect(() => new HeartbeatTracker(options), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
    expect(new HeartbeatTracker().suspectAfterMs).toBe(30_000);
    expect(new HeartbeatTracker().offlineAfterMs).toBe(90_000);
  });

  it('#17 offlineSweeps 1 evicts in the first offline sweep, which also reports the transition', () => {
    const { tracker, clock, evicted } = setup({ eviction: { offlineSweeps: 1 } });
    tracker.register('n1');
    tracker.register('healthy');
    clock.advance(500);
    tracker.beat('healthy');
    const t = tracker.sweep();
    expect(t).toEqual([{ nodeId: 'n1', from: 'online', to: 'offline', at: 500 }]);
    expect(evicted).toEqual(['n1']);
    expect(tracker.get('healthy')?.status).toBe('online');
  });

  it('#18 offline GPUs are excluded by default (counted with includeOffline); used > total adds 0', () => {
    const { tracker, clock } = setup();
    tracker.register('down', { gpus: [gpu(1000, 8000)] });
    clock.advance(500);
    tracker.register('up', { gpus: [gpu(9000, 8000)] });
    tracker.sweep();
    expect(tracker.fleetStats()).toMatchObject({
      offline: 1,
      totalGpus: 1,
      totalVramMb: 8000,
      availableVramMb: 0,
    });
    expect(tracker.fleetStats({ includeOffline: true })).toMatchObject({
      totalGpus: 2,
      totalVramMb: 16000,
      availableVramMb: 7000,
    });
  });

  it('#19 the sweeper runs on an unref-able timer and stops on abort, stop() and close()', async () => {
    const { tracker, clock, transitions } = setup();
    tracker.register('n1');
    const controller = new AbortController();
    tracker.startSweeper(10, { signal: controller.signal });
    expect(tracker.sweeping).toBe(true);
    expect(() => tracker.startSweeper(10)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_STATE' }),
    );
    clock.advance(60);
    expect(transitions.map((t) => t.to)).toEqual(['suspect']);
    controller.abort();
    expect(tracker.sweeping).toBe(false);
    expect(clock.pendingTimers).toBe(0);
    const stop = tracker.startSweeper(10);
    expect(clock.pendingTimers).toBe(1);
    stop();
    expect(clock.pendingTimers).toBe(0);
    tracker.startSweeper(10);
    await tracker.close();
    expect(clock.pendingTimers).toBe(0);
    expect(() => tracker.register('x')).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
    await tracker[Symbol.asyncDispose]();
  });

  it('#20 get returns a copy', () => {
    const { tracker } = setup();
    tracker.register('n1', { metadata: { tags: ['a'] }, gpus: [gpu(1, 2)] });
    const snap = tracker.get('n1')!;
    (snap.metadata as { tags: string[] }).tags.push('b');
    expect(() => (snap.gpus as unknown as unknown[]).push(gpu(0, 0))).toThrow();
    expect(tracker.get('n1')?.metadata).toEqual({ tags: ['a'] });
    const input = [gpu(1, 2)];
    tracker.beat('n1', { gpus: input });
    input[0]!.memoryTotalMb = 999;
    expect(tracker.get('n1')?.gpus[0]?.memoryTotalMb).toBe(2);
  });
});

describe('HeartbeatTracker bad input and limits', () => {
  it('rejects bad ids and telemetry with typed errors and changes nothing', () => {
    const { tracker } = setup();
    tracker.register('n1', { gpus: [gpu(1, 2)] });
    for (const id of ['', 'x'.repeat(257), 7]) {
      expect(() => tracker.register(id as string)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
    const badGpus = [
      [gpu(-1, 2)],
      [gpu(1, Number.NaN)],
      [gpu(1, 2, 101)],
      [{ ...gpu(1, 2), temperatureC: Number.POSITIVE_INFINITY }],
      [null],
      'x',
    ];
    for (const gpus of badGpus) {
      expect(() => tracker.beat('n1', { gpus: gpus as never })).toThrow(
        expect.objectContaining({ code: 'ERR_HEARTBEAT_INVALID_TELEMETRY' }),
      );
      expect(() => tracker.register('n2', { gpus: gpus as never })).toThrow(
        expect.objectContaining({ code: 'ERR_HEARTBEAT_INVALID_TELEMETRY' }),
      );
    }
    expect(() => tracker.register('n3', { metadata: () => 1 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => tracker.register('n4', null as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => tracker.beat('n1', 5 as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => tracker.listByStatus('dead' as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(tracker.size).toBe(1);
    expect(tracker.get('n1')?.gpus).toEqual([gpu(1, 2)]);
  });

  it('maxNodes: a new node beyond the cap throws ERR_HEARTBEAT_CAPACITY; re-registering is fine', () => {
    const { tracker } = setup({ maxNodes: 2 });
    tracker.register('a');
    tracker.register('b');
    expect(() => tracker.register('c')).toThrow(
      expect.objectContaining({ code: 'ERR_HEARTBEAT_CAPACITY' }),
    );
    tracker.register('a');
    tracker.deregister('b');
    tracker.register('c');
    expect(tracker.size).toBe(2);
  });

  it('churn: nodes coming and going with eviction keep the map bounded', () => {
    const { tracker, clock } = setup({ eviction: { offlineSweeps: 1 }, maxNodes: 1000 });
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < 100; i++) tracker.register(`r${round}-n${i}`);
      clock.advance(100);
      tracker.sweep();
      expect(tracker.size).toBeLessThanOrEqual(600);
    }
    clock.advance(500);
    tracker.sweep();
    expect(tracker.size).toBe(0);
  });

  it('a throwing listener goes to onError and does not break the sweep', () => {
    const errors: Error[] = [];
    const { tracker, clock } = setup({ onError: (e) => errors.push(e) });
    tracker.on('transition', () => {
      throw new Error('listener bug');
    });
    tracker.register('a');
    tracker.register('b');
    clock.advance(60);
    expect(tracker.sweep()).toHaveLength(2);
    expect(errors.map((e) => e.message)).toEqual(['listener bug', 'listener bug']);
    expect(tracker.fleetStats().suspect).toBe(2);
  });

  it('sweeper errors without onError are emitted as error', () => {
    const clock = new ManualClock();
    const tracker = new HeartbeatTracker({ suspectAfterMs: 5, offlineAfterMs: 10, clock });
    const errors: Error[] = [];
    tracker.on('error', (e) => errors.push(e));
    tracker.on('transition', () => {
      throw new Error('boom');
    });
    tracker.register('a');
    tracker.startSweeper(6);
    clock.advance(6);
    expect(errors.map((e) => e.message)).toEqual(['boom']);
    expect(clock.pendingTimers).toBe(1);
  });

  it('reports transitions and per-status gauges', () => {
    const { tracker, clock, metrics } = setup();
    tracker.register('a');
    clock.advance(60);
    tracker.sweep();
    tracker.beat('a');
    expect(
      metrics.counter('majra_heartbeat_transitions_total', { from: 'online', to: 'suspect' }),
    ).toBe(1);
    expect(
      metrics.counter('majra_heartbeat_transitions_total', { from: 'suspect', to: 'online' }),
    ).toBe(1);
    expect(metrics.counter('majra_heartbeat_beats_total')).toBe(1);
    expect(metrics.gauge('majra_heartbeat_nodes', { status: 'online' })).toBe(1);
    expect(metrics.gauge('majra_heartbeat_nodes', { status: 'suspect' })).toBe(0);
  });
});
