// Queue benchmarks, majra next to its baselines in the same run:
//  1. PriorityQueue enqueue+dequeue vs a plain binary heap (written here) on the same items.
//  2. ManagedQueue enqueue -> dequeue -> complete vs p-queue with priorities (add + run).
//  3. ManagedQueue on SqliteQueueStore, full lifecycle per job, vs raw better-sqlite3
//     single-row inserts (same file settings: WAL, synchronous=NORMAL).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import PQueue from 'p-queue';
import { SqliteQueueStore } from '../src/backends/sqlite/queue-store.js';
import { ManagedQueue } from '../src/queue/managed-queue.js';
import { createQueueItem, PriorityQueue, type QueueItem } from '../src/queue/priority-queue.js';
import type { Priority } from '../src/queue/priority.js';
import { measure, type BenchOptions, type BenchReport } from './lib.js';

/** A textbook array binary heap ordered by (priority desc, seq asc): FIFO within a tier. */
class BinaryHeap<T> {
  readonly #items: { item: QueueItem<T>; seq: number }[] = [];
  #seq = 0;

  get size(): number {
    return this.#items.length;
  }

  #before(a: { item: QueueItem<T>; seq: number }, b: { item: QueueItem<T>; seq: number }): boolean {
    return (
      a.item.priority > b.item.priority || (a.item.priority === b.item.priority && a.seq < b.seq)
    );
  }

  push(item: QueueItem<T>): void {
    const items = this.#items;
    const node = { item, seq: this.#seq++ };
    let i = items.length;
    items.push(node);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#before(node, items[parent]!)) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = node;
  }

  pop(): QueueItem<T> | undefined {
    const items = this.#items;
    if (items.length === 0) return undefined;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= items.length) break;
        const r = l + 1;
        const child = r < items.length && this.#before(items[r]!, items[l]!) ? r : l;
        if (!this.#before(items[child]!, last)) break;
        items[i] = items[child]!;
        i = child;
      }
      items[i] = last;
    }
    return top.item;
  }
}

export async function run(options: BenchOptions): Promise<BenchReport> {
  const notes: string[] = [];
  const rows: BenchReport['rows'][number][] = [];

  // --- 1. PriorityQueue vs binary heap -------------------------------------------------
  const N = 1000;
  const items = Array.from({ length: N }, (_, i) =>
    createQueueItem((i % 5) as Priority, i, String(i)),
  );
  const pq = new PriorityQueue<number>();
  const heap = new BinaryHeap<number>();
  let sink = 0;
  const r1 = await measure(
    {
      'PriorityQueue 1000 enqueue+dequeue': () => {
        for (const item of items) pq.enqueue(item);
        for (let i = 0; i < N; i++) sink += pq.dequeue()!.payload;
      },
      'binary heap 1000 push+pop': () => {
        for (const item of items) heap.push(item);
        for (let i = 0; i < N; i++) sink += heap.pop()!.payload;
      },
    },
    options,
  );
  const pqHz = r1.get('PriorityQueue 1000 enqueue+dequeue')!;
  const heapHz = r1.get('binary heap 1000 push+pop')!;
  rows.push({
    name: 'PriorityQueue enqueue+dequeue (1000 items, 5 tiers)',
    unit: 'items/s',
    majra: pqHz.hz * N,
    spread: pqHz.spread,
    peer: { name: 'plain binary heap (same items)', value: heapHz.hz * N, spread: heapHz.spread },
    targetRatio: 1,
    target: '>= 1x the binary heap',
  });

  // --- 2. ManagedQueue vs p-queue ----------------------------------------------------------
  const M = 1000;
  const managed = new ManagedQueue<number>({ finishedTtlMs: 0 });
  const direct = new ManagedQueue<number>({ finishedTtlMs: 0 });
  const ids: string[] = new Array<string>(M);
  const noop = (): void => undefined;
  const r2 = await measure(
    {
      'ManagedQueue enqueue->dequeue->complete x1000': async () => {
        for (let i = 0; i < M; i++) await managed.enqueue((i % 5) as Priority, i);
        for (let i = 0; i < M; i++) {
          const job = await managed.dequeueAny();
          await managed.complete(job!.id);
        }
        await managed.evictExpired();
      },
      // Without a store every call has taken effect when it returns; the promise only
      // reports the outcome. This row shows the queue's own cost without 3 awaits per job.
      'ManagedQueue enqueue->dequeue->complete x1000, not awaited': async () => {
        for (let i = 0; i < M; i++) {
          void direct.enqueue((i % 5) as Priority, i).then((id) => (ids[i] = id));
        }
        await Promise.resolve();
        for (let i = 0; i < M; i++) void direct.dequeueAny();
        for (let i = 0; i < M; i++) void direct.complete(ids[i]!);
        await direct.evictExpired();
      },
      'p-queue add+run x1000 (priorities, concurrency 1)': async () => {
        const queue = new PQueue({ concurrency: 1 });
        for (let i = 0; i < M; i++) void queue.add(noop, { priority: i % 5 });
        await queue.onIdle();
      },
      // The floor of the awaited row: the same 3 awaits per job (and the final one) on
      // already-settled promises, with no queue work at all.
      'floor: 3 awaited settled promises per job x1000': async () => {
        for (let i = 0; i < M; i++) await Promise.resolve(i);
        for (let i = 0; i < M; i++) {
          const value = await Promise.resolve(i);
          await Promise.resolve(value);
        }
        await Promise.resolve(0);
      },
    },
    options,
  );
  const pqueueHz = r2.get('p-queue add+run x1000 (priorities, concurrency 1)')!;
  const vsPQueue = (name: string, task: string, target?: string): BenchReport['rows'][number] => {
    const hz = r2.get(task)!;
    return {
      name,
      unit: 'jobs/s',
      majra: hz.hz * M,
      spread: hz.spread,
      peer: {
        name: 'p-queue 9 add+run with priorities',
        value: pqueueHz.hz * M,
        spread: pqueueHz.spread,
      },
      ...(target === undefined
        ? { target: 'the best any awaited-API queue can do here' }
        : { targetRatio: 10, target }),
    };
  };
  rows.push(
    vsPQueue(
      'ManagedQueue enqueue -> dequeue -> complete (awaited, no store)',
      'ManagedQueue enqueue->dequeue->complete x1000',
      '>= 10x p-queue with priorities',
    ),
    vsPQueue(
      'ManagedQueue enqueue -> dequeue -> complete (calls not awaited, no store)',
      'ManagedQueue enqueue->dequeue->complete x1000, not awaited',
      '>= 10x p-queue with priorities',
    ),
    vsPQueue(
      'Floor of the awaited row: 3 awaited settled promises per job, no queue work',
      'floor: 3 awaited settled promises per job x1000',
    ),
  );
  if (direct.jobCount !== 0) throw new Error('bench: not-awaited lifecycle left jobs behind');
  await managed.close();
  await direct.close();

  // --- 3. SqliteQueueStore lifecycle vs raw inserts --------------------------------------
  const dir = mkdtempSync(join(tmpdir(), 'majra-bench-'));
  try {
    const store = SqliteQueueStore.open(join(dir, 'queue.db'));
    const durable = await ManagedQueue.restore<{ n: number }>(store, {
      running: 'requeue',
      finishedTtlMs: 0,
    });
    const raw = new Database(join(dir, 'raw.db'));
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = NORMAL');
    raw.exec('CREATE TABLE t (id TEXT PRIMARY KEY, priority INTEGER, payload TEXT)');
    const insert = raw.prepare('INSERT INTO t (id, priority, payload) VALUES (?, ?, ?)');
    let rawId = 0;
    const B = 100;
    const r3 = await measure(
      {
        'SqliteQueueStore lifecycle x100': async () => {
          for (let i = 0; i < B; i++) await durable.enqueue((i % 5) as Priority, { n: i });
          for (let i = 0; i < B; i++) {
            const job = await durable.dequeueAny();
            await durable.complete(job!.id);
          }
          await durable.evictExpired();
        },
        'better-sqlite3 raw insert x100': () => {
          for (let i = 0; i < B; i++) insert.run(String(rawId++), i % 5, '{"n":1}');
        },
      },
      options,
    );
    const lifeHz = r3.get('SqliteQueueStore lifecycle x100')!;
    const rawHz = r3.get('better-sqlite3 raw insert x100')!;
    rows.push({
      name: 'ManagedQueue + SqliteQueueStore full lifecycle (insert, 2 transitions, evict)',
      unit: 'jobs/s',
      majra: lifeHz.hz * B,
      spread: lifeHz.spread,
      peer: {
        name: 'raw better-sqlite3 single-row INSERT',
        value: rawHz.hz * B,
        spread: rawHz.spread,
      },
      target: 'reported next to the raw insert rate (4 autocommitted writes per job vs 1)',
    });
    await durable.close();
    await store.close();
    raw.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  notes.push(
    'p-queue runs with concurrency 1 so its priorities decide the order; ManagedQueue awaits every call.',
    'SQLite figures are file-backed (tmpdir), WAL, synchronous=NORMAL; each job is 4 autocommitted writes.',
    'The not-awaited row calls the same methods without awaiting: without a store each call has taken effect when it returns.',
  );
  if (sink === -1) notes.push('unreachable');
  return { area: 'queue', rows, notes };
}
