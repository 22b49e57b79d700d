// SqliteWorkflowStore query plans: the statements a run executes on every step build no
// temporary b-tree, and retention reads its partial index. Both regressions cost CPU on
// every run without failing any functional test, so they are checked here on the bytecode
// and the query plan SQLite itself reports.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteWorkflowStore } from '../../src/backends/sqlite/workflow-store.js';
import { sql } from '../../src/backends/sqlite/workflow-store-sql.js';

let store: SqliteWorkflowStore;
beforeAll(() => {
  store = SqliteWorkflowStore.open(':memory:');
});
afterAll(() => store.close());

/** Null for every parameter of `text` (named `@x` or positional `?`). */
function nulls(text: string): Record<string, null> | null[] {
  const names = [...text.matchAll(/@(\w+)/g)].map((m) => m[1] as string);
  if (names.length > 0) return Object.fromEntries(names.map((name) => [name, null]));
  return Array.from({ length: (text.match(/\?/g) ?? []).length }, () => null);
}

function explain(name: string, prefix: 'EXPLAIN' | 'EXPLAIN QUERY PLAN'): string[] {
  const text = sql(name);
  const rows = store.database.prepare(`${prefix} ${text}`).all(nulls(text)) as Array<{
    opcode?: string;
    detail?: string;
  }>;
  return rows.map((row) => row.opcode ?? row.detail ?? '');
}

describe('SqliteWorkflowStore statements', () => {
  it.each([
    'insertRun',
    'upsertStep',
    'saveStep',
    'saveStepPair',
    'updateRun',
    'claimRun',
    'renewLease',
  ])(
    '%s builds no temporary b-tree (an IN list in a partial index condition does, on every update)',
    (name) => {
      const opcodes = explain(name, 'EXPLAIN');
      expect(opcodes.length).toBeGreaterThan(0);
      expect(opcodes.filter((op) => op.includes('Ephemeral'))).toEqual([]);
    },
  );

  it.each(['expiredRuns', 'oldestFinished'])(
    '%s reads the retention index, never the whole table',
    (name) => {
      const plan = explain(name, 'EXPLAIN QUERY PLAN');
      const runReads = plan.filter((line) =>
        /\b(SCAN|SEARCH) (majra_workflow_runs|r)\b/.test(line),
      );
      expect(runReads.length).toBe(2);
      for (const line of runReads) expect(line).toContain('USING INDEX majra_workflow_runs_done');
    },
  );
});
