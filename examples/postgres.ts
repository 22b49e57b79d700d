// Durability with PostgreSQL: a job queue shared by any number of worker processes
// (SKIP LOCKED claims, leases, retries with backoff, dead letters, LISTEN/NOTIFY wake-ups)
// and workflow runs that survive a process stopping mid-run.
// Needs a PostgreSQL server: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres).
// Tables go to schema PG_SCHEMA (default 'majra_example'), created and migrated on connect.
// Run: npm run build && DATABASE_URL=postgres://... node --import tsx examples/postgres.ts
import { deferred } from 'majra';
import { connectPostgresJobQueue, connectPostgresWorkflowStore } from 'majra/postgres';
import { WorkflowEngine, type WorkflowDefinition } from 'majra/workflow';

const connectionString =
  process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const schema = process.env['PG_SCHEMA'] ?? 'majra_example';

// --- durable job queue -------------------------------------------------------------------
const jobs = await connectPostgresJobQueue({
  connectionString, // majra owns this pool and ends it on close(); or pass your own `pool`
  schema,
  maxAttempts: 3,
  backoff: { type: 'fixed', delayMs: 50 }, // retry delay after a failed attempt
  onError: (error) => console.error('majra/postgres', error),
});

// In real code, pass `executor: client` to enqueue inside your own transaction: the job
// then commits (and wakes workers) together with your rows, or not at all.
const { id: firstId } = await jobs.enqueue('receipts', { orderId: 1 });
const { id: flakyId } = await jobs.enqueue('receipts', { orderId: 2 }, { priority: 5 });

const pending = new Set([firstId, flakyId]); // jobs left by an earlier run are processed too
const allDone = deferred<undefined>(); // a promise with its resolve function
const worker = jobs.work<{ orderId: number }>(
  'receipts',
  async (job) => {
    // Order 2's mail server fails once; the job is retried after the backoff.
    if (job.payload.orderId === 2 && job.attempt === 1) throw new Error('SMTP 451, try later');
    console.log(`sent receipt for order ${job.payload.orderId} (attempt ${job.attempt})`);
    pending.delete(job.id);
    if (pending.size === 0) allDone.resolve(undefined);
    return { sent: true }; // stored as the job's result
  },
  { concurrency: 4 },
);
await allDone.promise;
await worker.close(); // stops claiming and waits for running handlers
const flaky = await jobs.get(flakyId);
console.log(`order 2's job: ${flaky?.state} after ${flaky?.attempts} attempts`);
await jobs.close();

// --- durable workflow ------------------------------------------------------------------------
const definition: WorkflowDefinition = {
  id: 'invoice',
  steps: [{ id: 'compute' }, { id: 'publish', dependsOn: ['compute'] }],
};
let computeCalls = 0;
function engineOn(store: Awaited<ReturnType<typeof connectPostgresWorkflowStore>>, hang: boolean) {
  const engine = new WorkflowEngine({ store });
  engine.register(definition, {
    compute: () => {
      computeCalls++;
      return { total: 42 };
    },
    publish: ({ results, signal }) =>
      hang // the first process stops while this step runs
        ? new Promise((_resolve, reject) =>
            signal.addEventListener('abort', () => reject(new Error('stopped'))),
          )
        : { published: results['compute']?.output },
  });
  return engine;
}

// Process 1 starts a run and stops mid-run; close() releases its lease.
const store1 = await connectPostgresWorkflowStore({ connectionString, schema });
const engine1 = engineOn(store1, true);
const runId = await engine1.start('invoice', { customer: 7 });
for await (const event of engine1.events({ signal: AbortSignal.timeout(10_000) })) {
  if (event.type === 'step' && event.stepId === 'publish' && event.status === 'running') break;
}
await engine1.close();
await store1.close();

// Process 2 resumes it: `compute` completed before and is not run again.
const store2 = await connectPostgresWorkflowStore({ connectionString, schema });
const engine2 = engineOn(store2, false);
await engine2.resume(runId);
const result = await engine2.wait(runId);
console.log(
  `workflow ${result.status}: ${JSON.stringify(result.output)}; compute ran ${computeCalls}x`,
);
await engine2.close();
await store2.close();
console.log('postgres example done');
