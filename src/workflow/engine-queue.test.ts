// Step admission through a ManagedQueue: resources, priority, concurrency across runs.
import { afterEach, describe, expect, it } from 'vitest';
import { deferred } from '../core/abort.js';
import { isMajraError } from '../core/errors.js';
import { ManagedQueue } from '../queue/managed-queue.js';
import { Priority } from '../queue/priority.js';
import { flushMicrotasks } from '../testing/manual-clock.js';
import { WorkflowEngine } from './engine.js';
import type { StepTicket } from './queue-gate.js';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

function setup(queueOptions: ConstructorParameters<typeof ManagedQueue>[0]) {
  const queue = new ManagedQueue<StepTicket>(queueOptions);
  const engine = new WorkflowEngine({ queue });
  open.push(queue, engine);
  return { queue, engine };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await flushMicrotasks();
}

describe('WorkflowEngine with a ManagedQueue', () => {
  it('holds each attempt to the queue capacity and frees it when the attempt ends', async () => {
    const { queue, engine } = setup({ capacity: { gpuCount: 1, vramMb: 16_000 } });
    let inFlight = 0;
    let peak = 0;
    const gpuStep = async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await flushMicrotasks();
      inFlight--;
      return 'ok';
    };
    const steps = ['a', 'b', 'c'].map((id) => ({ id, resources: { gpuCount: 1, vramMb: 8000 } }));
    engine.register({ id: 'gpu', steps }, { a: gpuStep, b: gpuStep, c: gpuStep });
    const result = await engine.wait(await engine.start('gpu'));
    expect(result.status).toBe('completed');
    expect(peak).toBe(1);
    expect(queue.counts()).toMatchObject({ completed: 3, running: 0, queued: 0 });
    expect(queue.ledger?.free()).toEqual({ gpuCount: 1, vramMb: 16_000 });
  });

  it('admits waiting attempts by priority', async () => {
    const { engine } = setup({ maxConcurrency: 1 });
    const gate = deferred<undefined>();
    const order: string[] = [];
    engine.register(
      {
        id: 'prio',
        steps: [
          { id: 'first' },
          { id: 'low', dependsOn: ['first'], priority: Priority.Low },
          { id: 'high', dependsOn: ['first'], priority: Priority.Critical },
          { id: 'gate' },
        ],
      },
      {
        gate: () => gate.promise,
        first: () => order.push('first'),
        low: () => order.push('low'),
        high: () => order.push('high'),
      },
    );
    const runId = await engine.start('prio');
    await settle();
    gate.resolve(undefined);
    expect((await engine.wait(runId)).status).toBe('completed');
    expect(order).toEqual(['first', 'high', 'low']);
  });

  it('caps steps across runs with maxConcurrency', async () => {
    const { engine } = setup({ maxConcurrency: 1 });
    let inFlight = 0;
    let peak = 0;
    const step = async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await flushMicrotasks();
      inFlight--;
    };
    engine.register({ id: 'wf', steps: [{ id: 'x' }, { id: 'y' }] }, { x: step, y: step });
    const runs = await Promise.all([engine.start('wf'), engine.start('wf'), engine.start('wf')]);
    for (const runId of runs) expect((await engine.wait(runId)).status).toBe('completed');
    expect(peak).toBe(1);
  });

  it('cancels a ticket still waiting for admission when the run is cancelled', async () => {
    const { queue, engine } = setup({ capacity: { gpuCount: 1, vramMb: 0 } });
    const hold = deferred<undefined>();
    engine.register(
      {
        id: 'wf',
        steps: [
          { id: 'holder', resources: { gpuCount: 1, vramMb: 0 } },
          { id: 'waiter', resources: { gpuCount: 1, vramMb: 0 } },
        ],
      },
      {
        holder: ({ signal }) =>
          new Promise((_, reject) => {
            signal.addEventListener('abort', () => reject(new Error('stop')));
            void hold.promise;
          }),
        waiter: () => 'never',
      },
    );
    const runId = await engine.start('wf');
    await settle();
    expect(queue.counts()).toMatchObject({ running: 1, queued: 1 });
    await engine.cancel(runId);
    expect((await engine.wait(runId)).status).toBe('cancelled');
    await settle();
    expect(queue.counts()).toMatchObject({ running: 0, queued: 0, cancelled: 1, failed: 1 });
  });

  it('fails the ticket of a failed attempt and retries with a new one', async () => {
    const { queue, engine } = setup({});
    let calls = 0;
    engine.register(
      { id: 'wf', steps: [{ id: 'a', retry: { maxAttempts: 2, delayMs: 0 } }] },
      {
        a: () => {
          if (++calls === 1) throw new Error('once');
          return 'ok';
        },
      },
    );
    expect((await engine.wait(await engine.start('wf'))).status).toBe('completed');
    await settle();
    expect(queue.counts()).toMatchObject({ failed: 1, completed: 1 });
  });

  it('refuses resources without a queue and invalid resources or priority', () => {
    const plain = new WorkflowEngine();
    open.push(plain);
    const code = (fn: () => void): string | undefined => {
      try {
        fn();
      } catch (error) {
        return isMajraError(error) ? error.code : 'not a MajraError';
      }
      return undefined;
    };
    expect(
      code(() =>
        plain.register(
          { id: 'a', steps: [{ id: 's', resources: { gpuCount: 1, vramMb: 0 } }] },
          { s: () => 1 },
        ),
      ),
    ).toBe('ERR_WORKFLOW_INVALID_DEFINITION');
    const { engine } = setup({});
    expect(
      code(() =>
        engine.register(
          { id: 'b', steps: [{ id: 's', resources: { gpuCount: -1, vramMb: 0 } }] },
          { s: () => 1 },
        ),
      ),
    ).toBe('ERR_WORKFLOW_INVALID_DEFINITION');
    expect(
      code(() =>
        engine.register({ id: 'c', steps: [{ id: 's', priority: 9 as never }] }, { s: () => 1 }),
      ),
    ).toBe('ERR_WORKFLOW_INVALID_DEFINITION');
    expect(code(() => new WorkflowEngine({ queue: {} as never }))).toBe('ERR_INVALID_ARGUMENT');
  });
});
