// PostgresWorkflowStore specifics beyond the conformance suite: step writes of one turn
// share one statement (group commit), committed in call order, each with its own fence;
// a run's creation carries its first steps and its final update its last step writes.
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { connectPostgresWorkflowStore } from '../../src/backends/postgres/index.js';
import { WorkflowEngine } from '../../src/workflow/engine.js';
import type { StepRecord } from '../../src/workflow/types.js';
import { databaseUrl, uniqueName } from '../support/services.js';

const schema = uniqueName('majra_wfgroup');
const admin = new pg.Pool({ connectionString: databaseUrl(), max: 1 });
afterAll(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
});

const newRun = (id: string) => ({
  id,
  workflowId: 'wf',
  definitionHash: 'h',
  status: 'running' as const,
  input: null,
  startedAt: 1,
});

const record = (runId: string, stepId: string, attempt: number): StepRecord => ({
  runId,
  stepId,
  status: 'running',
  attempt,
  output: { attempt },
  error: null,
  startedAt: 1,
  completedAt: null,
  durationMs: null,
  fallbackStepId: null,
});

/** Counts the statements `store` sends from now on (every pool.query call). */
function countStatements(store: { readonly pool: pg.Pool }): { statements: number } {
  const counter = { statements: 0 };
  const query = store.pool.query.bind(store.pool);
  store.pool.query = ((...args: Parameters<typeof query>) => {
    counter.statements++;
    return query(...args);
  }) as typeof store.pool.query;
  return counter;
}

describe('PostgresWorkflowStore group commit', () => {
  it('commits the writes of one turn in one statement, each with its own fence result', async () => {
    const store = await connectPostgresWorkflowStore({
      connectionString: databaseUrl(),
      schema,
      maxPoolSize: 2,
    });
    await store.createRun(newRun('r1'), 'a', 10_000);
    await store.createRun(newRun('r2'), 'b', 10_000);
    const counter = countStatements(store);
    const writes = await Promise.all([
      store.saveStep('a', record('r1', 's1', 1)),
      store.saveStep('intruder', record('r1', 's2', 1)),
      store.saveStep('a', record('r1', 's1', 2)),
      store.saveStep('b', record('r2', 's1', 1)),
      store.saveStep('a', record('r1', 's3', 1)),
      store.saveStep('a', record('missing', 's1', 1)),
    ]);
    expect(counter.statements).toBe(1);
    expect(writes).toEqual([true, false, true, true, true, false]);
    expect((await store.getSteps('r1')).map((r) => [r.stepId, r.attempt, r.output])).toEqual([
      ['s1', 2, { attempt: 2 }],
      ['s3', 1, { attempt: 1 }],
    ]);
    expect((await store.getSteps('r2')).map((r) => r.stepId)).toEqual(['s1']);
    // A batch of one (run, owner) pair takes the leaner statement; the last write of a step wins.
    counter.statements = 0;
    const pair = await Promise.all([
      store.saveStep('a', record('r1', 's6', 1)),
      store.saveStep('a', record('r1', 's6', 2)),
      store.saveStep('a', record('r1', 's7', 1)),
    ]);
    expect(counter.statements).toBe(1);
    expect(pair).toEqual([true, true, true]);
    const six = (await store.getSteps('r1')).find((r) => r.stepId === 's6');
    expect(six?.attempt).toBe(2);
    // Updates of several runs share a batch; a write after its run's update waits for the
    // next one, where the terminal update has released the lease.
    await store.createRun(newRun('u1'), 'a', 10_000);
    await store.createRun(newRun('u2'), 'b', 10_000);
    counter.statements = 0;
    const mixed = await Promise.all([
      store.saveStep('a', record('u1', 's1', 1)),
      store.updateRun('u1', 'a', { status: 'completed', completedAt: 5 }),
      store.saveStep('b', record('u2', 's1', 1)),
      store.updateRun('u2', 'b', { status: 'failed', error: 'x' }),
      store.saveStep('a', record('u1', 'late', 1)),
    ]);
    expect(mixed).toEqual([true, true, true, true, false]);
    expect(counter.statements).toBe(2);
    expect(await store.getRun('u1')).toMatchObject({ status: 'completed', owner: null });
    expect(await store.getRun('u2')).toMatchObject({ status: 'failed', error: 'x', owner: null });
    expect((await store.getSteps('u1')).map((r) => r.stepId)).toEqual(['s1']);
    // A write queued before another operation is committed before it runs.
    const queued = store.saveStep('a', record('r1', 's4', 1));
    expect((await store.getSteps('r1')).map((r) => r.stepId)).toContain('s4');
    expect(await queued).toBe(true);
    // A queued write is committed by close().
    const last = store.saveStep('a', record('r1', 's5', 1));
    await store.close();
    expect(await last).toBe(true);
    const { rows } = await admin.query(
      `SELECT step_id FROM "${schema}".majra_workflow_steps WHERE run_id = 'r1' AND step_id = 's5'`,
    );
    expect(rows).toHaveLength(1);
  });
});

describe('PostgresWorkflowStore grouped run writes', () => {
  const linear = (n: number) => {
    const steps = Array.from({ length: n }, (_, i) => ({
      id: `s${i}`,
      ...(i === 0 ? {} : { dependsOn: [`s${i - 1}`] }),
    }));
    return { steps, executors: Object.fromEntries(steps.map((s) => [s.id, () => s.id])) };
  };

  it('runs a 10-step linear workflow in 11 statements, each one commit', async () => {
    const store = await connectPostgresWorkflowStore({
      connectionString: databaseUrl(),
      schema,
    });
    const engine = new WorkflowEngine({ store });
    const { steps, executors } = linear(10);
    engine.register({ id: 'linear', steps }, executors);
    const counter = countStatements(store);
    const runId = await engine.start('linear');
    expect((await engine.wait(runId)).status).toBe('completed');
    // The create with s0's start, nine (outcome + next start) batches, s9's outcome with
    // the final update.
    expect(counter.statements).toBe(11);
    expect((await store.getSteps(runId)).map((r) => [r.stepId, r.status, r.attempt])).toEqual(
      steps.map((s) => [s.id, 'completed', 1]),
    );
    await engine.close();
    await store.close();
  });

  it('fails the run, never completes it, when its last step write fails', async () => {
    const failing = uniqueName('majra_wflast');
    const store = await connectPostgresWorkflowStore({
      connectionString: databaseUrl(),
      schema: failing,
    });
    try {
      await admin.query(`
        CREATE FUNCTION "${failing}".refuse() RETURNS trigger LANGUAGE plpgsql AS
          $$ BEGIN RAISE EXCEPTION 'refused'; END $$;
        CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON "${failing}".majra_workflow_steps
          FOR EACH ROW WHEN (NEW.step_id = 's1' AND NEW.status = 'completed')
          EXECUTE FUNCTION "${failing}".refuse();`);
      const engine = new WorkflowEngine({ store });
      const { steps, executors } = linear(2);
      engine.register({ id: 'linear', steps }, executors);
      const runId = await engine.start('linear');
      const result = await engine.wait(runId);
      expect(result.status).toBe('failed');
      expect(result.error).toMatch(/refused/);
      expect(await store.getRun(runId)).toMatchObject({ status: 'failed', owner: null });
      // The final step write and the speculative 'completed' update rolled back together.
      expect((await store.getSteps(runId)).map((r) => [r.stepId, r.status])).toEqual([
        ['s0', 'completed'],
        ['s1', 'running'],
      ]);
      await engine.close();
    } finally {
      await store.close();
      await admin.query(`DROP SCHEMA IF EXISTS "${failing}" CASCADE`);
    }
  });
});
