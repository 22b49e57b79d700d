// SqliteWorkflowStore specifics beyond the conformance suite: pragmas, reopening a file,
// the engine end to end on SQLite, corrupt rows and driver failures.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteWorkflowStore } from '../../src/backends/sqlite/workflow-store.js';
import { isMajraError } from '../../src/core/errors.js';
import { WorkflowEngine } from '../../src/workflow/engine.js';

const dir = mkdtempSync(join(tmpdir(), 'majra-wf-sqlite-'));
let n = 0;
const file = (): string => join(dir, `db-${n++}.db`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function codeOf(promise: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    if (isMajraError(error)) return error.code;
    throw error;
  }
  throw new Error('expected a rejection');
}

const newRun = (id: string) => ({
  id,
  workflowId: 'wf',
  definitionHash: 'h',
  status: 'running' as const,
  input: { x: 1 },
  startedAt: 1,
});

describe('SqliteWorkflowStore', () => {
  it('uses WAL for files and keeps runs across reopen', async () => {
    const path = file();
    const store = SqliteWorkflowStore.open(path);
    expect(store.database.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.database.pragma('synchronous', { simple: true })).toBe(1);
    await store.createRun(newRun('r1'), 'a', 10_000);
    await store.close();
    const again = SqliteWorkflowStore.open(path);
    expect((await again.getRun('r1'))?.input).toEqual({ x: 1 });
    await again.close();
  });

  it('replaces the retention index of older files on open', async () => {
    const path = file();
    const db = new Database(path);
    const first = new SqliteWorkflowStore(db);
    await first.close();
    // A file written by an earlier version carries the index on COALESCE(completed_at, updated_at).
    db.exec('DROP INDEX majra_workflow_runs_completed');
    db.exec(
      `CREATE INDEX majra_workflow_runs_finished ON majra_workflow_runs
         (COALESCE(completed_at, updated_at), id) WHERE status IN ('completed', 'failed', 'cancelled')`,
    );
    const store = new SqliteWorkflowStore(db, { maxRuns: 1 });
    const indexes = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?")
      .pluck()
      .all('majra_workflow_runs');
    expect(indexes).toContain('majra_workflow_runs_completed');
    expect(indexes).not.toContain('majra_workflow_runs_finished');
    await store.createRun(newRun('r1'), 'a', 10_000);
    await store.updateRun('r1', 'a', { status: 'completed', completedAt: 5 });
    await store.createRun(newRun('r2'), 'a', 10_000);
    expect(await store.getRun('r1')).toBeUndefined();
    await store.close();
    db.close();
  });

  it('runs a workflow end to end and persists every step', async () => {
    const store = SqliteWorkflowStore.open(file());
    const engine = new WorkflowEngine({ store });
    engine.register(
      { id: 'wf', steps: [{ id: 'a' }, { id: 'b', dependsOn: ['a'] }] },
      { a: () => ({ n: 1 }), b: ({ results }) => results['a']?.output },
    );
    const runId = await engine.start('wf', 'in');
    expect((await engine.wait(runId)).output).toEqual({ a: { n: 1 }, b: { n: 1 } });
    expect((await store.getSteps(runId)).map((s) => s.status)).toEqual(['completed', 'completed']);
    await engine.close();
    await store.close();
  });

  it('shares a caller-owned connection without closing it', async () => {
    const db = new Database(file());
    const store = new SqliteWorkflowStore(db);
    await store.createRun(newRun('r1'), 'a', 10_000);
    await store.close();
    expect(db.open).toBe(true);
    expect(db.prepare('SELECT COUNT(*) AS n FROM majra_workflow_runs').get()).toEqual({ n: 1 });
    db.close();
  });

  it('reports corrupt rows as ERR_WORKFLOW_STORAGE instead of returning garbage', async () => {
    const store = SqliteWorkflowStore.open(file());
    await store.createRun(newRun('bad-status'), 'a', 10_000);
    await store.createRun(newRun('bad-json'), 'a', 10_000);
    store.database
      .prepare(`UPDATE majra_workflow_runs SET status = 'weird' WHERE id = 'bad-status'`)
      .run();
    store.database
      .prepare(`UPDATE majra_workflow_runs SET input_json = '{' WHERE id = 'bad-json'`)
      .run();
    expect(await codeOf(store.getRun('bad-status'))).toBe('ERR_WORKFLOW_STORAGE');
    expect(await codeOf(store.getRun('bad-json'))).toBe('ERR_WORKFLOW_STORAGE');
    await store.close();
  });

  it('wraps driver failures as ERR_WORKFLOW_STORAGE with the cause', async () => {
    const db = new Database(file());
    const store = new SqliteWorkflowStore(db);
    db.close();
    let caught: unknown;
    try {
      await store.getRun('r1');
    } catch (error) {
      caught = error;
    }
    expect(isMajraError(caught, 'ERR_WORKFLOW_STORAGE')).toBe(true);
    expect((caught as Error).cause).toBeInstanceOf(Error);
    await store.close();
  });

  it('fails a run cleanly when the store breaks mid-run', async () => {
    const db = new Database(file());
    const store = new SqliteWorkflowStore(db);
    const engine = new WorkflowEngine({ store });
    engine.register(
      { id: 'wf', steps: [{ id: 'a' }, { id: 'b', dependsOn: ['a'] }] },
      {
        a: () => {
          db.close();
          return 1;
        },
        b: () => 2,
      },
    );
    const runId = await engine.start('wf');
    expect(await codeOf(engine.wait(runId))).toBe('ERR_WORKFLOW_STORAGE');
    await engine.close();
    await store.close();
  });

  it('fails the run, never completes it, when its last step write fails', async () => {
    const store = SqliteWorkflowStore.open(file());
    store.database.exec(`CREATE TRIGGER refuse BEFORE UPDATE ON majra_workflow_steps
      WHEN NEW.step_id = 'b' AND NEW.status = 'completed'
      BEGIN SELECT RAISE(ABORT, 'refused'); END`);
    const engine = new WorkflowEngine({ store });
    engine.register(
      { id: 'wf', steps: [{ id: 'a' }, { id: 'b', dependsOn: ['a'] }] },
      { a: () => 1, b: () => 2 },
    );
    const runId = await engine.start('wf');
    const result = await engine.wait(runId);
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/refused/);
    expect(await store.getRun(runId)).toMatchObject({ status: 'failed', owner: null });
    // The final step write and the speculative 'completed' update rolled back together.
    expect((await store.getSteps(runId)).map((r) => [r.stepId, r.status])).toEqual([
      ['a', 'completed'],
      ['b', 'running'],
    ]);
    await engine.close();
    await store.close();
  });

  it('runs a 10-step linear workflow in 11 commits', async () => {
    const path = file();
    const store = SqliteWorkflowStore.open(path);
    const engine = new WorkflowEngine({ store });
    const steps = Array.from({ length: 10 }, (_, i) => ({
      id: `s${i}`,
      ...(i === 0 ? {} : { dependsOn: [`s${i - 1}`] }),
    }));
    engine.register({ id: 'linear', steps }, Object.fromEntries(steps.map((s) => [s.id, () => 1])));
    // An empty WAL, then every commit of the run appends frames to it; the last frame of
    // each commit records the database size (a non-zero word at offset 4 of its header).
    store.database.pragma('wal_checkpoint(TRUNCATE)');
    const runId = await engine.start('linear');
    expect((await engine.wait(runId)).status).toBe('completed');
    const wal = readFileSync(`${path}-wal`);
    const frame = 24 + (store.database.pragma('page_size', { simple: true }) as number);
    let commits = 0;
    for (let at = 32; at + frame <= wal.length; at += frame) {
      if (wal.readUInt32BE(at + 4) !== 0) commits++;
    }
    expect(commits).toBe(11);
    await engine.close();
    await store.close();
  });

  it('group-commits step writes of one tick in order, each with its own fence result', async () => {
    const store = SqliteWorkflowStore.open(file());
    await store.createRun(newRun('r1'), 'a', 10_000);
    const record = (stepId: string, attempt: number) => ({
      runId: 'r1',
      stepId,
      status: 'running' as const,
      attempt,
      output: null,
      error: null,
      startedAt: 1,
      completedAt: null,
      durationMs: null,
      fallbackStepId: null,
    });
    const writes = await Promise.all([
      store.saveStep('a', record('s1', 1)),
      store.saveStep('intruder', record('s2', 1)),
      store.saveStep('a', record('s1', 2)),
      store.saveStep('a', record('s3', 1)),
    ]);
    expect(writes).toEqual([true, false, true, true]);
    expect((await store.getSteps('r1')).map((r) => [r.stepId, r.attempt])).toEqual([
      ['s1', 2],
      ['s3', 1],
    ]);
    // A queued write is committed by close().
    const last = store.saveStep('a', record('s4', 1));
    await store.close();
    expect(await last).toBe(true);
  });

  it('validates its options and arguments', async () => {
    expect(await codeOf(() => SqliteWorkflowStore.open(''))).toBe('ERR_INVALID_ARGUMENT');
    expect(
      await codeOf(() => SqliteWorkflowStore.open(file(), { synchronous: 'off' as never })),
    ).toBe('ERR_INVALID_ARGUMENT');
    expect(await codeOf(() => SqliteWorkflowStore.open(file(), { busyTimeoutMs: -1 }))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(await codeOf(() => SqliteWorkflowStore.open(file(), { maxRuns: 1.5 }))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(await codeOf(() => new SqliteWorkflowStore({} as never))).toBe('ERR_INVALID_ARGUMENT');
    expect(await codeOf(() => SqliteWorkflowStore.open(join(dir, 'missing-dir', 'x.db')))).toBe(
      'ERR_WORKFLOW_STORAGE',
    );
  });
});
