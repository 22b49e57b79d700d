// Workflow engine throughput. In memory: runs/s of a 3-step linear and a 100-step wide
// workflow, next to the same executors called directly (await in sequence / Promise.all),
// which is the floor any engine adds overhead to. On SQLite and PostgreSQL: durable
// steps/s of a 10-step linear workflow next to the raw committed single-row INSERT rate
// on the same database, in the same run, measured in alternating rounds so that both
// sides see the same fsync latency (target: >= 0.5x, a step costs at most two commits).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { connectPostgresWorkflowStore } from '../src/backends/postgres/workflow-store.js';
import { SqliteWorkflowStore } from '../src/backends/sqlite/workflow-store.js';
import { WorkflowEngine } from '../src/workflow/engine.js';
import { MemoryWorkflowStore } from '../src/workflow/memory-store.js';
import type { StepExecutor } from '../src/workflow/step-context.js';
import {
  measure,
  measureAlternating,
  type BenchOptions,
  type BenchReport,
  type BenchRow,
} from './lib.js';

const url = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const rawBody = JSON.stringify({ runId: '00000000-0000-0000-0000-000000000000', output: 1 });

const work: StepExecutor = ({ attempt }) => Promise.resolve(attempt);

function linear(id: string, n: number) {
  const steps = Array.from({ length: n }, (_, i) => ({
    id: `s${i}`,
    ...(i === 0 ? {} : { dependsOn: [`s${i - 1}`] }),
  }));
  return {
    definition: { id, steps },
    executors: Object.fromEntries(steps.map((s) => [s.id, work])),
  };
}

function wide(id: string, n: number) {
  const steps = Array.from({ length: n }, (_, i) => ({ id: `w${i}` }));
  return {
    definition: { id, steps },
    executors: Object.fromEntries(steps.map((s) => [s.id, work])),
  };
}

async function memoryRows(options: BenchOptions): Promise<BenchRow[]> {
  const store = new MemoryWorkflowStore({ maxRuns: 1000 });
  const engine = new WorkflowEngine({ store, maxParallelSteps: 100 });
  const three = linear('linear3', 3);
  const hundred = wide('wide100', 100);
  engine.register(three.definition, three.executors);
  engine.register(hundred.definition, hundred.executors);
  const ctx = { attempt: 1 } as Parameters<StepExecutor>[0];
  const results = await measure(
    {
      'majra linear3': async () => engine.wait(await engine.start('linear3')),
      'direct linear3': async () => {
        for (let i = 0; i < 3; i++) await work(ctx);
      },
      'majra wide100': async () => engine.wait(await engine.start('wide100')),
      'direct wide100': () => Promise.all(Array.from({ length: 100 }, () => work(ctx))),
    },
    options,
  );
  await engine.close();
  await store.close();
  const get = (name: string) => results.get(name) ?? { hz: 0, spread: 0 };
  return [
    {
      name: 'memory: 3-step linear workflow (start + wait)',
      unit: 'runs/s',
      majra: get('majra linear3').hz,
      spread: get('majra linear3').spread,
      peer: { name: 'same executors awaited directly', value: get('direct linear3').hz },
    },
    {
      name: 'memory: 100-step wide workflow (start + wait)',
      unit: 'runs/s',
      majra: get('majra wide100').hz,
      spread: get('majra wide100').spread,
      peer: { name: 'same executors via Promise.all', value: get('direct wide100').hz },
    },
  ];
}

async function sqliteRow(options: BenchOptions, synchronous: 'normal' | 'full'): Promise<BenchRow> {
  const dir = mkdtempSync(join(tmpdir(), 'majra-wf-bench-'));
  try {
    // Default retention (none): eviction cost is a separate concern from step throughput.
    const store = SqliteWorkflowStore.open(join(dir, 'bench.db'), { synchronous });
    const engine = new WorkflowEngine({ store });
    const ten = linear('linear10', 10);
    engine.register(ten.definition, ten.executors);
    // The raw baseline: the same connection and pragmas, one committed INSERT per call.
    const db = store.database;
    db.exec('CREATE TABLE IF NOT EXISTS bench_raw (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
    const insert = db.prepare('INSERT INTO bench_raw (body) VALUES (?)');
    const results = await measureAlternating(
      {
        'majra linear10': async () => engine.wait(await engine.start('linear10')),
        // Ten sequential commits per call, like the ten steps of a run, so checkpoint
        // stalls weigh the same on both sides.
        'raw insert x10': () => {
          for (let i = 0; i < 10; i++) insert.run(rawBody);
        },
      },
      options,
    );
    await engine.close();
    await store.close();
    const steps = results.get('majra linear10') ?? { hz: 0, spread: 0 };
    const raw10 = results.get('raw insert x10') ?? { hz: 0, spread: 0 };
    return {
      name: `SQLite: durable steps of a 10-step linear workflow (WAL, synchronous=${synchronous.toUpperCase()})`,
      unit: 'steps/s',
      majra: steps.hz * 10,
      spread: steps.spread,
      peer: {
        name: 'raw committed single-row INSERT, same file and pragmas',
        value: raw10.hz * 10,
        spread: raw10.spread,
      },
      targetRatio: 0.5,
      target: 'durable step throughput >= 0.5x the raw commit rate',
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function postgresRow(options: BenchOptions): Promise<BenchRow> {
  const schema = `bench_wf_${randomBytes(4).toString('hex')}`;
  const store = await connectPostgresWorkflowStore({ connectionString: url, schema });
  const pool = store.pool;
  try {
    const engine = new WorkflowEngine({ store });
    const ten = linear('linear10', 10);
    engine.register(ten.definition, ten.executors);
    // The raw baseline: the same pool, one autocommitted single-row INSERT per call.
    await pool.query(
      `CREATE TABLE ${schema}.bench_raw (id bigserial PRIMARY KEY, body text NOT NULL)`,
    );
    const insertSql = `INSERT INTO ${schema}.bench_raw (body) VALUES ($1)`;
    const results = await measureAlternating(
      {
        'majra linear10': async () => engine.wait(await engine.start('linear10')),
        'raw insert x10': async () => {
          for (let i = 0; i < 10; i++) await pool.query(insertSql, [rawBody]);
        },
      },
      { ...options, roundMs: 500 },
    );
    await engine.close();
    const steps = results.get('majra linear10') ?? { hz: 0, spread: 0 };
    const raw10 = results.get('raw insert x10') ?? { hz: 0, spread: 0 };
    return {
      name: 'PostgreSQL: durable steps of a 10-step linear workflow (synchronous_commit as configured)',
      unit: 'steps/s',
      majra: steps.hz * 10,
      spread: steps.spread,
      peer: {
        name: 'raw committed single-row INSERT (pg driver), same pool',
        value: raw10.hz * 10,
        spread: raw10.spread,
      },
      targetRatio: 0.5,
      target: 'durable step throughput >= 0.5x the raw commit rate',
    };
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await store.close();
  }
}

/** Runs the workflow benchmarks. */
export async function run(options: BenchOptions): Promise<BenchReport> {
  return {
    area: 'workflow',
    rows: [
      ...(await memoryRows(options)),
      await sqliteRow(options, 'normal'),
      await sqliteRow(options, 'full'),
      await postgresRow(options),
    ],
    notes: [
      "Durable stores group-commit step writes: a step of the linear workflow is one commit (its outcome plus the next step's start); the run's creation carries the first step's start and its final update the last step's outcome: 11 commits for 10 steps on SQLite, 11 statements (each one commit) on PostgreSQL.",
      "SQLite synchronous=NORMAL does not fsync commits, so the raw rate there measures CPU and system calls (a raw insert: one WAL page written with two pwrite calls, and the file locks every transaction takes) plus the checkpoints its WAL pages cause, not the cost of durable commits. Where the time goes, measured apart (2-core VM, 2026-11-29): bench/sqlite-floor/run.sh runs the store's own statements from C (the SQLite build better-sqlite3 ships, no engine, no JavaScript): 0.49-0.50x the raw commit, writing 2.09 WAL pages per step against 1.03 (the steps table is WITHOUT ROWID, an index b-tree that SQLite cannot split by appending a page, so 1 step commit in 13 rewrites 4-6 pages). The least a run of this contract could write (a run row with its id, listing and retention indexes, one fenced single-row append per step commit, one final update) measures 0.65x from C with 1.64 pages per step. bench/sqlite-floor/node.ts runs the same shapes through better-sqlite3: the store's statements 0.44-0.45x, the store's columns with the first and last records in the run row and an integer-keyed step log 0.54-0.55x, the least 0.60-0.63x, and the engine with the store 0.30-0.36x; per step, of 65-72 us of CPU, the SQL and driver take 48-50 and the engine with the store's JavaScript 15-23, against 21 for a raw commit (the engine alone, on the memory store, 8).",
      'CPU figures: process.cpuUsage over thousands of runs (wall time is noisy on this 2-core machine).',
    ],
  };
}
