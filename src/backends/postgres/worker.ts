import type { Clock, TimerHandle } from '../../core/clock.js';
import { AbortedError, isMajraError, toError } from '../../core/errors.js';
import { Lifecycle, type Closeable } from '../../core/lifecycle.js';
import type { MetricsSink } from '../../core/metrics.js';
import { optionalSignal, positiveInteger } from '../../core/validate.js';
import type { ClaimedJob, JobHandler, WorkOptions } from './job-types.js';
import * as M from './metrics.js';
import { isConnectionError } from './pool.js';

/** What a worker needs from its queue. @internal */
export interface WorkerHost {
  readonly clock: Clock;
  readonly metrics: MetricsSink;
  readonly onError: (error: Error) => void;
  readonly leaseMs: number;
  readonly pollIntervalMs: number;
  claim(queue: string, limit: number, leaseMs: number): Promise<ClaimedJob[]>;
  /** Encodes a handler result (throws when it is not serialisable or too large). */
  encodeResult(result: unknown): string | null;
  ackEncoded(items: readonly { job: ClaimedJob; result: string | null }[]): Promise<number>;
  nack(job: ClaimedJob, error: unknown): Promise<unknown>;
  renew(jobs: readonly ClaimedJob[], leaseMs: number): Promise<Set<string>>;
  nextDueMs(queue: string): Promise<number | null>;
  onWake(fn: (queue: string | undefined) => void): () => void;
  onCancel(fn: (id: string) => void): () => void;
}

interface Entry {
  readonly job: ClaimedJob;
  readonly controller: AbortController;
  readonly startedAt: number;
  /** Cancelled or lease lost: the outcome is not written back. */
  lost: boolean;
}

/**
 * A running consumer of one queue, from `PostgresJobQueue.work()`. Closing it stops
 * claiming and waits for running handlers and their acks.
 */
export class JobWorker implements Closeable {
  readonly #life = new Lifecycle('JobWorker');
  readonly #host: WorkerHost;
  readonly #queue: string;
  readonly #handler: JobHandler;
  readonly #concurrency: number;
  readonly #batchSize: number;
  readonly #leaseMs: number;
  readonly #inFlight = new Map<string, Entry>();
  #acks: { entry: Entry; result: string | null }[] = [];
  #flushing = false;
  #wakePending = false;
  #waiter: (() => void) | undefined;
  #renewTimer: TimerHandle | undefined;
  #loop: Promise<void>;
  #drained: (() => void) | undefined;
  readonly #unsubscribe: (() => void)[] = [];

  /** @internal Created by `PostgresJobQueue.work()`. */
  constructor(host: WorkerHost, queue: string, handler: JobHandler, options: WorkOptions) {
    this.#host = host;
    this.#queue = queue;
    this.#handler = handler;
    this.#concurrency = positiveInteger('concurrency', options.concurrency ?? 1, 10_000);
    this.#batchSize = positiveInteger(
      'batchSize',
      options.batchSize ?? Math.min(this.#concurrency, 100),
      10_000,
    );
    this.#leaseMs = positiveInteger('leaseMs', options.leaseMs ?? host.leaseMs, 2 ** 31);
    const signal = optionalSignal('signal', options.signal);
    this.#unsubscribe.push(
      host.onWake((q) => {
        if (q === undefined || q === this.#queue) this.#wake();
      }),
      host.onCancel((id) => this.#abortJob(id, 'job cancelled')),
    );
    if (signal !== undefined) {
      const onAbort = (): void => void this.close();
      if (signal.aborted) queueMicrotask(onAbort);
      else {
        signal.addEventListener('abort', onAbort, { once: true });
        this.#unsubscribe.push(() => signal.removeEventListener('abort', onAbort));
      }
    }
    this.#armRenew();
    this.#loop = this.#run();
  }

  /** The queue this worker consumes. */
  get queue(): string {
    return this.#queue;
  }

  /** Jobs held right now (running or awaiting their ack). */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  // Read through methods: both flags change while the loop awaits.
  #stopping(): boolean {
    return this.#life.isClosed;
  }

  #woken(): boolean {
    return this.#wakePending;
  }

  #wake(): void {
    this.#wakePending = true;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }

  #idle(ms: number): Promise<void> {
    if (this.#wakePending || this.#life.isClosed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = this.#host.clock.setTimer(ms, () => {
        this.#waiter = undefined;
        resolve();
      });
      this.#waiter = () => {
        timer.cancel();
        resolve();
      };
    });
  }

  async #run(): Promise<void> {
    let errorDelay = 0;
    while (!this.#life.isClosed) {
      const free = this.#concurrency - this.#inFlight.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => (this.#waiter = resolve));
        continue;
      }
      const want = Math.min(this.#batchSize, free);
      this.#wakePending = false;
      let jobs: ClaimedJob[];
      try {
        jobs = await this.#host.claim(this.#queue, want, this.#leaseMs);
        errorDelay = 0;
      } catch (error) {
        if (this.#stopping()) break;
        this.#host.onError(toError(error));
        errorDelay = Math.min(5000, Math.max(100, errorDelay * 2));
        await this.#idle(errorDelay);
        continue;
      }
      for (const job of jobs) this.#start(job);
      if (jobs.length < want && !this.#woken()) {
        let wait = this.#host.pollIntervalMs;
        if (jobs.length === 0) {
          try {
            const due = await this.#host.nextDueMs(this.#queue);
            if (due !== null) wait = Math.max(0, Math.min(wait, Math.ceil(due)));
          } catch (error) {
            this.#host.onError(toError(error));
          }
        }
        await this.#idle(wait);
      }
    }
  }

  #start(job: ClaimedJob): void {
    const entry: Entry = {
      job,
      controller: new AbortController(),
      startedAt: this.#host.clock.monotonic(),
      lost: false,
    };
    this.#inFlight.set(job.id, entry);
    Promise.resolve()
      .then(() => this.#handler(job, { signal: entry.controller.signal }))
      .then(
        (result) => {
          if (entry.lost) return this.#finish(entry);
          let encoded: string | null;
          try {
            encoded = this.#host.encodeResult(result);
          } catch (error) {
            return this.#fail(entry, error);
          }
          this.#acks.push({ entry, result: encoded });
          void this.#flush();
          return undefined;
        },
        (error: unknown) => this.#fail(entry, error),
      )
      .catch((error: unknown) => this.#host.onError(toError(error)));
  }

  #fail(entry: Entry, error: unknown): void {
    if (entry.lost) {
      this.#finish(entry);
      return;
    }
    this.#observe(entry);
    this.#host
      .nack(entry.job, error)
      .catch((nackError: unknown) => this.#host.onError(toError(nackError)))
      .finally(() => this.#finish(entry));
  }

  async #flush(): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    let failures = 0;
    try {
      while (this.#acks.length > 0) {
        const batch = this.#acks.splice(0, 1000);
        try {
          await this.#host.ackEncoded(batch.map((a) => ({ job: a.entry.job, result: a.result })));
          failures = 0;
          for (const a of batch) {
            this.#observe(a.entry);
            this.#finish(a.entry);
          }
        } catch (error) {
          this.#host.onError(toError(error));
          failures++;
          if (isConnectionError(error) && failures <= 5) {
            this.#acks.unshift(...batch);
            await new Promise<void>((resolve) =>
              this.#host.clock.setTimer(100 * 2 ** failures, resolve),
            );
          } else {
            // Unacked jobs stay leased; the reaper requeues them when the lease expires.
            for (const a of batch) this.#finish(a.entry);
          }
        }
      }
    } finally {
      this.#flushing = false;
    }
  }

  #observe(entry: Entry): void {
    const seconds = (this.#host.clock.monotonic() - entry.startedAt) / 1000;
    this.#host.metrics.observe(M.JOB_DURATION, seconds);
  }

  #finish(entry: Entry): void {
    if (this.#inFlight.get(entry.job.id) !== entry) return;
    this.#inFlight.delete(entry.job.id);
    if (this.#inFlight.size === 0) this.#drained?.();
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }

  #abortJob(id: string, why: string): void {
    const entry = this.#inFlight.get(id);
    if (entry === undefined || entry.lost) return;
    entry.lost = true;
    entry.controller.abort(new AbortedError(`job ${id}: ${why}`));
  }

  #armRenew(): void {
    const every = Math.max(1, Math.floor(this.#leaseMs / 3));
    this.#renewTimer = this.#host.clock.setTimer(every, () => {
      const held = [...this.#inFlight.values()].filter((e) => !e.lost).map((e) => e.job);
      if (held.length === 0) {
        if (!this.#life.isClosed || this.#inFlight.size > 0) this.#armRenew();
        return;
      }
      this.#host
        .renew(held, this.#leaseMs)
        .then(
          (kept) => {
            for (const job of held)
              if (!kept.has(job.id)) this.#abortJob(job.id, 'lease lost or job cancelled');
          },
          (error: unknown) => {
            if (!isMajraError(error, 'ERR_CLOSED')) this.#host.onError(toError(error));
          },
        )
        .finally(() => {
          if (!this.#life.isClosed || this.#inFlight.size > 0) this.#armRenew();
        });
    });
    this.#renewTimer.unref();
  }

  /** Resolves once closed. */
  get closed(): Promise<void> {
    return this.#life.closed;
  }

  /** True once `close()` was called. */
  get isClosed(): boolean {
    return this.#life.isClosed;
  }

  /**
   * Force-stop: aborts every running handler's signal (reason: `ERR_ABORTED`, "worker
   * stopping"), then closes like `close()`. Handlers that honour the signal end early; a
   * handler that then throws is nacked as usual (the job is retried after its backoff),
   * one that returns is acked.
   */
  abort(): Promise<void> {
    const closing = this.close();
    for (const entry of this.#inFlight.values()) {
      if (!entry.controller.signal.aborted) {
        entry.controller.abort(new AbortedError(`job ${entry.job.id}: worker stopping`));
      }
    }
    return closing;
  }

  /** Stops claiming and waits for running handlers to finish and be acknowledged. */
  close(): Promise<void> {
    return this.#life.close(async () => {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter?.();
      await this.#loop;
      if (this.#inFlight.size > 0) {
        await new Promise<void>((resolve) => (this.#drained = resolve));
      }
      this.#renewTimer?.cancel();
      for (const off of this.#unsubscribe) off();
    });
  }

  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
