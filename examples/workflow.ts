// An embedded DAG workflow: fan-out, fan-in, retry with backoff, and a fallback step that
// runs in place of a step that keeps failing. State lives in memory here; see
// workflow-sqlite.ts and postgres-workflow.ts for durable runs.
// Run: npm run build && node --import tsx examples/workflow.ts
import { WorkflowEngine } from 'majra/workflow';

const engine = new WorkflowEngine();
let flakyCalls = 0;

engine.register(
  {
    id: 'order',
    steps: [
      { id: 'charge', retry: { maxAttempts: 3, backoff: 'fixed', delayMs: 10 } },
      { id: 'invoice', dependsOn: ['charge'] },
      { id: 'ship', dependsOn: ['charge'], onError: { fallback: 'ship-later' } },
      { id: 'ship-later' }, // a fallback step: runs only when `ship` fails
      { id: 'notify', dependsOn: ['invoice', 'ship'] }, // fan-in
    ],
  },
  {
    // Fails twice, succeeds on the third attempt: the retry policy absorbs it.
    charge: ({ input, attempt }) => {
      flakyCalls++;
      if (attempt < 3) throw new Error(`card network busy (attempt ${attempt})`);
      return { charged: (input as { total: number }).total };
    },
    invoice: ({ results }) => ({ invoice: `INV-${JSON.stringify(results['charge']?.output)}` }),
    ship: () => {
      throw new Error('courier API down');
    },
    'ship-later': ({ fallbackFor }) => ({ queuedBecause: fallbackFor?.error }),
    notify: ({ results }) => ({ shipped: results['ship']?.output }),
  },
);

// Step transitions as they happen (a bounded stream; slow readers lose the oldest).
const events = engine.events();
void (async () => {
  for await (const event of events) {
    if (event.type === 'step') console.log(`  step ${event.stepId}: ${event.status}`);
  }
})();

const runId = await engine.start('order', { total: 42 });
const result = await engine.wait(runId);
console.log(`run ${result.status}; charge took ${flakyCalls} attempts`);
console.log('output', JSON.stringify(result.output));

await engine.close();
console.log('workflow example done');
