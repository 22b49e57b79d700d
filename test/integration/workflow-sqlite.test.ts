// SqliteWorkflowStore specifics beyond the conformance suite: pragmas, reopening a file,
// the engine end to end on SQLite, corrupt rows and driver failures. Files of older
// layouts (migrations, read-only opening) are in workflow-sqlite-layout.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteWorkflowStore } from '../../src/backends/sqlite/workflow-store.js';
import { isMajraError } from '../../src/core/errors.js';
import { WorkflowEngine } from '../../src/workflow/engine.js';
import { codeOf } from '../support/workflow-engine.js';
import { newRun, useDatabaseFiles } from '../support/workflow-sqlite.js';

const { dir, file } = useDatabaseFiles();

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

  it('commits a batch in call order, a record written twice keeping its last version', async () => {
    const store = SqliteWorkflowStore.open(file());
    await store.createRun(newRun('r1'), 'a', 10_000);
    await store.createRun(newRun('r2'), 'b', 10_000);
    const rec = (runId: string, stepId: string, status: 'running' | 'completed') => ({
      runId,
      stepId,
      status,
      attempt: 1,
      output: status === 'completed' ? 1 : null,
      error: null,
      startedAt: 1,
      completedAt: status === 'completed' ? 2 : null,
      durationMs: status === 'completed' ? 1 : null,
      fallbackStepId: null,
    });
    const results = await Promise.all([
      store.saveStep('a', rec('r1', 's', 'running')),
      store.saveStep('a', rec('r1', 's', 'completed')),
      store.saveStep('a', rec('r1', 't', 'running')),
      store.saveStep('a', rec('r2', 'x', 'running')),
      store.saveStep('a', rec('r2', 'y', 'running')),
      store.saveStep('b', rec('r2', 'z', 'running')),
    ]);
    expect(results).toEqual([true, true, true, false, false, true]);
    expect((await store.getSteps('r1')).map((r) => [r.stepId, r.status])).toEqual([
      ['s', 'completed'],
      ['t', 'running'],
    ]);
    expect((await store.getSteps('r2')).map((r) => r.stepId)).toEqual(['z']);
    await store.close();
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

  it('keeps a completion whose final update was issued when a cancel arrives', async () => {
    const ref: { engine?: WorkflowEngine } = {};
    class CancelOnFinish extends SqliteWorkflowStore {
      override updateRun(...args: Parameters<SqliteWorkflowStore['updateRun']>) {
        const [runId, , patch] = args;
        if (patch.status === 'completed') void ref.engine?.cancel(runId, 'too late');
        return super.updateRun(...args);
      }
    }
    const store = new CancelOnFinish(new Database(file()), {}, true);
    const engine = new WorkflowEngine({ store });
    ref.engine = engine;
    engine.register({ id: 'wf', steps: [{ id: 'a' }] }, { a: () => 1 });
    const runId = await engine.start('wf');
    expect((await engine.wait(runId)).status).toBe('completed');
    expect(await store.getRun(runId)).toMatchObject({ status: 'completed', owner: null });
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
