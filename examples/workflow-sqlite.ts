// A durable workflow on SQLite: one engine starts a run and stops mid-run (a deploy, a
// crash); a second engine on the same file resumes it. Completed steps never run again.
// Run: npm run build && node --import tsx examples/workflow-sqlite.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteWorkflowStore } from 'majra/sqlite';
import { WorkflowEngine, type WorkflowDefinition } from 'majra/workflow';

const dir = mkdtempSync(join(tmpdir(), 'majra-example-'));
const file = join(dir, 'workflows.db');
const calls: string[] = [];

// Definitions live in code: every process that may resume a run registers the same one.
const definition: WorkflowDefinition = {
  id: 'report',
  steps: [{ id: 'extract' }, { id: 'render', dependsOn: ['extract'] }],
};

function makeEngine(store: SqliteWorkflowStore, renderNeverFinishes: boolean): WorkflowEngine {
  const engine = new WorkflowEngine({ store, leaseMs: 5_000 });
  engine.register(definition, {
    extract: ({ isResume }) => {
      calls.push(`extract${isResume ? ' (resumed)' : ''}`);
      return { rows: 3 };
    },
    render: ({ results, attempt, signal }) => {
      calls.push(`render attempt ${attempt}`);
      if (renderNeverFinishes) {
        // Simulates a process that is stopped while this step runs: it only ends when
        // the engine aborts it on close().
        return new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => reject(new Error('stopped')), { once: true });
        });
      }
      return { pages: (results['extract']?.output as { rows: number }).rows * 2 };
    },
  });
  return engine;
}

// Process 1: start the run, let `extract` complete, then stop while `render` runs.
const store1 = SqliteWorkflowStore.open(file);
const engine1 = makeEngine(store1, true);
const runId = await engine1.start('report', { month: '2026-11' });
for await (const event of engine1.events({ signal: AbortSignal.timeout(10_000) })) {
  if (event.type === 'step' && event.stepId === 'render' && event.status === 'running') break;
}
await engine1.close(); // aborts running steps and releases the lease: the run is resumable
await store1.close();
console.log(`engine 1 stopped mid-run ${runId.slice(0, 8)}`);

// Process 2: a fresh engine on the same file picks up what was left behind.
const store2 = SqliteWorkflowStore.open(file);
const engine2 = makeEngine(store2, false);
const { resumed } = await engine2.resumeInterrupted();
console.log(`engine 2 resumed ${resumed.length} run(s)`);
const result = await engine2.wait(runId);
console.log(`run ${result.status}: ${JSON.stringify(result.output)}`);
console.log(`step calls: ${calls.join(', ')}`); // extract ran once
await engine2.close();
await store2.close();
rmSync(dir, { recursive: true, force: true });
console.log('workflow-sqlite example done');
