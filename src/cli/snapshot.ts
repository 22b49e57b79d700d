/**
 * The dashboard's data: one JSON snapshot of runs, queues, nodes, topics and rate
 * limiters, rebuilt a few times a second by whoever drives the dashboard (the demo, or
 * `majra dashboard` reading an existing deployment) and published on
 * {@link SNAPSHOT_TOPIC}. Snapshots are small and self-contained, so a page that joins
 * late or misses one simply renders the next.
 *
 * @module
 */
import type { GpuTelemetry } from '../heartbeat/types.js';

/** Topic the snapshot is published on. */
export const SNAPSHOT_TOPIC = 'majra/dashboard/snapshot';

/** One step of a run, with its edges for the graph. */
export interface StepView {
  readonly id: string;
  readonly dependsOn: readonly string[];
  status: string;
  attempt: number;
  node?: string | undefined;
}

/** One workflow run. */
export interface RunView {
  readonly runId: string;
  readonly workflowId: string;
  status: string;
  resumed: boolean;
  startedAt: number | null;
  completedAt: number | null;
  steps: StepView[];
}

/** One queue by state, with rates over the last few seconds. */
export interface QueueView {
  readonly name: string;
  readonly queued: number;
  readonly running: number;
  readonly completed: number;
  readonly failed: number;
  readonly cancelled: number;
  readonly enqueuedPerSec: number;
  readonly finishedPerSec: number;
}

/** One worker node. */
export interface NodeView {
  readonly nodeId: string;
  readonly status: string;
  readonly lastSeenAgoMs: number;
  readonly running: number;
  readonly queued: number;
  readonly gpus: readonly GpuTelemetry[];
}

/** Message rate of one topic family (the first levels of the topic). */
export interface TopicView {
  readonly topic: string;
  readonly total: number;
  readonly perSec: number;
}

/** One rate limiter's decisions. */
export interface LimiterView {
  readonly name: string;
  readonly allowed: number;
  readonly rejected: number;
  readonly rejectedPerSec: number;
}

/** Everything the page shows. */
export interface Snapshot {
  readonly v: 1;
  readonly at: number;
  readonly source: string;
  readonly readOnly: boolean;
  readonly done: boolean;
  readonly runs: readonly RunView[];
  readonly queues: readonly QueueView[];
  readonly nodes: readonly NodeView[];
  readonly topics: readonly TopicView[];
  readonly limiters: readonly LimiterView[];
}

/** Rate of a monotonically growing counter over a sliding window of samples. */
export class RateMeter {
  readonly #samples: { at: number; total: number }[] = [];
  readonly #windowMs: number;

  constructor(windowMs = 3000) {
    this.#windowMs = windowMs;
  }

  /** Records `total` at `at` and returns the per-second rate over the window. */
  sample(at: number, total: number): number {
    this.#samples.push({ at, total });
    while (this.#samples.length > 2 && at - (this.#samples[1]?.at ?? at) >= this.#windowMs) {
      this.#samples.shift();
    }
    if (this.#samples.length > 64) this.#samples.shift();
    const first = this.#samples[0];
    if (first === undefined || at - first.at <= 0) return 0;
    return Math.round(((total - first.total) * 10_000) / (at - first.at)) / 10;
  }
}

/** Counts messages per topic family (first two levels), bounded to `maxTopics`. */
export class TopicCounter {
  readonly #totals = new Map<string, number>();
  readonly #meters = new Map<string, RateMeter>();
  readonly #maxTopics: number;

  constructor(maxTopics = 32) {
    this.#maxTopics = maxTopics;
  }

  /** Counts one message on `topic`. */
  count(topic: string): void {
    const family = topic.split('/').slice(0, 2).join('/');
    const key = this.#totals.has(family) || this.#totals.size < this.#maxTopics ? family : 'other';
    this.#totals.set(key, (this.#totals.get(key) ?? 0) + 1);
  }

  /** Totals and rates now. */
  views(at: number): TopicView[] {
    const out: TopicView[] = [];
    for (const [topic, total] of this.#totals) {
      let meter = this.#meters.get(topic);
      if (meter === undefined) this.#meters.set(topic, (meter = new RateMeter()));
      out.push({ topic, total, perSec: meter.sample(at, total) });
    }
    return out.sort((a, b) => a.topic.localeCompare(b.topic));
  }
}
