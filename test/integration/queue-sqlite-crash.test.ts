// A worker process running jobs from a SQLite-backed ManagedQueue is SIGKILLed while a
// job runs; a new process restores and finishes the rest. Every job must run exactly
// once (the interrupted one per the `running` policy), with no lost or duplicate ids.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteQueueStore } from '../../src/backends/sqlite/queue-store.js';
import { ManagedQueue } from '../../src/queue/managed-queue.js';

const worker = fileURLToPath(new URL('./fixtures/queue-crash-worker.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'majra-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Message {
  type: string;
  ids?: string[];
  id?: string;
  completed?: number;
}

function start(args: string[]): {
  child: ChildProcess;
  messages: Message[];
  next: (type: string) => Promise<Message>;
  exit: Promise<number | null>;
} {
  const child = fork(worker, args, {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const messages: Message[] = [];
  const waiting: { type: string; resolve: (m: Message) => void }[] = [];
  child.on('message', (m: Message) => {
    messages.push(m);
    const index = waiting.findIndex((w) => w.type === m.type);
    if (index >= 0) waiting.splice(index, 1)[0]!.resolve(m);
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const next = (type: string): Promise<Message> => {
    const seen = messages.find((m) => m.type === type);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      waiting.push({ type, resolve });
      void exit.then((code) => reject(new Error(`worker exited (${code}) before sending ${type}`)));
    });
  };
  return { child, messages, next, exit };
}

function logLines(log: string): string[] {
  return existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
}

describe.each(['requeue', 'fail'] as const)('SIGKILL mid-run, running policy %s', (policy) => {
  it('finishes every job exactly once after a restart', async () => {
    const db = join(dir, `${policy}.db`);
    const log = join(dir, `${policy}.log`);

    const first = start([db, log, 'seed', policy, '7']);
    const { ids } = await first.next('seeded');
    const { id: interrupted } = await first.next('running');
    expect(first.child.kill('SIGKILL')).toBe(true);
    await first.exit;
    expect(first.child.signalCode).toBe('SIGKILL');
    const before = logLines(log);
    expect(before).toHaveLength(7);
    expect(before).not.toContain(interrupted);

    const second = start([db, log, 'resume', policy, '-1']);
    const drained = await second.next('drained');
    expect(await second.exit).toBe(0);

    const done = logLines(log);
    expect(new Set(done).size).toBe(done.length); // no job ran twice
    const expected = policy === 'requeue' ? ids! : ids!.filter((id) => id !== interrupted);
    expect([...done].sort()).toEqual([...expected].sort());
    expect(drained.completed).toBe(expected.length - 7);

    // A third restore (in this process) sees the same 20 jobs, all finished, nothing new.
    const store = SqliteQueueStore.open(db);
    const queue = await ManagedQueue.restore(store, { running: 'requeue' });
    expect(queue.jobCount).toBe(20);
    expect(queue.queuedCount).toBe(0);
    expect(queue.get(interrupted!)).toMatchObject({
      state: policy === 'requeue' ? 'completed' : 'failed',
      attempts: policy === 'requeue' ? 2 : 1,
    });
    expect(queue.counts()).toMatchObject({
      completed: expected.length,
      failed: policy === 'fail' ? 1 : 0,
    });
    const rows = store.load();
    expect(rows.map((r) => r.id).sort()).toEqual([...ids!].sort());
    await queue.close();
    await store.close();
  });
});
