import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { waitFor, type TimedWaitOptions } from '../../core/abort.js';
import { systemClock, type Clock } from '../../core/clock.js';
import { DEFAULT_MAX_BYTES, decodeJson, encodeJson } from '../../core/codec.js';
import { CapacityExceededError, toError } from '../../core/errors.js';
import { Lifecycle, type Closeable } from '../../core/lifecycle.js';
import { noopMetrics, type MetricsSink } from '../../core/metrics.js';
import {
  integerInRange,
  isFunction,
  nonEmptyString,
  nonNegativeInteger,
  positiveInteger,
} from '../../core/validate.js';
import { Batcher } from './batcher.js';
import {
  ensureReady,
  releaseClient,
  resolveClient,
  wrapRedisError,
  type RedisConnectionInput,
  type ResolvedClient,
} from './connection.js';
import { baseKey } from './keys.js';
import * as m from './metrics.js';
import { BlockingClaimer, type ClaimResult } from './queue-claimer.js';
import {
  MAX_REDIS_QUEUE_PRIORITY,
  type RedisDeadLetter,
  type RedisJob,
  type RedisNackOutcome,
  type RedisQueueOptions,
  type RedisQueueStats,
} from './queue-types.js';
import { loadScripts, LuaScript } from './script.js';

const SCRIPTS = {
  enqueue: new LuaScript('queue-enqueue'),
  dequeue: new LuaScript('queue-dequeue'),
  ack: new LuaScript('queue-ack'),
  nack: new LuaScript('queue-nack'),
  extend: new LuaScript('queue-extend'),
  dead: new LuaScript('queue-dead'),
} as const;

const SUFFIXES = [
  'ready',
  'active',
  'delayed',
  'data',
  'meta',
  'att',
  'dead',
  'err',
  'notify',
  'seq',
] as const;

const SCORE_PRIORITY_UNIT = 2 ** 44;
const MAX_ERROR_TEXT = 1024;

type EnqueueItem = readonly [id: string, priority: number, payload: Buffer];

/**
 * A reliable priority queue in Redis with at-least-once delivery.
 *
 * Higher priorities first, FIFO within a priority; every job has an id, so identical
 * payloads stay separate jobs. `dequeue` claims a job under a lease (visibility
 * timeout); `ack` deletes it, `nack` requeues, delays or dead-letters it; a job whose
 * consumer died is reclaimed when its lease expires and redelivered with its attempt
 * count, and dead-lettered after `maxAttempts` deliveries. Every state change is one
 * Lua script. `dequeueWait` blocks on a dedicated connection (no polling). Calls made
 * concurrently are coalesced into one script call.
 *
 * @example
 * ```ts
 * const queue = await connectRedisQueue('redis://127.0.0.1:6379', 'emails');
 * await queue.enqueue({ to: 'a@example.com' }, { priority: 5 });
 * const job = await queue.dequeueWait({ signal });
 * await send(job.payload);
 * await queue.ack(job);
 * ```
 */
export class RedisQueue<T = unknown> implements Closeable {
  /** The base key; the queue's keys are `<key>:<suffix>`. */
  readonly key: string;
  readonly #resolved: ResolvedClient;
  readonly #client: Redis;
  readonly #keys: readonly string[];
  readonly #life = new Lifecycle('RedisQueue');
  readonly #visibilityMs: number;
  readonly #maxAttempts: number;
  readonly #maxJobs: number;
  readonly #maxDead: number;
  readonly #maxPayloadBytes: number;
  readonly #defaultPriority: number;
  readonly #metrics: MetricsSink;
  readonly #clock: Clock;
  readonly #idPrefix = `${randomBytes(6).toString('base64url')}.`;
  #idCounter = 0;
  readonly #enqueue: Batcher<EnqueueItem, number>;
  readonly #ack: Batcher<readonly [string, number], number>;
  readonly #dequeue: Batcher<null, RedisJob<T> | undefined>;
  readonly #claimer: BlockingClaimer<RedisJob<T>>;

  /** Wraps a client (not owned) or a URL (owned). Does no I/O; see {@link connectRedisQueue}. */
  constructor(redis: RedisConnectionInput, name: string, options: RedisQueueOptions = {}) {
    this.key = baseKey(options, 'queue', name);
    this.#visibilityMs = positiveInteger(
      'visibilityTimeoutMs',
      options.visibilityTimeoutMs ?? 30_000,
    );
    this.#maxAttempts = positiveInteger('maxAttempts', options.maxAttempts ?? 5, 1_000_000);
    this.#maxJobs = positiveInteger('maxJobs', options.maxJobs ?? 1_000_000);
    this.#maxDead = nonNegativeInteger('maxDeadLetters', options.maxDeadLetters ?? 10_000);
    this.#maxPayloadBytes = positiveInteger(
      'maxPayloadBytes',
      options.maxPayloadBytes ?? DEFAULT_MAX_BYTES,
      512 * 1024 * 1024,
    );
    const maxBatch = positiveInteger('maxBatchSize', options.maxBatchSize ?? 256, 10_000);
    const maxBlockMs = positiveInteger('maxBlockMs', options.maxBlockMs ?? 5000, 3_600_000);
    this.#defaultPriority = integerInRange(
      'defaultPriority',
      options.defaultPriority ?? 2,
      0,
      MAX_REDIS_QUEUE_PRIORITY,
    );
    if (options.onError !== undefined) isFunction('onError', options.onError);
    this.#metrics = options.metrics ?? noopMetrics;
    this.#clock = options.clock ?? systemClock;
    this.#resolved = resolveClient(redis);
    this.#client = this.#resolved.client;
    this.#keys = SUFFIXES.map((suffix) => `${this.key}:${suffix}`);

    this.#enqueue = new Batcher((items) => this.#runEnqueue(items), {
      maxItems: maxBatch,
      maxBytes: 4 * 1024 * 1024,
      sizeOf: (item) => item[2].byteLength,
    });
    this.#ack = new Batcher((items) => this.#runAck(items), { maxItems: maxBatch });
    this.#dequeue = new Batcher(
      async (items) => {
        const result = await this.#claim(items.length);
        return items.map((_, i) => result.jobs[i]);
      },
      { maxItems: maxBatch },
    );
    const onError = options.onError;
    this.#claimer = new BlockingClaimer<RedisJob<T>>({
      client: this.#client,
      notifyKey: this.#keys[8] ?? '',
      claim: (count) => this.#claim(count),
      release: (job) => this.#nackOne(job, -2, ''),
      maxBlockMs,
      clock: this.#clock,
      onError: (error) => {
        this.#metrics.increment(m.redisBackgroundErrors, 1, { component: 'queue' });
        onError?.(error);
      },
    });
  }

  /** Resolves once closed. */
  get closed(): Promise<void> {
    return this.#life.closed;
  }

  /** True once `close()` was called. */
  get isClosed(): boolean {
    return this.#life.isClosed;
  }

  /** Connects (for a URL) and loads the scripts. Rejects with `ERR_REDIS_UNREACHABLE`. */
  async ready(): Promise<this> {
    this.#life.assertOpen('connect');
    await ensureReady(this.#resolved);
    await loadScripts(this.#client, Object.values(SCRIPTS));
    return this;
  }

  /**
   * Adds a job and resolves with its id once Redis has stored it. Enqueueing an id that
   * is already in the queue does nothing (idempotent retries).
   *
   * @throws InvalidArgumentError for a bad priority/id or an unserialisable payload;
   *   CapacityExceededError (`ERR_REDIS_QUEUE_FULL`) when `maxJobs` live jobs exist.
   */
  async enqueue(payload: T, options: { priority?: number; id?: string } = {}): Promise<string> {
    this.#life.assertOpen('enqueue');
    const priority = integerInRange(
      'priority',
      options.priority ?? this.#defaultPriority,
      0,
      MAX_REDIS_QUEUE_PRIORITY,
    );
    const id =
      options.id === undefined
        ? this.#idPrefix + (this.#idCounter++).toString(36)
        : nonEmptyString('id', options.id, 1024);
    const bytes = encodeJson(payload, this.#maxPayloadBytes);
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const status = await this.#enqueue.add([id, priority, buffer]);
    if (status === -1) {
      throw new CapacityExceededError(`RedisQueue ${this.key} is full (${this.#maxJobs} jobs)`, {
        code: 'ERR_REDIS_QUEUE_FULL',
        details: { maxJobs: this.#maxJobs },
      });
    }
    if (status === 1) this.#metrics.increment(m.redisQueueEnqueued);
    return id;
  }

  /** Claims the next job without waiting, or resolves undefined when none is ready. */
  async dequeue(): Promise<RedisJob<T> | undefined> {
    this.#life.assertOpen('dequeue');
    return this.#dequeue.add(null);
  }

  /**
   * Claims the next job, waiting until one is ready. Waiting costs no polling: one
   * blocked connection per queue object serves every waiter and wakes on enqueue, on
   * requeue, and when the next lease expires or delayed job falls due.
   */
  dequeueWait(options: TimedWaitOptions = {}): Promise<RedisJob<T>> {
    this.#life.assertOpen('dequeueWait');
    return waitFor<RedisJob<T>>((resolve, reject) => this.#claimer.wait(resolve, reject), {
      signal: options.signal,
      timeoutMs: options.timeoutMs,
      clock: this.#clock,
      what: 'RedisQueue.dequeueWait',
    });
  }

  /** Deletes a finished job. False when the lease was lost (the job may run again elsewhere). */
  async ack(job: RedisJob<T>): Promise<boolean> {
    this.#life.assertOpen('ack');
    const status = await this.#ack.add([job.id, job.attempt]);
    if (status === 1) this.#metrics.increment(m.redisQueueAcked);
    else this.#metrics.increment(m.redisQueueLeaseLost);
    return status === 1;
  }

  /**
   * Gives a job back after a failure: requeued at its original position, or after
   * `delayMs`, or dead-lettered when this was delivery `maxAttempts` or `deadLetter` is set.
   */
  async nack(
    job: RedisJob<T>,
    options: { error?: unknown; delayMs?: number; deadLetter?: boolean } = {},
  ): Promise<RedisNackOutcome> {
    this.#life.assertOpen('nack');
    const delay =
      options.deadLetter === true ? -1 : nonNegativeInteger('delayMs', options.delayMs ?? 0);
    const text = options.error === undefined ? '' : toError(options.error).message;
    const outcome = await this.#nackOne(job, delay, text.slice(0, MAX_ERROR_TEXT));
    if (outcome === 'lease-lost') this.#metrics.increment(m.redisQueueLeaseLost);
    else {
      this.#metrics.increment(m.redisQueueNacked, 1, { outcome });
      if (outcome === 'dead') this.#metrics.increment(m.redisQueueDeadLettered);
    }
    return outcome;
  }

  /** Extends the lease of a held job. False when it was already lost. */
  async extend(job: RedisJob<T>, options: { visibilityTimeoutMs?: number } = {}): Promise<boolean> {
    this.#life.assertOpen('extend');
    const ms = positiveInteger(
      'visibilityTimeoutMs',
      options.visibilityTimeoutMs ?? this.#visibilityMs,
    );
    const result = await this.#script(SCRIPTS.extend, [ms, job.id, job.attempt], 'extend');
    return Array.isArray(result) && result[0] === 1;
  }

  /** Counts of jobs by state (one MULTI). */
  async stats(): Promise<RedisQueueStats> {
    this.#life.assertOpen('stats');
    const [ready, active, delayed, dead] = [0, 1, 2, 6].map((i) => this.#keys[i] ?? '');
    try {
      const replies = await this.#client
        .multi()
        .zcard(ready ?? '')
        .zcard(active ?? '')
        .zcard(delayed ?? '')
        .zcard(dead ?? '')
        .exec();
      const n = (i: number): number => Number(replies?.[i]?.[1] ?? 0);
      return { ready: n(0), active: n(1), delayed: n(2), dead: n(3) };
    } catch (error) {
      throw wrapRedisError(error, 'stats');
    }
  }

  /** Live jobs: ready + active + delayed. */
  async size(): Promise<number> {
    const s = await this.stats();
    return s.ready + s.active + s.delayed;
  }

  /** The oldest dead-lettered jobs (at most `limit`). */
  async deadLetters(options: { limit?: number } = {}): Promise<RedisDeadLetter[]> {
    this.#life.assertOpen('deadLetters');
    const limit = positiveInteger('limit', options.limit ?? 100, 100_000);
    const reply = await this.#script(SCRIPTS.dead, ['list', limit], 'deadLetters');
    const flat = Array.isArray(reply) ? (reply as unknown[]) : [];
    const out: RedisDeadLetter[] = [];
    for (let i = 0; i + 4 < flat.length; i += 5) {
      out.push({
        id: String(flat[i]),
        payloadJson: String(flat[i + 1]),
        attempts: Number(flat[i + 2]),
        error: String(flat[i + 3]),
        deadAtMs: Number(flat[i + 4]),
      });
    }
    return out;
  }

  /** Moves dead-lettered jobs back to ready with their attempt count reset. */
  async retryDead(ids: readonly string[]): Promise<number> {
    this.#life.assertOpen('retryDead');
    if (ids.length === 0) return 0;
    for (const id of ids) nonEmptyString('id', id, 1024);
    const reply = await this.#script(SCRIPTS.dead, ['retry', 0, ...ids], 'retryDead');
    return Array.isArray(reply) ? reply.filter((v) => v === 1).length : 0;
  }

  /** Deletes every job of this queue (ready, active, delayed, dead) in one DEL. */
  async clear(): Promise<void> {
    this.#life.assertOpen('clear');
    try {
      await this.#client.del(...this.#keys);
    } catch (error) {
      throw wrapRedisError(error, 'clear');
    }
  }

  /** Rejects pending waits, closes the blocking connection and an owned client. */
  close(): Promise<void> {
    return this.#life.close(async () => {
      await this.#claimer.close();
      await releaseClient(this.#resolved);
    });
  }

  /** Same as `close()`, so `await using queue = ...` closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #script(script: LuaScript, args: readonly (string | number | Buffer)[], op: string) {
    try {
      return await script.run(this.#client, this.#keys, args);
    } catch (error) {
      throw wrapRedisError(error, op);
    }
  }

  async #runEnqueue(items: readonly EnqueueItem[]): Promise<number[]> {
    const args: (string | number | Buffer)[] = [this.#maxJobs, 64];
    for (const [id, priority, payload] of items) args.push(id, priority, payload);
    const reply = await this.#script(SCRIPTS.enqueue, args, 'enqueue');
    return Array.isArray(reply) ? reply.map(Number) : [];
  }

  async #runAck(items: readonly (readonly [string, number])[]): Promise<number[]> {
    const args: (string | number)[] = [];
    for (const [id, attempt] of items) args.push(id, attempt);
    const reply = await this.#script(SCRIPTS.ack, args, 'ack');
    return Array.isArray(reply) ? reply.map(Number) : [];
  }

  async #nackOne(job: RedisJob<T>, delay: number, error: string): Promise<RedisNackOutcome> {
    const reply = await this.#script(
      SCRIPTS.nack,
      [this.#maxAttempts, this.#maxDead, 64, job.id, job.attempt, delay, error],
      'nack',
    );
    const code = Array.isArray(reply) ? Number(reply[0]) : 0;
    return code === 1 ? 'requeued' : code === 2 ? 'delayed' : code === 3 ? 'dead' : 'lease-lost';
  }

  async #claim(count: number): Promise<ClaimResult<RedisJob<T>>> {
    const reply = await this.#script(
      SCRIPTS.dequeue,
      [count, this.#visibilityMs, this.#maxAttempts, 1000, this.#maxDead, 64],
      'dequeue',
    );
    const flat = Array.isArray(reply) ? (reply as unknown[]) : [];
    const reclaimed = Number(flat[0] ?? 0);
    const dead = Number(flat[1] ?? 0);
    if (reclaimed > 0) this.#metrics.increment(m.redisQueueReclaimed, reclaimed);
    if (dead > 0) this.#metrics.increment(m.redisQueueDeadLettered, dead);
    const jobs: RedisJob<T>[] = [];
    for (let i = 3; i + 3 < flat.length; i += 4) {
      const id = String(flat[i]);
      const attempt = Number(flat[i + 2]);
      const score = Number(flat[i + 3]);
      let payload: T;
      try {
        payload = decodeJson(String(flat[i + 1]), this.#maxPayloadBytes) as T;
      } catch (error) {
        // A value majra did not write: park it in the dead-letter set rather than lose it.
        await this.#nackOne(
          { id, attempt, priority: 0, payload: undefined as T },
          -1,
          'malformed payload',
        );
        this.#metrics.increment(m.redisQueueDeadLettered);
        this.#claimer.report(wrapRedisError(error, 'decode payload'));
        continue;
      }
      const priority = MAX_REDIS_QUEUE_PRIORITY - Math.floor(score / SCORE_PRIORITY_UNIT);
      jobs.push({ id, payload, priority, attempt });
    }
    if (jobs.length > 0) this.#metrics.increment(m.redisQueueDelivered, jobs.length);
    return { jobs, waitHintMs: Number(flat[2] ?? 0) };
  }
}

/**
 * Creates a {@link RedisQueue} and resolves once the server answers and the scripts are
 * loaded. With a URL the queue owns its connection and closes it on `close()`.
 */
export async function connectRedisQueue<T = unknown>(
  redis: RedisConnectionInput,
  name: string,
  options: RedisQueueOptions = {},
): Promise<RedisQueue<T>> {
  const queue = new RedisQueue<T>(redis, name, options);
  try {
    return await queue.ready();
  } catch (error) {
    await queue.close();
    throw error;
  }
}
