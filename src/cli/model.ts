/**
 * Builds dashboard snapshots from live sources: workflow events (runs and their step
 * graphs), ManagedQueue events (counts by state and rates), node views, rate limiter
 * counters and topic traffic. Used by the demo; `majra dashboard` fills the same model
 * from stores instead of events.
 *
 * @module
 */
import type { ManagedQueue } from '../queue/managed-queue.js';
import type { WorkflowDefinition } from '../workflow/dag.js';
import type { WorkflowEvent } from '../workflow/events.js';
import type { StepRecord } from '../workflow/types.js';
import {
  RateMeter,
  TopicCounter,
  type LimiterView,
  type NodeView,
  type QueueView,
  type RunView,
  type Snapshot,
} from './snapshot.js';

/** Counts of one queue, kept by the model (finished jobs are evicted from the queue itself). */
export class QueueMeter {
  readonly name: string;
  enqueued = 0;
  completed = 0;
  failed = 0;
  cancelled = 0;
  queued = 0;
  running = 0;
  readonly #enqRate = new RateMeter();
  readonly #finRate = new RateMeter();

  constructor(name: string) {
    this.name = name;
  }

  /** Follows a ManagedQueue's events; returns the unsubscribe function. */
  follow(queue: ManagedQueue<unknown>): () => void {
    return queue.onEvent((event) => {
      if (event.type === 'enqueued') this.enqueued++;
      if (event.type === 'stateChanged') {
        if (event.to === 'completed') this.completed++;
        else if (event.to === 'failed') this.failed++;
        else if (event.to === 'cancelled') this.cancelled++;
      }
      this.queued = queue.queuedCount;
      this.running = queue.runningCount;
    });
  }

  /** The view now. */
  view(at: number): QueueView {
    const finished = this.completed + this.failed + this.cancelled;
    return {
      name: this.name,
      queued: this.queued,
      running: this.running,
      completed: this.completed,
      failed: this.failed,
      cancelled: this.cancelled,
      enqueuedPerSec: this.#enqRate.sample(at, this.enqueued),
      finishedPerSec: this.#finRate.sample(at, finished),
    };
  }
}

/** Sources the model reads on every snapshot. */
export interface ModelSources {
  readonly source: string;
  readonly readOnly: boolean;
  nodes(): NodeView[] | Promise<NodeView[]>;
  queues(at: number): QueueView[] | Promise<QueueView[]>;
  limiters(): { name: string; allowed: number; rejected: number }[];
}

/** Runs and topics, kept up to date by events; snapshots on demand. */
export class DashboardModel {
  readonly runs = new Map<string, RunView>();
  readonly topics = new TopicCounter();
  readonly #limiterRates = new Map<string, RateMeter>();
  readonly #sources: ModelSources;
  readonly #maxRuns: number;
  done = false;

  constructor(sources: ModelSources, maxRuns = 50) {
    this.#sources = sources;
    this.#maxRuns = maxRuns;
  }

  /** Adds (or replaces) a run with every step pending, then applies stored records. */
  addRun(
    runId: string,
    definition: WorkflowDefinition,
    records: readonly StepRecord[] = [],
    resumed = false,
  ): RunView {
    const run: RunView = {
      runId,
      workflowId: definition.id,
      status: 'pending',
      resumed,
      startedAt: null,
      completedAt: null,
      steps: definition.steps.map((s) => ({
        id: s.id,
        dependsOn: [...new Set(s.dependsOn ?? [])],
        status: 'pending',
        attempt: 0,
      })),
    };
    for (const r of records) {
      const step = run.steps.find((s) => s.id === r.stepId);
      if (step === undefined) continue;
      // A step interrupted mid-attempt is pending again until the resumed engine starts it.
      step.status = r.status === 'running' ? 'pending' : r.status;
      step.attempt = r.attempt;
    }
    this.runs.set(runId, run);
    while (this.runs.size > this.#maxRuns) {
      const oldest = this.runs.keys().next().value;
      if (oldest === undefined) break;
      this.runs.delete(oldest);
    }
    return run;
  }

  /** Applies one engine event. */
  apply(event: WorkflowEvent): void {
    const run = this.runs.get(event.runId);
    if (run === undefined) return;
    if (event.type === 'run') {
      run.status = event.status;
      if (event.status === 'running') {
        run.startedAt ??= event.at;
        run.resumed ||= event.resumed;
      } else {
        run.completedAt = event.at;
      }
      return;
    }
    const step = run.steps.find((s) => s.id === event.stepId);
    if (step === undefined) return;
    step.status = event.status;
    step.attempt = event.attempt;
  }

  /** Records which node ran a step. */
  setNode(runId: string, stepId: string, node: string): void {
    const step = this.runs.get(runId)?.steps.find((s) => s.id === stepId);
    if (step !== undefined) step.node = node;
  }

  /** Builds the snapshot now. */
  async snapshot(at = Date.now()): Promise<Snapshot> {
    const [nodes, queues] = await Promise.all([this.#sources.nodes(), this.#sources.queues(at)]);
    const limiters: LimiterView[] = this.#sources.limiters().map((l) => {
      let meter = this.#limiterRates.get(l.name);
      if (meter === undefined) this.#limiterRates.set(l.name, (meter = new RateMeter()));
      return { ...l, rejectedPerSec: meter.sample(at, l.rejected) };
    });
    return {
      v: 1,
      at,
      source: this.#sources.source,
      readOnly: this.#sources.readOnly,
      done: this.done,
      runs: [...this.runs.values()].map((r) => ({ ...r, steps: r.steps.map((s) => ({ ...s })) })),
      queues,
      nodes,
      topics: this.topics.views(at),
      limiters,
    };
  }
}
