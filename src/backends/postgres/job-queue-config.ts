import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { systemClock, type Clock } from '../../core/clock.js';
import { InvalidArgumentError } from '../../core/errors.js';
import { noopMetrics, type MetricsSink } from '../../core/metrics.js';
import {
  isFunction,
  nonEmptyString,
  nonNegativeInteger,
  positiveInteger,
} from '../../core/validate.js';
import { DEFAULT_SCHEMA, validateSchemaName } from './identifier.js';
import type { PostgresJobQueueOptions } from './job-types.js';

/** Validated, defaulted options of a PostgresJobQueue. @internal */
export interface JobQueueConfig {
  readonly schema: string;
  readonly clock: Clock;
  readonly metrics: MetricsSink;
  readonly onError: (error: Error) => void;
  readonly maxPayloadBytes: number;
  readonly maxAttempts: number;
  readonly leaseMs: number;
  readonly pollIntervalMs: number;
  readonly maintenanceIntervalMs: number;
  readonly completedMs: number;
  readonly deadMs: number;
  readonly backoff: {
    readonly type: 'exponential' | 'fixed';
    readonly delayMs: number;
    readonly maxDelayMs: number;
    readonly jitter: number;
  };
  readonly workerId: string;
  /** Value for `synchronous_commit` in claim/ack/nack/renew transactions. */
  readonly syncCommit: 'on' | 'off';
}

/** The largest 32-bit signed integer (PostgreSQL INTEGER). */
export const INT32_MAX = 2 ** 31 - 1;

/** Validates every option (naming option, expected, got) and fills in defaults. @internal */
export function resolveJobQueueConfig(options: PostgresJobQueueOptions): JobQueueConfig {
  const onError = options.onError;
  if (onError !== undefined) isFunction('onError', onError);
  const backoff = options.backoff ?? {};
  const type: unknown = backoff.type ?? 'exponential';
  if (type !== 'exponential' && type !== 'fixed') {
    throw new InvalidArgumentError(
      `backoff.type: expected 'exponential' or 'fixed', got ${String(type)}`,
    );
  }
  const jitter = backoff.jitter ?? 0.2;
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1)) {
    throw new InvalidArgumentError(
      `backoff.jitter: expected a number from 0 to 1, got ${String(jitter)}`,
    );
  }
  const asyncCommit: unknown = options.asyncCommit ?? true;
  if (typeof asyncCommit !== 'boolean') {
    throw new InvalidArgumentError(`asyncCommit: expected a boolean, got ${typeof asyncCommit}`);
  }
  return {
    schema: validateSchemaName(options.schema ?? DEFAULT_SCHEMA),
    clock: options.clock ?? systemClock,
    metrics: options.metrics ?? noopMetrics,
    onError: (error) => onError?.(error),
    maxPayloadBytes: positiveInteger(
      'maxPayloadBytes',
      options.maxPayloadBytes ?? 1 << 20,
      256 << 20,
    ),
    maxAttempts: positiveInteger('maxAttempts', options.maxAttempts ?? 3, INT32_MAX),
    leaseMs: positiveInteger('leaseMs', options.leaseMs ?? 30_000, 2 ** 31),
    pollIntervalMs: positiveInteger('pollIntervalMs', options.pollIntervalMs ?? 5000),
    maintenanceIntervalMs: positiveInteger(
      'maintenanceIntervalMs',
      options.maintenanceIntervalMs ?? 5000,
    ),
    completedMs: nonNegativeInteger(
      'retention.completedMs',
      options.retention?.completedMs ?? 3_600_000,
    ),
    deadMs: nonNegativeInteger('retention.deadMs', options.retention?.deadMs ?? 604_800_000),
    backoff: {
      type,
      delayMs: nonNegativeInteger('backoff.delayMs', backoff.delayMs ?? 1000),
      maxDelayMs: nonNegativeInteger('backoff.maxDelayMs', backoff.maxDelayMs ?? 3_600_000),
      jitter,
    },
    workerId: nonEmptyString(
      'workerId',
      options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
      200,
    ),
    syncCommit: asyncCommit ? 'off' : 'on',
  };
}
