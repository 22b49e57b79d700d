// Conformance suite for every HeartbeatTrackerContract implementation (memory, Redis, ...).
//
// Usage, in a `*.test.ts` file:
//   describeHeartbeatTracker('redis', (options, clock) => createRedisTracker(options), {
//     timeControl: false,   // the implementation reads its own (server) time
//     afterEach: async (trackers) => { ... },
//   });
//
// The factory receives a ManualClock. With `timeControl: true` (the default) the suite
// moves it; with `false` it waits real time instead — only a few tens of milliseconds,
// against thresholds chosen so that the outcome does not depend on machine speed (a
// suspect threshold of 30 ms next to an offline threshold of 60 s).
import { afterEach, describe, expect, it } from 'vitest';
import { isMajraError } from '../../src/core/errors.js';
import type {
  HeartbeatEvictionPolicy,
  HeartbeatTrackerContract,
  MaybePromise,
} from '../../src/heartbeat/types.js';
import { ManualClock } from '../../src/testing/manual-clock.js';

/** What the suite asks the factory to build. */
export interface HeartbeatTrackerSpec {
  readonly suspectAfterMs: number;
  readonly offlineAfterMs: number;
  readonly eviction?: HeartbeatEvictionPolicy;
}

export type HeartbeatTrackerFactory = (
  spec: HeartbeatTrackerSpec,
  clock: ManualClock,
) => MaybePromise<HeartbeatTrackerContract>;

export interface HeartbeatTrackerSuiteOptions {
  /** The tracker honours the ManualClock passed to the factory (default true). */
  readonly timeControl?: boolean;
  /** Runs after each test with every tracker the test created. */
  readonly afterEach?: (trackers: readonly HeartbeatTrackerContract[]) => MaybePromise<void>;
}

const gpu = (used: number, total: number, utilizationPct = 50) => ({
  utilizationPct,
  memoryUsedMb: used,
  memoryTotalMb: total,
});

async function expectCode(fn: () => MaybePromise<unknown>, code: string): Promise<void> {
  try {
    await fn();
  } catch (error) {
    expect(isMajraError(error), String(error)).toBe(true);
    expect((error as { code: string }).code).toBe(code);
    return;
  }
  expect.fail(`expected ${code}, nothing was thrown`);
}

/** Registers the conformance scenarios for one implementation. */
export function describeHeartbeatTracker(
  name: string,
  factory: HeartbeatTrackerFactory,
  options: HeartbeatTrackerSuiteOptions = {},
): void {
  const timeControl = options.timeControl ?? true;

  describe(`HeartbeatTracker conformance: ${name}`, () => {
    let created: HeartbeatTrackerContract[] = [];
    let clock = new ManualClock();

    async function make(spec: HeartbeatTrackerSpec): Promise<HeartbeatTrackerContract> {
      const tracker = await factory(spec, clock);
      created.push(tracker);
      return tracker;
    }

    async function pass(ms: number): Promise<void> {
      if (timeControl) await clock.advanceAsync(ms);
      else await new Promise((resolve) => setTimeout(resolve, ms));
    }

    afterEach(async () => {
      const trackers = created;
      created = [];
      clock = new ManualClock();
      await options.afterEach?.(trackers);
    });

    const SLOW = { suspectAfterMs: 30_000, offlineAfterMs: 90_000 };
    // Suspect quickly, offline only after a minute: a real-time wait of ~50 ms lands in
    // suspect on any machine.
    const SUSPECT_FAST = { suspectAfterMs: 30, offlineAfterMs: 60_000 };
    const OFFLINE_FAST = { suspectAfterMs: 10, offlineAfterMs: 30 };

    it('registers, beats known nodes, refuses unknown ones, deregisters', async () => {
      const tracker = await make(SLOW);
      await tracker.register('n1');
      expect(await tracker.get('n1')).toMatchObject({ nodeId: 'n1', status: 'online' });
      expect(await tracker.beat('n1')).toBe(true);
      expect(await tracker.beat('ghost')).toBe(false);
      expect(await tracker.get('ghost')).toBeUndefined();
      expect(await tracker.deregister('n1')).toBe(true);
      expect(await tracker.deregister('n1')).toBe(false);
      expect((await tracker.fleetStats()).totalNodes).toBe(0);
    });

    it('keeps metadata and telemetry, replaced by beats; re-registering clears telemetry', async () => {
      const tracker = await make(SLOW);
      await tracker.register('n1', { metadata: { v: 1 }, gpus: [gpu(1000, 8000)] });
      expect(await tracker.get('n1')).toMatchObject({
        metadata: { v: 1 },
        gpus: [gpu(1000, 8000)],
      });
      await tracker.beat('n1', { metadata: { v: 2 } });
      expect(await tracker.get('n1')).toMatchObject({
        metadata: { v: 2 },
        gpus: [gpu(1000, 8000)],
      });
      await tracker.beat('n1', { gpus: [gpu(0, 16000)] });
      expect((await tracker.get('n1'))?.gpus).toEqual([gpu(0, 16000)]);
      await tracker.register('n1');
      expect(await tracker.get('n1')).toMatchObject({ metadata: null, gpus: [] });
    });

    it('lists by status in registration order', async () => {
      const tracker = await make(SLOW);
      for (const id of ['c', 'a', 'b']) await tracker.register(id);
      const online = await tracker.listByStatus('online');
      expect(online.map((n) => n.nodeId)).toEqual(['c', 'a', 'b']);
      expect(await tracker.listByStatus('offline')).toEqual([]);
    });

    it('sums fleet capacity; used > total adds nothing available', async () => {
      const tracker = await make(SLOW);
      await tracker.register('n1', { gpus: [gpu(6000, 8000, 90), gpu(2000, 8000, 10)] });
      await tracker.register('n2');
      await tracker.register('n3', { gpus: [gpu(9000, 8000, 50)] });
      expect(await tracker.fleetStats()).toEqual({
        totalNodes: 3,
        online: 3,
        suspect: 0,
        offline: 0,
        totalGpus: 3,
        totalVramMb: 24000,
        availableVramMb: 8000,
        avgGpuUtilizationPct: 50,
      });
    });

    it('rejects bad ids and telemetry with typed errors and changes nothing', async () => {
      const tracker = await make(SLOW);
      await tracker.register('n1', { gpus: [gpu(1, 2)] });
      await expectCode(() => tracker.register(''), 'ERR_INVALID_ARGUMENT');
      await expectCode(() => tracker.beat('x'.repeat(257)), 'ERR_INVALID_ARGUMENT');
      for (const bad of [gpu(-1, 2), gpu(1, Number.NaN), gpu(1, 2, 101)]) {
        await expectCode(
          () => tracker.beat('n1', { gpus: [bad] }),
          'ERR_HEARTBEAT_INVALID_TELEMETRY',
        );
        await expectCode(
          () => tracker.register('n2', { gpus: [bad] }),
          'ERR_HEARTBEAT_INVALID_TELEMETRY',
        );
      }
      expect((await tracker.get('n1'))?.gpus).toEqual([gpu(1, 2)]);
      expect(await tracker.get('n2')).toBeUndefined();
    });

    it('a sweep right away reports nothing', async () => {
      const tracker = await make(SLOW);
      await tracker.register('n1');
      expect(await tracker.sweep()).toEqual([]);
    });

    it('a silent node turns suspect in a sweep; a beat brings it back online', async () => {
      const tracker = await make(SUSPECT_FAST);
      await tracker.register('quiet');
      await pass(50);
      const transitions = await tracker.sweep();
      expect(transitions).toHaveLength(1);
      expect(transitions[0]).toMatchObject({ nodeId: 'quiet', from: 'online', to: 'suspect' });
      expect(await tracker.sweep()).toEqual([]);
      expect((await tracker.fleetStats()).suspect).toBe(1);
      expect(await tracker.beat('quiet')).toBe(true);
      expect((await tracker.get('quiet'))?.status).toBe('online');
    });

    it('a long-silent node goes offline; its GPUs leave the fleet totals', async () => {
      const tracker = await make(OFFLINE_FAST);
      await tracker.register('gone', { gpus: [gpu(0, 8000)] });
      await pass(60);
      const transitions = await tracker.sweep();
      expect(transitions.map((t) => t.to)).toEqual(['offline']);
      expect(await tracker.fleetStats()).toMatchObject({
        offline: 1,
        totalGpus: 0,
        totalVramMb: 0,
      });
    });

    it('evicts a node after offlineSweeps offline sweeps, never a live one', async () => {
      // Offline after 200 ms: 'fresh' stays far from it between its beat and the sweep.
      const tracker = await make({
        suspectAfterMs: 20,
        offlineAfterMs: 200,
        eviction: { offlineSweeps: 2 },
      });
      await tracker.register('gone');
      await pass(300);
      await tracker.register('fresh');
      await tracker.sweep();
      expect(await tracker.get('gone')).toBeDefined();
      await tracker.beat('fresh');
      await tracker.sweep();
      expect(await tracker.get('gone')).toBeUndefined();
      expect((await tracker.get('fresh'))?.status).toBe('online');
    });
  });
}
