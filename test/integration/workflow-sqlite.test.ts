// SqliteWorkflowStore specifics beyond the conformance suite: pragmas, reopening a file,
// the engine end to end on SQLite, corrupt rows and driver failures.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteWorkflowStore } from '../../src/backends/sqlite/workflow-store.js';
import { isMajraError } from '../../src/core/errors.js';
import { validateDefinition } from '../../src/workflow/dag.js';
import { WorkflowEngine } from '../../src/workflow/engine.js';
import { ManualClock } from '../../src/testing/manual-clock.js';

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
    // Files written by earlier versions carry the index on COALESCE(completed_at, updated_at)
    // or the one whose condition is an IN list (dear to maintain: see workflow-store.sql).
    db.exec('DROP INDEX majra_workflow_runs_done');
    db.exec(
      `CREATE INDEX majra_workflow_runs_finished ON majra_workflow_runs
         (COALESCE(completed_at, updated_at), id) WHERE status IN ('completed', 'failed', 'cancelled')`,
    );
    db.exec(
      `CREATE INDEX majra_workflow_runs_completed ON majra_workflow_runs
         (completed_at, id) WHERE status IN ('completed', 'failed', 'cancelled')`,
    );
    const store = new SqliteWorkflowStore(db, { maxRuns: 1 });
    const indexes = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?")
      .pluck()
      .all('majra_workflow_runs');
    expect(indexes).toContain('majra_workflow_runs_done');
    expect(indexes).not.toContain('majra_workflow_runs_finished');
    expect(indexes).not.toContain('majra_workflow_runs_completed');
    await store.createRun(newRun('r1'), 'a', 10_000);
    await store.updateRun('r1', 'a', { status: 'completed', completedAt: 5 });
    await store.createRun(newRun('r2'), 'a', 10_000);
    expect(await store.getRun('r1')).toBeUndefined();
    await store.close();
    db.close();
  });

  it('opens a current file read-only without writing, and refuses an older one clearly', async () => {
    const path = file();
    const writer = new SqliteWorkflowStore(new Database(path));
    await writer.close();
    const view = new SqliteWorkflowStore(new Database(path, { readonly: true }));
    expect(await view.listRuns()).toEqual([]);
    await view.close();
    const old = file();
    const db = new Database(old);
    db.exec(`CREATE TABLE majra_workflow_steps (run_id TEXT NOT NULL, step_id TEXT NOT NULL,
      PRIMARY KEY (run_id, step_id)) WITHOUT ROWID`);
    db.close();
    const readOnly = new Database(old, { readonly: true });
    let failure: unknown;
    try {
      new SqliteWorkflowStore(readOnly);
    } catch (error) {
      failure = error;
    }
    expect(isMajraError(failure) && failure.code).toBe('ERR_WORKFLOW_STORAGE');
    expect(String(failure)).toMatch(/older workflow store layout and is open read-only/);
    const columns = readOnly
      .prepare("SELECT name FROM pragma_table_info('majra_workflow_steps')")
      .pluck()
      .all();
    expect(columns).toEqual(['run_id', 'step_id']); // untouched
    readOnly.close();
  });

  it('migrates a file of layout 1 (steps keyed by run id text) and resumes its runs', async () => {
    const path = file();
    const db = new Database(path);
    // The layout every file had before migration 0002, with two runs and an orphan record.
    db.exec(`
      CREATE TABLE majra_workflow_runs (
        id TEXT NOT NULL PRIMARY KEY, workflow_id TEXT NOT NULL, definition_hash TEXT NOT NULL,
        status TEXT NOT NULL, input_json TEXT NOT NULL, output_json TEXT NOT NULL, error TEXT,
        created_at INTEGER NOT NULL, started_at INTEGER, completed_at INTEGER,
        updated_at INTEGER NOT NULL, owner TEXT, lease_expires_at INTEGER);
      CREATE INDEX majra_workflow_runs_created ON majra_workflow_runs (created_at, id);
      CREATE INDEX majra_workflow_runs_workflow ON majra_workflow_runs (workflow_id, created_at, id);
      CREATE INDEX majra_workflow_runs_completed ON majra_workflow_runs (completed_at, id)
        WHERE status IN ('completed', 'failed', 'cancelled');
      CREATE TABLE majra_workflow_steps (
        run_id TEXT NOT NULL, step_id TEXT NOT NULL, status TEXT NOT NULL,
        attempt INTEGER NOT NULL, output_json TEXT NOT NULL, error TEXT, started_at INTEGER,
        completed_at INTEGER, duration_ms INTEGER, fallback_step_id TEXT,
        PRIMARY KEY (run_id, step_id)) WITHOUT ROWID;
      INSERT INTO majra_workflow_runs VALUES
        ('late', 'wf', 'h', 'completed', '1', '{"a":2}', NULL, 20, 20, 25, 25, NULL, NULL),
        ('early', 'wf', 'h', 'running', '{"x":1}', 'null', NULL, 10, 10, NULL, 12, 'dead', 11);
      INSERT INTO majra_workflow_steps VALUES
        ('early', 'a', 'completed', 1, '{"n":1}', NULL, 10, 11, 1, NULL),
        ('early', 'b', 'running', 1, 'null', NULL, 11, NULL, NULL, NULL),
        ('late', 'a', 'completed', 2, '2', 'first failed', 20, 25, 5, NULL),
        ('gone', 'a', 'completed', 1, '3', NULL, 1, 2, 1, NULL);`);
    const store = new SqliteWorkflowStore(db);
    const columns = db
      .prepare("SELECT name FROM pragma_table_info('majra_workflow_steps')")
      .pluck()
      .all();
    expect(columns).toContain('run_seq');
    expect(columns).not.toContain('run_id');
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .pluck()
      .all();
    expect(tables).toEqual(['majra_workflow_runs', 'majra_workflow_steps']);
    const indexes = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
      .pluck()
      .all();
    expect(indexes).toEqual(
      expect.arrayContaining([
        'majra_workflow_runs_created',
        'majra_workflow_runs_workflow',
        'majra_workflow_runs_done',
      ]),
    );
    // Runs keep every field; seq follows creation order.
    expect((await store.listRuns()).map((r) => r.id)).toEqual(['early', 'late']);
    expect(db.prepare('SELECT id FROM majra_workflow_runs ORDER BY seq').pluck().all()).toEqual([
      'early',
      'late',
    ]);
    expect(await store.getRun('late')).toMatchObject({
      status: 'completed',
      output: { a: 2 },
      createdAt: 20,
      completedAt: 25,
    });
    expect(await store.getSteps('late')).toEqual([
      {
        runId: 'late',
        stepId: 'a',
        status: 'completed',
        attempt: 2,
        output: 2,
        error: 'first failed',
        startedAt: 20,
        completedAt: 25,
        durationMs: 5,
        fallbackStepId: null,
      },
    ]);
    expect(db.prepare('SELECT COUNT(*) FROM majra_workflow_steps').pluck().get()).toBe(3);
    // The interrupted run resumes from its migrated records: a stays done, b runs again.
    const engine = new WorkflowEngine({ store });
    const runs: string[] = [];
    engine.register(
      { id: 'wf', steps: [{ id: 'a' }, { id: 'b', dependsOn: ['a'] }] },
      {
        a: () => runs.push('a'),
        b: ({ attempt }) => {
          runs.push(`b@${attempt}`);
          return attempt;
        },
      },
    );
    // 'h' is not this definition's hash: the file's run was written by a test, not an engine.
    db.prepare('UPDATE majra_workflow_runs SET definition_hash = ?').run(
      validateDefinition({ id: 'wf', steps: [{ id: 'a' }, { id: 'b', dependsOn: ['a'] }] }).hash,
    );
    expect(await engine.resume('early')).toBe(true);
    const result = await engine.wait('early');
    expect(result.output).toEqual({ a: { n: 1 }, b: 2 });
    expect(runs).toEqual(['b@2']);
    await engine.close();
    await store.close();
    // Opening again finds layout 2 and changes nothing.
    const again = new SqliteWorkflowStore(db);
    expect((await again.getSteps('early')).map((r) => [r.stepId, r.status])).toEqual([
      ['a', 'completed'],
      ['b', 'completed'],
    ]);
    await again.close();
    db.close();
  });

  it('adds written_at to a layout-2 file (migration 0003) and keeps its run times', async () => {
    const path = file();
    const db = new Database(path);
    const first = new SqliteWorkflowStore(db, { clock: new ManualClock(100) });
    await first.createRun(newRun('r1'), 'a', 10_000);
    await first.close();
    // A layout-2 file written before migration 0003: no written_at column.
    db.exec('ALTER TABLE majra_workflow_steps DROP COLUMN written_at');
    db.exec(`INSERT INTO majra_workflow_steps VALUES
      (1, 's', 'completed', 1, '1', NULL, 100, 150, 50, NULL)`);
    db.exec('UPDATE majra_workflow_runs SET updated_at = 150');
    const store = new SqliteWorkflowStore(db, { clock: new ManualClock(200) });
    const columns = db
      .prepare("SELECT name FROM pragma_table_info('majra_workflow_steps')")
      .pluck()
      .all();
    expect(columns).toContain('written_at');
    expect((await store.getRun('r1'))?.updatedAt).toBe(150);
    expect(await store.saveStep('a', { ...(await store.getSteps('r1'))[0]!, stepId: 't' })).toBe(
      true,
    );
    expect((await store.getRun('r1'))?.updatedAt).toBe(200);
    await store.close();
    // Opening again changes nothing.
    const again = new SqliteWorkflowStore(db);
    expect((await again.getSteps('r1')).map((r) => r.stepId)).toEqual(['s', 't']);
    await again.close();
    db.close();
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
