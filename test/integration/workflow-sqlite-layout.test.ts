// SqliteWorkflowStore on files written by earlier versions: the layout migrations (0002,
// steps keyed by run seq; 0003, written_at), the retention index replaced on open, and
// read-only opening that never writes.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteWorkflowStore } from '../../src/backends/sqlite/workflow-store.js';
import { isMajraError } from '../../src/core/errors.js';
import { validateDefinition } from '../../src/workflow/dag.js';
import { WorkflowEngine } from '../../src/workflow/engine.js';
import { ManualClock } from '../../src/testing/manual-clock.js';
import { newRun, useDatabaseFiles } from '../support/workflow-sqlite.js';

const { file } = useDatabaseFiles();

describe('SqliteWorkflowStore', () => {
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
});
