// The QueueStore conformance suite: every implementation of the port (memory, SQLite,
// PostgreSQL, ...) runs it unchanged. It checks the contract written in
// src/queue/types.ts, then drives a ManagedQueue over the store across "restarts".
//
// Usage (from a *.test.ts file):
//   describeQueueStore('SqliteQueueStore', async () => {
//     const store = SqliteQueueStore.open(file);
//     return { store, reopen: () => SqliteQueueStore.open(file), cleanup: () => store.close() };
//   });
import { afterEach, describe, expect, it } from 'vitest';
import { isMajraError } from '../../src/core/errors.js';
import { ManagedQueue } from '../../src/queue/managed-queue.js';
import { Priority } from '../../src/queue/priority.js';
import type { JobState, QueueStore, StoredJob } from '../../src/queue/types.js';
import { ManualClock } from '../../src/testing/manual-clock.js';

/** What a factory hands the suite for one test. */
export interface QueueStoreFixture {
  /** A store over an empty queue (fresh table, schema or queue name). */
  readonly store: QueueStore;
  /**
   * A second store instance over the same data, as a restarted process would open it.
   * Stores without durability (memory) may return the same instance.
   */
  readonly reopen: () => QueueStore | Promise<QueueStore>;
  /** Closes everything the factory (and `reopen`) opened and drops the data. */
  readonly cleanup: () => unknown;
}

function row(overrides: Partial<StoredJob> & { id: string }): StoredJob {
  return {
    seq: 0,
    priority: Priority.Normal,
    state: 'queued',
    payload: '{"n":1}',
    resources: undefined,
    attempts: 0,
    enqueuedAt: 1_767_225_600_000,
    startedAt: undefined,
    finishedAt: undefined,
    ...overrides,
  };
}

async function rejectsWith(fn: () => unknown, code: string): Promise<void> {
  let caught: unknown;
  try {
    await fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected a rejection with ${code}`).toBeDefined();
  expect(isMajraError(caught) ? caught.code : caught).toBe(code);
}

/** Registers the conformance tests for one QueueStore implementation. */
export function describeQueueStore(
  name: string,
  factory: () => QueueStoreFixture | Promise<QueueStoreFixture>,
): void {
  describe(`QueueStore conformance: ${name}`, () => {
    let fixture: QueueStoreFixture | undefined;
    const open = async (): Promise<QueueStoreFixture> => {
      fixture = await factory();
      return fixture;
    };
    afterEach(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    });

    it('loads nothing from an empty queue', async () => {
      const { store } = await open();
      expect(await store.load()).toEqual([]);
    });

    it('round-trips every field verbatim', async () => {
      const { store } = await open();
      const tricky = JSON.stringify({
        s: "'; DROP TABLE x; -- $1 \\ \u{1F600} ü",
        n: [1, 2.5, null],
      });
      const rows: StoredJob[] = [
        row({ id: 'a', seq: 1, priority: Priority.Critical, payload: tricky }),
        row({
          id: 'b',
          seq: 2,
          priority: Priority.Background,
          state: 'running',
          resources: { gpuCount: 2, vramMb: 16_000 },
          attempts: 3,
          startedAt: 1_767_225_600_500,
        }),
        row({
          id: "c'quote",
          seq: 3,
          priority: Priority.Low,
          state: 'failed',
          resources: { gpuCount: 0, vramMb: 0 },
          attempts: 1,
          startedAt: 1_767_225_600_001,
          finishedAt: 1_767_225_600_002,
        }),
      ];
      for (const r of rows) await store.insert(r);
      expect(await store.load()).toEqual(rows);
    });

    it('keeps every priority and state', async () => {
      const { store } = await open();
      const states: JobState[] = ['queued', 'running', 'completed', 'failed', 'cancelled'];
      const rows = states.map((state, i) =>
        row({ id: `j${i}`, seq: i, state, priority: i as Priority }),
      );
      for (const r of rows) await store.insert(r);
      const loaded = await store.load();
      expect(loaded.map((r) => [r.state, r.priority])).toEqual(states.map((s, i) => [s, i]));
    });

    it('returns rows sorted by seq whatever the insert order', async () => {
      const { store } = await open();
      for (const seq of [5, 1, 9, 3]) await store.insert(row({ id: `s${seq}`, seq }));
      expect((await store.load()).map((r) => r.seq)).toEqual([1, 3, 5, 9]);
    });

    it('refuses a duplicate id and keeps the existing row', async () => {
      const { store } = await open();
      await store.insert(row({ id: 'dup', payload: '"first"' }));
      await rejectsWith(
        () => store.insert(row({ id: 'dup', seq: 7, payload: '"second"' })),
        'ERR_QUEUE_STORE_CONFLICT',
      );
      const loaded = await store.load();
      expect(loaded).toHaveLength(1);
      expect(loaded[0]!.payload).toBe('"first"');
    });

    it('applies a transition whose from-state matches', async () => {
      const { store } = await open();
      await store.insert(row({ id: 't' }));
      await store.transition({
        id: 't',
        from: 'queued',
        to: 'running',
        attempts: 1,
        startedAt: 10,
        finishedAt: undefined,
      });
      await store.transition({
        id: 't',
        from: 'running',
        to: 'queued',
        attempts: 1,
        startedAt: undefined,
        finishedAt: undefined,
      });
      await store.transition({
        id: 't',
        from: 'queued',
        to: 'cancelled',
        attempts: 1,
        startedAt: undefined,
        finishedAt: 20,
      });
      const [loaded] = await store.load();
      expect(loaded).toEqual(
        row({ id: 't', state: 'cancelled', attempts: 1, startedAt: undefined, finishedAt: 20 }),
      );
    });

    it('refuses a transition from the wrong state or for an unknown id, changing nothing', async () => {
      const { store } = await open();
      await store.insert(row({ id: 'w' }));
      const change = {
        id: 'w',
        from: 'running' as const,
        to: 'completed' as const,
        attempts: 9,
        startedAt: 1,
        finishedAt: 2,
      };
      await rejectsWith(() => store.transition(change), 'ERR_QUEUE_STORE_CONFLICT');
      await rejectsWith(
        () => store.transition({ ...change, id: 'missing', from: 'queued' }),
        'ERR_QUEUE_STORE_CONFLICT',
      );
      expect(await store.load()).toEqual([row({ id: 'w' })]);
    });

    it('removes listed rows, ignores unknown ids and empty lists', async () => {
      const { store } = await open();
      for (let i = 0; i < 5; i++) await store.insert(row({ id: `r${i}`, seq: i }));
      await store.remove([]);
      await store.remove(['r1', 'r3', 'nope']);
      await store.remove(['r1']);
      expect((await store.load()).map((r) => r.id)).toEqual(['r0', 'r2', 'r4']);
    });

    it('keeps rows for a reopened store', async () => {
      const { store, reopen } = await open();
      await store.insert(row({ id: 'durable', seq: 4, attempts: 2 }));
      await store.transition({
        id: 'durable',
        from: 'queued',
        to: 'running',
        attempts: 3,
        startedAt: 5,
        finishedAt: undefined,
      });
      const again = await reopen();
      expect(await again.load()).toEqual([
        row({ id: 'durable', seq: 4, state: 'running', attempts: 3, startedAt: 5 }),
      ]);
    });

    it('backs a ManagedQueue across restarts: ids, tier order, attempts, no duplicates', async () => {
      const { store, reopen } = await open();
      const clock = new ManualClock();
      const q1 = await ManagedQueue.restore<{ n: number }>(store, { running: 'requeue', clock });
      const low1 = await q1.enqueue(Priority.Low, { n: 1 });
      const high = await q1.enqueue(
        Priority.High,
        { n: 2 },
        { resources: { gpuCount: 1, vramMb: 10 } },
      );
      const low2 = await q1.enqueue(Priority.Low, { n: 3 });
      const done = await q1.enqueue(Priority.Critical, { n: 4 });
      expect((await q1.dequeueAny())!.id).toBe(done);
      await q1.complete(done);
      expect((await q1.dequeueAny())!.id).toBe(high); // running at "crash"
      await q1.close();

      const q2 = await ManagedQueue.restore<{ n: number }>(await reopen(), {
        running: 'requeue',
        clock,
      });
      expect(q2.jobCount).toBe(4);
      expect(q2.get(done)!.state).toBe('completed');
      expect(q2.get(high)).toMatchObject({ state: 'queued', attempts: 1, payload: { n: 2 } });
      expect(q2.get(high)!.resources).toEqual({ gpuCount: 1, vramMb: 10 });
      expect(q2.list({ state: 'queued' }).map((j) => j.id)).toEqual([high, low1, low2]);
      const again = await q2.dequeueAny();
      expect(again).toMatchObject({ id: high, attempts: 2 });
      await q2.close();

      const q3 = await ManagedQueue.restore<{ n: number }>(await reopen(), {
        running: 'fail',
        clock,
      });
      expect(q3.jobCount).toBe(4);
      expect(q3.get(high)).toMatchObject({ state: 'failed', attempts: 2 });
      expect(q3.list({ state: 'queued' }).map((j) => j.id)).toEqual([low1, low2]);
      const ids = (await (await reopen()).load()).map((r) => r.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toHaveLength(4);
      await q3.close();
    });

    it('deletes evicted jobs from the store', async () => {
      const { store, reopen } = await open();
      const clock = new ManualClock();
      const q = await ManagedQueue.restore<string>(store, {
        running: 'requeue',
        clock,
        finishedTtlMs: 100,
      });
      const a = await q.enqueue(Priority.Normal, 'a');
      await q.enqueue(Priority.Normal, 'b');
      await q.dequeueAny();
      await q.complete(a);
      clock.advance(100);
      expect(await q.evictExpired()).toBe(1);
      expect((await (await reopen()).load()).map((r) => r.payload)).toEqual(['"b"']);
      await q.close();
    });
  });
}
