import type { Pool } from 'pg';
import type { JobQueueConfig } from './job-queue-config.js';
import { backoffDelay, encodeValue, storableText } from './job-codec.js';
import {
  notFound,
  resolveDuplicates,
  toClaimedJobs,
  toJobInfo,
  type ClaimRow,
  type JobBatch,
} from './job-rows.js';
import type { ClaimedJob, EnqueueResult, JobInfo, JobState, NackOptions } from './job-types.js';
import * as M from './metrics.js';
import { runQuery, type Queryable } from './pool.js';
import type { StatementSet } from './sql-file.js';

/** A claimed job as acks and renewals identify it: the id, fenced by the attempt. */
export type HeldJob = Pick<ClaimedJob, 'id' | 'attempt'>;

/**
 * The statement layer of PostgresJobQueue: each method runs one statement of
 * queries/job-queue.sql on already-validated arguments and counts what it did.
 * PostgresJobQueue validates and checks its lifecycle before calling in; its workers
 * call in directly, since their arguments come from claimed rows.
 *
 * @internal
 */
export class JobStatements {
  readonly #pool: Pool;
  readonly #sql: StatementSet;
  readonly #channel: string;
  readonly #cfg: JobQueueConfig;

  constructor(pool: Pool, sql: StatementSet, channel: string, cfg: JobQueueConfig) {
    this.#pool = pool;
    this.#sql = sql;
    this.#channel = channel;
    this.#cfg = cfg;
  }

  async enqueue(db: Queryable, queue: string, batch: JobBatch): Promise<EnqueueResult[]> {
    const rows = await runQuery<{ id: string; idempotency_key: string | null }>(
      db,
      this.#sql.get('enqueue'),
      [
        queue,
        batch.payloads,
        batch.priorities,
        batch.delays,
        batch.attempts,
        batch.keys,
        this.#channel,
      ],
      'enqueue',
    );
    this.#cfg.metrics.increment(M.JOBS_ENQUEUED, rows.length);
    if (rows.length === batch.payloads.length) {
      return rows.map((row) => ({ id: row.id, created: true }));
    }
    return resolveDuplicates(db, this.#sql.get('findByKeys'), queue, batch.keys, rows);
  }

  async claim<T>(queue: string, limit: number, leaseMs: number): Promise<ClaimedJob<T>[]> {
    const rows = await runQuery<ClaimRow>(
      this.#pool,
      this.#sql.get('claim'),
      [queue, limit, leaseMs, this.#cfg.workerId, this.#cfg.syncCommit],
      'claim',
    );
    this.#cfg.metrics.increment(M.JOBS_CLAIMED, rows.length);
    return toClaimedJobs<T>(rows, queue);
  }

  /** Encodes a handler's result for storage (null when results are not kept). */
  encodeResult(result: unknown): string | null {
    if (result === undefined || this.#cfg.completedMs === 0) return null;
    return encodeValue(result, this.#cfg.maxPayloadBytes, 'result');
  }

  async ack(items: readonly { readonly job: HeldJob; readonly result: string | null }[]) {
    const ids = items.map((item) => item.job.id);
    const attempts = items.map((item) => item.job.attempt);
    // With no retention the row is deleted at once; otherwise it keeps its result.
    const keep = this.#cfg.completedMs !== 0;
    const rows = await runQuery(
      this.#pool,
      this.#sql.get(keep ? 'ack' : 'ackDelete'),
      keep
        ? [ids, attempts, items.map((item) => item.result), this.#cfg.syncCommit]
        : [ids, attempts, this.#cfg.syncCommit],
      'ack',
    );
    this.#cfg.metrics.increment(M.JOBS_COMPLETED, rows.length);
    if (rows.length < items.length)
      this.#cfg.metrics.increment(M.LEASES_LOST, items.length - rows.length);
    return rows.length;
  }

  async nack(
    job: HeldJob,
    error: unknown,
    options: NackOptions,
  ): Promise<'queued' | 'dead' | null> {
    const delay = options.delayMs ?? backoffDelay(this.#cfg.backoff, job.attempt);
    const message = storableText(error instanceof Error ? error.message : String(error));
    const rows = await runQuery<{ state: 'queued' | 'dead' }>(
      this.#pool,
      this.#sql.get('nack'),
      [
        job.id,
        job.attempt,
        delay,
        message,
        options.dead === true,
        this.#channel,
        this.#cfg.syncCommit,
      ],
      'nack',
    );
    const state = rows[0]?.state ?? null;
    if (state === null) this.#cfg.metrics.increment(M.LEASES_LOST);
    else
      this.#cfg.metrics.increment(M.JOBS_FAILED, 1, {
        outcome: state === 'dead' ? 'dead' : 'retry',
      });
    return state;
  }

  async renew(jobs: readonly HeldJob[], leaseMs: number): Promise<Set<string>> {
    if (jobs.length === 0) return new Set();
    const rows = await runQuery<{ id: string }>(
      this.#pool,
      this.#sql.get('renew'),
      [jobs.map((j) => j.id), jobs.map((j) => j.attempt), leaseMs, this.#cfg.syncCommit],
      'renew',
    );
    return new Set(rows.map((row) => row.id));
  }

  /** Runs the cancel or retry statement: true if it applied, false if the job exists in another state. */
  async changeState(id: string, statement: 'cancel' | 'retry'): Promise<boolean> {
    const rows = await runQuery<{ changed: number }>(
      this.#pool,
      this.#sql.get(statement),
      [id, this.#channel],
      statement,
    );
    if ((rows[0]?.changed ?? 0) > 0) {
      if (statement === 'cancel') this.#cfg.metrics.increment(M.JOBS_CANCELLED);
      return true;
    }
    if ((await this.get(id)) === undefined) throw notFound(id);
    return false;
  }

  async get<T>(id: string): Promise<JobInfo<T> | undefined> {
    const [row] = await runQuery<Record<string, unknown>>(
      this.#pool,
      this.#sql.get('get'),
      [id],
      'get',
    );
    return row === undefined ? undefined : toJobInfo<T>(row);
  }

  async counts(queue: string): Promise<Record<JobState, number>> {
    const rows = await runQuery<{ state: JobState; n: number }>(
      this.#pool,
      this.#sql.get('counts'),
      [queue],
      'counts',
    );
    const out: Record<JobState, number> = {
      queued: 0,
      running: 0,
      completed: 0,
      dead: 0,
      cancelled: 0,
    };
    for (const row of rows) out[row.state] = row.n;
    return out;
  }

  async reap(limit: number): Promise<number> {
    const rows = await runQuery<{ reaped: number }>(
      this.#pool,
      this.#sql.get('reap'),
      [limit, this.#channel],
      'reap',
    );
    const reaped = rows[0]?.reaped ?? 0;
    this.#cfg.metrics.increment(M.JOBS_REAPED, reaped);
    return reaped;
  }

  async sweep(limit: number): Promise<number> {
    const rows = await runQuery<{ deleted: number }>(
      this.#pool,
      this.#sql.get('sweep'),
      [this.#cfg.completedMs, this.#cfg.deadMs, limit],
      'sweep',
    );
    return rows[0]?.deleted ?? 0;
  }

  /** Milliseconds until the next queued job of `queue` is due, or null when none is queued. */
  async nextDueMs(queue: string): Promise<number | null> {
    const [row] = await runQuery<{ due_in_ms: number | null }>(
      this.#pool,
      this.#sql.get('nextDue'),
      [queue],
      'next due',
    );
    return row?.due_in_ms ?? null;
  }
}
