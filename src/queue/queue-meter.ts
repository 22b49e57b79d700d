import { noopMetrics, type MetricLabels, type MetricsSink } from '../core/metrics.js';
import {
  QUEUE_DEPTH,
  QUEUE_DEQUEUED,
  QUEUE_ENQUEUED,
  QUEUE_EVENTS_DROPPED,
  QUEUE_EVICTED,
  QUEUE_RUNNING,
  QUEUE_STORE_ERRORS,
  QUEUE_TRANSITIONS,
} from './metrics.js';
import { PRIORITY_NAMES, type Priority } from './priority.js';
import type { JobState } from './types.js';

/**
 * The metrics of one `ManagedQueue`, with its label sets built once (they are bounded:
 * 5 tiers, at most 25 transitions). Without a sink every report is a no-op that skips
 * even the call into the sink, which keeps the job lifecycle cheap.
 *
 * @internal
 */
export class QueueMeter {
  readonly #sink: MetricsSink;
  readonly #on: boolean;
  readonly #name: string;
  readonly #labels: MetricLabels;
  readonly #tierLabels: readonly MetricLabels[];
  /** Label sets per (from, to), built on first use. */
  readonly #transitionLabels: Record<JobState, Partial<Record<JobState, MetricLabels>>> = {
    queued: {},
    running: {},
    completed: {},
    failed: {},
    cancelled: {},
  };

  constructor(sink: MetricsSink | undefined, name: string) {
    this.#sink = sink ?? noopMetrics;
    this.#on = this.#sink !== noopMetrics;
    this.#name = name;
    this.#labels = Object.freeze({ queue: name });
    this.#tierLabels = PRIORITY_NAMES.map((priority) => Object.freeze({ queue: name, priority }));
  }

  enqueued(tier: Priority): void {
    if (this.#on) this.#sink.increment(QUEUE_ENQUEUED, 1, this.#tierLabels[tier]);
  }

  dequeued(tier: Priority): void {
    if (this.#on) this.#sink.increment(QUEUE_DEQUEUED, 1, this.#tierLabels[tier]);
  }

  transition(from: JobState, to: JobState): void {
    if (!this.#on) return;
    const byTo = this.#transitionLabels[from];
    let labels = byTo[to];
    if (labels === undefined) {
      labels = Object.freeze({ queue: this.#name, from, to });
      byTo[to] = labels;
    }
    this.#sink.increment(QUEUE_TRANSITIONS, 1, labels);
  }

  /** The depth and running gauges. */
  gauges(queued: number, running: number): void {
    if (!this.#on) return;
    this.#sink.set(QUEUE_DEPTH, queued, this.#labels);
    this.#sink.set(QUEUE_RUNNING, running, this.#labels);
  }

  evicted(count: number): void {
    if (this.#on) this.#sink.increment(QUEUE_EVICTED, count, this.#labels);
  }

  eventsDropped(count: number): void {
    if (this.#on) this.#sink.increment(QUEUE_EVENTS_DROPPED, count, this.#labels);
  }

  storeError(op: string): void {
    if (this.#on) this.#sink.increment(QUEUE_STORE_ERRORS, 1, { queue: this.#name, operation: op });
  }
}
