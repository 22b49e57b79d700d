// SqliteQueueStore specifics on real SQLite files (the port contract itself is covered
// by test/conformance/queue-store-sqlite.test.ts).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteQueueStore } from '../../src/backends/sqlite/queue-store.js';
import { ManagedQueue } from '../../src/queue/managed-queue.js';
import { Priority } from '../../src/queue/priority.js';
import { ManualClock } from '../../src/testing/manual-clock.js';

const dir = mkdtempSync(join(tmpdir(), 'majra-sqlite-'));
let n = 0;
const fresh = (): string => join(dir, `q${n++}.db`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function code(fn: () => unknown): Promise<string | undefined> {
  try {
    await fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

describe('SqliteQueueStore', () => {
  it('creates the file, uses WAL on files and memory journal in memory (5.5 #8, #9)', async () => {
    const file = fresh();
    expect(existsSync(file)).toBe(false);
    const store = SqliteQueueStore.open(file);
    expect(existsSync(file)).toBe(true);
    expect(store.journalMode).toBe('wal');
    const mem = SqliteQueueStore.inMemory();
    expect(mem.journalMode).toBe('memory');
    await store.close();
    await mem.close();
    await store.close(); // idempotent
    expect(store.isClosed).toBe(true);
    expect(await code(() => store.load())).toBe('ERR_CLOSED');
  });

  it('persists a High JSON job with resources; completed rows are kept until evicted (scenario 17)', async () => {
    const clock = new ManualClock();
    const store = SqliteQueueStore.open(fresh());
    const q = await ManagedQueue.restore<{ task: string }>(store, {
      running: 'requeue',
      clock,
      finishedTtlMs: 10,
    });
    const id = await q.enqueue(Priority.High, { task: 'test-payload' });
    let rows = store.load();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id,
      state: 'queued',
      priority: 3,
      payload: '{"task":"test-payload"}',
    });
    const crit = await q.enqueue(Priority.Critical, { task: 'c' });
    const bg = await q.enqueue(
      Priority.Background,
      { task: 'bg' },
      { resources: { gpuCount: 2, vramMb: 16_000 } },
    );
    await q.dequeueAny();
    await q.complete(crit);
    rows = store.load();
    expect(rows.find((r) => r.id === bg)).toMatchObject({
      priority: 0,
      resources: { gpuCount: 2, vramMb: 16_000 },
    });
    expect(rows.find((r) => r.id === crit)).toMatchObject({ state: 'completed', attempts: 1 });
    clock.advance(10);
    expect(await q.evictExpired()).toBe(1);
    expect(store.load().map((r) => r.id)).toEqual([id, bg]);
    await q.close();
    await store.close();
  });

  it('commits each transition before the call returns (seen by another connection)', async () => {
    const file = fresh();
    const store = SqliteQueueStore.open(file);
    const reader = new Database(file, { readonly: true });
    const state = (): unknown => reader.prepare('SELECT state FROM majra_queue_jobs').pluck().get();
    const q = await ManagedQueue.restore<number>(store, { running: 'requeue' });
    const pending = q.enqueue(Priority.Normal, 1);
    expect(state()).toBe('queued'); // not awaited yet: already durable
    const id = await pending;
    void q.dequeueAny();
    expect(state()).toBe('running');
    void q.complete(id);
    expect(state()).toBe('completed');
    reader.close();
    await q.close();
    await store.close();
  });

  it('keeps queues sharing a file apart', async () => {
    const file = fresh();
    const a = SqliteQueueStore.open(file, { queue: 'a' });
    const b = SqliteQueueStore.open(file, { queue: "b'; DROP TABLE majra_queue_jobs; --" });
    const qa = await ManagedQueue.restore<string>(a, { running: 'requeue' });
    const qb = await ManagedQueue.restore<string>(b, { running: 'requeue' });
    await qa.enqueue(Priority.Low, 'for a');
    await qb.enqueue(Priority.Low, 'for b');
    expect(a.load().map((r) => r.payload)).toEqual(['"for a"']);
    expect(b.load().map((r) => r.payload)).toEqual(['"for b"']);
    await Promise.all([qa.close(), qb.close(), a.close(), b.close()]);
  });

  it('reports a corrupt row on restore without changing the file', async () => {
    const file = fresh();
    const store = SqliteQueueStore.open(file);
    const q = await ManagedQueue.restore<number>(store, { running: 'requeue' });
    await q.enqueue(Priority.Normal, 1);
    await q.close();
    const raw = new Database(file);
    raw.prepare("UPDATE majra_queue_jobs SET state = 'weird'").run();
    expect(await code(() => ManagedQueue.restore(store, { running: 'requeue' }))).toBe(
      'ERR_QUEUE_STORE_CORRUPT',
    );
    raw.prepare("UPDATE majra_queue_jobs SET state = 'queued', payload = '{nope'").run();
    expect(await code(() => ManagedQueue.restore(store, { running: 'requeue' }))).toBe(
      'ERR_QUEUE_STORE_CORRUPT',
    );
    raw.close();
    await store.close();
  });

  it('wraps driver failures and validates options', async () => {
    expect(await code(() => SqliteQueueStore.open(dir))).toBe('ERR_QUEUE_STORE_FAILED');
    expect(await code(() => SqliteQueueStore.open(fresh(), { queue: '' }))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(await code(() => SqliteQueueStore.open(fresh(), { synchronous: 'OFF' as 'FULL' }))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    const db = new Database(':memory:');
    const borrowed = SqliteQueueStore.fromDatabase(db, { synchronous: 'FULL' });
    await borrowed.close();
    expect(db.open).toBe(true); // not ours to close
    db.close();
    // a failing write (read-only connection) rejects the queue operation, state unchanged
    const file = fresh();
    await SqliteQueueStore.open(file).close();
    const roDb = new Database(file, { readonly: true });
    const ro = SqliteQueueStore.fromDatabase(roDb);
    const q = await ManagedQueue.restore<number>(ro, { running: 'requeue' });
    expect(await code(() => q.enqueue(Priority.Normal, 1))).toBe('ERR_QUEUE_STORE_FAILED');
    expect(q.jobCount).toBe(0);
    await q.close();
    roDb.close();
  });
});
