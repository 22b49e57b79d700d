// The SQL of a durable 10-step linear workflow run through better-sqlite3 in Node, with no
// engine and none of the store's JavaScript, next to the raw committed INSERT, in
// alternating rounds on one connection (as bench/workflow.bench.ts does). floor.c gives the
// same shapes from C; this one adds the driver, which is what a Node store pays for.
//
// usage: node --import tsx bench/sqlite-floor/node.ts [normal|full] [runs per round] [rounds]
//          [comma-separated shapes, default all]
//   store    SqliteWorkflowStore's own statements (workflow-store.sql), grouped as the
//            store groups them: creation + first start, 9 fenced pairs, last outcome +
//            final update
//   layout3  the same columns, but the first and last records ride in the run row and
//            each step commit appends one row to an integer-keyed log, fenced by seq
//   layout3async  layout3, driven as leastasync drives the least SQL
//   layout3a the store's run table, every record (first and last too) appended to an
//            integer-keyed log, fenced by run id as today
//   least    floor.c's minimal+list+done: the least a run of this contract can write
//   leastasync  the least SQL, each step awaiting an async executor and serialising its
//            records first: the least any Node engine adds to it
//   engine   for reference, the real thing: WorkflowEngine + SqliteWorkflowStore on the
//            connection (what bench/workflow.bench.ts measures)
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from '../../src/backends/sqlite/workflow-store-sql.js';
import { SqliteWorkflowStore } from '../../src/backends/sqlite/workflow-store.js';
import { WorkflowEngine } from '../../src/workflow/engine.js';

type Db = Database.Database;
const OWNER = '0f0e0d0c-0b0a-4908-8706-050403020100';
const HASH = '5f3c2a9e1b7d4c60';
const DONE = "status = 'completed' OR status = 'failed' OR status = 'cancelled'";
const INDEXES = [
  'CREATE INDEX runs_created ON runs (created_at, id)',
  'CREATE INDEX runs_workflow ON runs (workflow_id, created_at, id)',
  `CREATE INDEX runs_done ON runs (completed_at, id) WHERE ${DONE}`,
];

let now = 1_700_000_000_000;
/** The nine record fields of the store's step statements. */
const record = (step: string, done: boolean): unknown[] => [
  step,
  done ? 'completed' : 'running',
  1,
  done ? '1' : 'null',
  null,
  now,
  done ? now : null,
  done ? 0 : null,
  null,
];

/** The store's insertRun parameters for a running run `id` (workflow-store.sql). */
const runParams = (id: string): unknown[] => [
  id,
  'linear10',
  HASH,
  'running',
  'null',
  now,
  now,
  now,
  OWNER,
  now + 30_000,
];

/** The store's updateRun parameters completing run `id` and releasing its lease. */
const finalPatch = (id: string): unknown[] => [
  1,
  'completed',
  1,
  '{"s9":1}',
  0,
  null,
  0,
  null,
  1,
  now,
  now,
  1,
  1,
  id,
  OWNER,
];

function storeShape(db: Db): () => void {
  db.exec(sql('tables'));
  db.exec(sql('indexes'));
  const insertRun = db.prepare(sql('insertRun'));
  const upsert = db.prepare(sql('upsertStep'));
  const pair = db.prepare(sql('saveStepPair'));
  const single = db.prepare(sql('saveStep'));
  const update = db.prepare(sql('updateRun'));
  const tx = db.transaction((fn: () => void) => fn());
  return () => {
    const id = randomUUID();
    now++;
    tx.immediate(() => {
      const info = insertRun.run(runParams(id));
      upsert.run(info.lastInsertRowid, ...record('s0', false), now);
    });
    for (let i = 0; i < 9; i++) {
      const params = [now, ...record(`s${i}`, true), ...record(`s${i + 1}`, false), id, OWNER];
      if (pair.run(params).changes !== 2) throw new Error('pair fenced out');
    }
    tx.immediate(() => {
      single.run([now, ...record('s9', true), id, OWNER]);
      const patch = finalPatch(id);
      if (update.run(patch).changes !== 1) throw new Error('update fenced out');
    });
  };
}

/** layout3; `driven`, run as `leastRun` drives the least SQL. */
function layout3Run(db: Db, driven: boolean): () => unknown {
  db.exec(`CREATE TABLE runs (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,
    workflow_id TEXT NOT NULL, definition_hash TEXT NOT NULL, status TEXT NOT NULL,
    input_json TEXT NOT NULL, output_json TEXT NOT NULL, error TEXT, created_at INTEGER NOT NULL,
    started_at INTEGER, completed_at INTEGER, updated_at INTEGER NOT NULL, owner TEXT,
    lease_expires_at INTEGER, first_records TEXT, last_records TEXT)`);
  db.exec(
    'CREATE TABLE log (k INTEGER PRIMARY KEY, written_at INTEGER NOT NULL, records TEXT NOT NULL)',
  );
  for (const index of INDEXES) db.exec(index);
  const insertRun = db.prepare(`INSERT INTO runs (id, workflow_id, definition_hash, status,
    input_json, output_json, created_at, started_at, updated_at, owner, lease_expires_at,
    first_records) VALUES (?, ?, ?, ?, ?, 'null', ?, ?, ?, ?, ?, ?)`);
  const append = db.prepare(
    'INSERT INTO log (k, written_at, records) SELECT ?, ?, ? FROM runs WHERE seq = ? AND owner = ?',
  );
  const finish = db.prepare(`UPDATE runs SET status = ?, output_json = ?, completed_at = ?,
    updated_at = ?, owner = NULL, lease_expires_at = NULL, last_records = ?
    WHERE seq = ? AND owner = ?`);
  const start = (): [string, number] => {
    const id = randomUUID();
    const first = JSON.stringify([record('s0', false)]);
    const info = insertRun.run(...runParams(id), first);
    return [id, Number(info.lastInsertRowid)];
  };
  const step = (seq: number, i: number): void => {
    const records = JSON.stringify([record(`s${i}`, true), record(`s${i + 1}`, false)]);
    if (append.run(seq * 2 ** 22 + i, now, records, seq, OWNER).changes !== 1) {
      throw new Error('append fenced out');
    }
  };
  const end = (seq: number): void => {
    const last = JSON.stringify([record('s9', true)]);
    if (finish.run('completed', '{"s9":1}', now, now, last, seq, OWNER).changes !== 1) {
      throw new Error('final update fenced out');
    }
  };
  const executor = (attempt: number): Promise<number> => Promise.resolve(attempt);
  if (driven) {
    return async () => {
      now = Date.now();
      const [, seq] = start();
      for (let i = 0; i < 9; i++) {
        await executor(1);
        now = Date.now();
        step(seq, i);
      }
      await executor(1);
      now = Date.now();
      end(seq);
    };
  }
  return () => {
    now++;
    const [, seq] = start();
    for (let i = 0; i < 9; i++) step(seq, i);
    end(seq);
  };
}

function layout3aShape(db: Db): () => void {
  db.exec(
    sql('tables').replace(
      /CREATE TABLE IF NOT EXISTS majra_workflow_steps[\s\S]*?WITHOUT ROWID;/,
      '',
    ),
  );
  db.exec(sql('indexes'));
  db.exec(
    'CREATE TABLE log (k INTEGER PRIMARY KEY, written_at INTEGER NOT NULL, records TEXT NOT NULL)',
  );
  const insertRun = db.prepare(sql('insertRun'));
  const first = db.prepare('INSERT INTO log (k, written_at, records) VALUES (?, ?, ?)');
  const append = db.prepare(
    'INSERT INTO log (k, written_at, records) SELECT seq * 4194304 + ?, ?, ? FROM majra_workflow_runs WHERE id = ? AND owner = ?',
  );
  const update = db.prepare(sql('updateRun'));
  const tx = db.transaction((fn: () => void) => fn());
  return () => {
    const id = randomUUID();
    now++;
    tx.immediate(() => {
      const info = insertRun.run(runParams(id));
      first.run(Number(info.lastInsertRowid) * 4194304, now, JSON.stringify([record('s0', false)]));
    });
    for (let i = 0; i < 9; i++) {
      const records = JSON.stringify([record(`s${i}`, true), record(`s${i + 1}`, false)]);
      if (append.run(i + 1, now, records, id, OWNER).changes !== 1) throw new Error('fenced out');
    }
    tx.immediate(() => {
      append.run(10, now, JSON.stringify([record('s9', true)]), id, OWNER);
      const patch = finalPatch(id);
      if (update.run(patch).changes !== 1) throw new Error('update fenced out');
    });
  };
}

/**
 * The least SQL; `driven`, run the least way a Node engine can: each step awaits its
 * (async) executor, reads the clock and serialises its records before its commit.
 */
function leastRun(db: Db, driven: boolean): () => void | Promise<void> {
  db.exec(`CREATE TABLE runs (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, workflow_id TEXT,
    owner TEXT, created_at INTEGER NOT NULL, completed_at INTEGER, status TEXT NOT NULL,
    first TEXT, last TEXT)`);
  db.exec('CREATE TABLE log (k INTEGER PRIMARY KEY, records TEXT NOT NULL)');
  for (const index of INDEXES) db.exec(index);
  const insertRun = db.prepare(`INSERT INTO runs (id, workflow_id, owner, created_at, status, first)
    VALUES (?, 'linear10', ?, ?, 'running', ?)`);
  const append = db.prepare(
    'INSERT INTO log (k, records) SELECT ?, ? FROM runs WHERE seq = ? AND owner = ?',
  );
  const finish = db.prepare(`UPDATE runs SET status = 'completed', last = ?, completed_at = ?,
    owner = NULL WHERE seq = ? AND owner = ?`);
  const executor = (attempt: number): Promise<number> => Promise.resolve(attempt);
  if (driven) {
    return async () => {
      now = Date.now();
      const first = JSON.stringify([record('s0', false)]);
      const seq = Number(insertRun.run(randomUUID(), OWNER, now, first).lastInsertRowid);
      for (let i = 0; i < 9; i++) {
        await executor(1);
        now = Date.now();
        const records = JSON.stringify([record(`s${i}`, true), record(`s${i + 1}`, false)]);
        if (append.run(seq * 1024 + i, records, seq, OWNER).changes !== 1) {
          throw new Error('fenced out');
        }
      }
      await executor(1);
      finish.run(JSON.stringify([record('s9', true)]), Date.now(), seq, OWNER);
    };
  }
  return () => {
    now++;
    const seq = Number(
      insertRun.run(randomUUID(), OWNER, now, '[["s0","running",1]]').lastInsertRowid,
    );
    for (let i = 0; i < 9; i++) {
      const records = `[["s${i}","completed",1,1],["s${i + 1}","running",1]]`;
      if (append.run(seq * 1024 + i, records, seq, OWNER).changes !== 1)
        throw new Error('fenced out');
    }
    finish.run('[["s9","completed",1,1]]', now, seq, OWNER);
  };
}

function engineShape(db: Db): () => Promise<unknown> {
  // The store sets its own pragmas on the connection: the mode of this run, for both sides.
  const synchronous = mode === 'full' ? 'full' : 'normal';
  const engine = new WorkflowEngine({ store: new SqliteWorkflowStore(db, { synchronous }) });
  const steps = Array.from({ length: 10 }, (_, i) => ({
    id: `s${i}`,
    ...(i === 0 ? {} : { dependsOn: [`s${i - 1}`] }),
  }));
  const work = ({ attempt }: { attempt: number }): Promise<number> => Promise.resolve(attempt);
  engine.register({ id: 'linear10', steps }, Object.fromEntries(steps.map((s) => [s.id, work])));
  return async () => engine.wait(await engine.start('linear10'));
}

const shapes: Record<string, (db: Db) => () => unknown> = {
  store: storeShape,
  layout3: (db) => layout3Run(db, false),
  layout3async: (db) => layout3Run(db, true),
  layout3a: layout3aShape,
  least: (db) => leastRun(db, false),
  leastasync: (db) => leastRun(db, true),
  engine: engineShape,
};
const [mode = 'normal', runsArg = '2000', roundsArg = '4', only] = process.argv.slice(2);
const runs = Number(runsArg);
const rounds = Number(roundsArg);
const body = JSON.stringify({ runId: '00000000-0000-0000-0000-000000000000', output: 1 });

for (const [name, shape] of Object.entries(shapes)) {
  if (only !== undefined && !only.split(',').includes(name)) continue;
  const dir = mkdtempSync(join(tmpdir(), 'majra-sqlite-floor-'));
  const db = new Database(join(dir, 'floor.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${mode === 'full' ? 'FULL' : 'NORMAL'}`);
    db.exec('CREATE TABLE bench_raw (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
    const insert = db.prepare('INSERT INTO bench_raw (body) VALUES (?)');
    const raw10 = (): void => {
      for (let i = 0; i < 10; i++) insert.run(body);
    };
    const run = shape(db);
    for (let i = 0; i < runs; i++) {
      await run();
      raw10(); // both tables to a steady size
    }
    const total = { wfWall: 0, wfCpu: 0, rawWall: 0, rawCpu: 0 };
    const time = async (fn: () => unknown): Promise<[number, number]> => {
      const cpu = process.cpuUsage();
      const start = performance.now();
      for (let i = 0; i < runs; i++) await fn();
      const used = process.cpuUsage(cpu);
      return [(performance.now() - start) * 1000, used.user + used.system];
    };
    for (let r = 0; r < rounds; r++) {
      const [wfWall, wfCpu] = await time(run);
      const [rawWall, rawCpu] = await time(raw10);
      total.wfWall += wfWall;
      total.wfCpu += wfCpu;
      total.rawWall += rawWall;
      total.rawCpu += rawCpu;
    }
    const steps = runs * rounds * 10;
    const us = (n: number): string => (n / steps).toFixed(1).padStart(5);
    console.log(
      `${name.padEnd(8)} ${mode}: per step ${us(total.wfWall)} us wall ${us(total.wfCpu)} us CPU` +
        ` | raw commit ${us(total.rawWall)} us wall ${us(total.rawCpu)} us CPU` +
        ` | ratio ${(total.rawWall / total.wfWall).toFixed(2)}x wall ${(total.rawCpu / total.wfCpu).toFixed(2)}x CPU`,
    );
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
