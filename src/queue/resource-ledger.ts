import { InvalidArgumentError } from '../core/errors.js';
import { describeValue } from '../core/validate.js';
import type { ResourcePool, ResourceReq } from './types.js';

/** A pool with no limit: every job fits. */
export const UNLIMITED_POOL: ResourcePool = Object.freeze({
  gpuCount: Number.POSITIVE_INFINITY,
  vramMb: Number.POSITIVE_INFINITY,
});

function badResources(name: string, field: string, value: unknown, expected: string): never {
  throw new InvalidArgumentError(
    `${name}.${field}: expected ${expected}, got ${describeValue(value)}`,
    { code: 'ERR_QUEUE_INVALID_RESOURCES', details: { option: `${name}.${field}` } },
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * Validates a resource request: an object with non-negative safe-integer `gpuCount` and
 * `vramMb`. Returns a frozen copy.
 *
 * @throws InvalidArgumentError `ERR_QUEUE_INVALID_RESOURCES`.
 */
export function parseResourceReq(value: unknown, name = 'resources'): ResourceReq {
  if (!isObject(value)) badResources(name, '', value, 'an object { gpuCount, vramMb }');
  const out: Record<'gpuCount' | 'vramMb', number> = { gpuCount: 0, vramMb: 0 };
  for (const field of ['gpuCount', 'vramMb'] as const) {
    const v = value[field];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      badResources(name, field, v, 'a non-negative integer');
    }
    out[field] = v;
  }
  return Object.freeze(out);
}

/**
 * Validates a pool: like a request, but each field may also be `Infinity` (unlimited).
 *
 * @throws InvalidArgumentError `ERR_QUEUE_INVALID_RESOURCES`.
 */
export function parseResourcePool(value: unknown, name = 'pool'): ResourcePool {
  if (!isObject(value)) badResources(name, '', value, 'an object { gpuCount, vramMb }');
  const out: Record<'gpuCount' | 'vramMb', number> = { gpuCount: 0, vramMb: 0 };
  for (const field of ['gpuCount', 'vramMb'] as const) {
    const v = value[field];
    if (v === undefined) continue;
    const ok =
      typeof v === 'number' &&
      v >= 0 &&
      (Number.isSafeInteger(v) || v === Number.POSITIVE_INFINITY);
    if (!ok) badResources(name, field, v, 'a non-negative integer or Infinity');
    out[field] = v;
  }
  return Object.freeze(out);
}

/**
 * True when `pool` has room for `req`: enough GPUs **and** enough aggregate VRAM. A job
 * without a request (`undefined`) always fits, as does a zero request.
 */
export function poolSatisfies(pool: ResourcePool, req: ResourceReq | undefined): boolean {
  if (req === undefined) return true;
  return pool.gpuCount >= req.gpuCount && pool.vramMb >= req.vramMb;
}

/**
 * Tracks what running jobs hold against a fixed total capacity, so a queue can dequeue
 * against "what is free now" without the caller computing it. `ManagedQueue` keeps one
 * when given the `capacity` option: it acquires on dequeue and releases when the job
 * leaves `running`.
 *
 * The ledger never refuses an acquire (a caller may have dequeued against a pool of its
 * own); {@link ResourceLedger.free} then reports zero rather than a negative amount.
 * Its size is bounded by the number of running jobs.
 *
 * @example
 * ```ts
 * const ledger = new ResourceLedger({ gpuCount: 4, vramMb: 96_000 });
 * ledger.acquire('job-1', { gpuCount: 1, vramMb: 24_000 });
 * ledger.free(); // { gpuCount: 3, vramMb: 72000 }
 * ledger.release('job-1');
 * ```
 */
export class ResourceLedger {
  /** The total capacity. */
  readonly capacity: ResourcePool;
  readonly #held = new Map<string, ResourceReq>();
  #gpu = 0;
  #vram = 0;

  /** @throws InvalidArgumentError `ERR_QUEUE_INVALID_RESOURCES` for a bad capacity. */
  constructor(capacity: ResourcePool) {
    this.capacity = parseResourcePool(capacity, 'capacity');
  }

  /** Resources currently held by running jobs. */
  get used(): ResourceReq {
    return { gpuCount: this.#gpu, vramMb: this.#vram };
  }

  /** Number of holders. */
  get size(): number {
    return this.#held.size;
  }

  /** What is free: capacity minus what is held, never below zero. */
  free(): ResourcePool {
    return {
      gpuCount: Math.max(0, this.capacity.gpuCount - this.#gpu),
      vramMb: Math.max(0, this.capacity.vramMb - this.#vram),
    };
  }

  /** True when `req` fits in what is free now. */
  fits(req: ResourceReq | undefined): boolean {
    return poolSatisfies(this.free(), req);
  }

  /** What `id` holds, if anything. */
  heldBy(id: string): ResourceReq | undefined {
    return this.#held.get(id);
  }

  /**
   * Records that `id` holds `req`. A holder without a request (undefined or zero) is
   * not recorded. Acquiring twice for one id replaces the earlier amount.
   */
  acquire(id: string, req: ResourceReq | undefined): void {
    this.release(id);
    if (req === undefined || (req.gpuCount === 0 && req.vramMb === 0)) return;
    this.#held.set(id, req);
    this.#gpu += req.gpuCount;
    this.#vram += req.vramMb;
  }

  /** Frees what `id` holds; returns false when it held nothing. */
  release(id: string): boolean {
    const req = this.#held.get(id);
    if (req === undefined) return false;
    this.#held.delete(id);
    this.#gpu -= req.gpuCount;
    this.#vram -= req.vramMb;
    return true;
  }
}
