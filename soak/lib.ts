// Shared pieces of the soak run: the workload contract, an id ledger that proves
// exactly-once delivery with bounded memory, and small pacing helpers.
import { setTimeout as delay } from 'node:timers/promises';

/** What every workload reports once it has stopped, drained and verified itself. */
export interface WorkloadReport {
  /** Named counters for the summary (produced, consumed, retried, ...). */
  readonly counts: Record<string, number>;
  /** The headline figure: how many units of work completed. */
  readonly ops: number;
  /** Unit of `ops`, e.g. 'msg' or 'jobs'. */
  readonly unit: string;
  /** Invariant violations and losses; empty when the workload is healthy. */
  readonly failures: readonly string[];
}

/** A running workload: `stop()` ends production, drains what is in flight and verifies. */
export interface Workload {
  readonly name: string;
  stop(): Promise<WorkloadReport>;
}

/** Passed to every workload factory. */
export interface SoakContext {
  /** Aborted when the measured period ends: producers stop, consumers drain. */
  readonly signal: AbortSignal;
  /** Keeps `value` alive forever when the run injects a leak (--inject-leak); no-op otherwise. */
  readonly retain: (value: unknown) => void;
  /** Records an invariant violation seen while running (kept bounded). */
  readonly fail: (message: string) => void;
  /** Unique per run: used for Redis prefixes, PostgreSQL schemas and temp paths. */
  readonly runId: string;
  readonly redisUrl: string;
  readonly databaseUrl: string;
}

/** Sleeps without throwing on abort (resolves early instead). */
export async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted === true) return;
  try {
    await delay(ms, undefined, signal === undefined ? {} : { signal });
  } catch {
    // aborted: the caller checks its signal
  }
}

/** Yields to the event loop (lets I/O callbacks and other workloads run). */
export function yieldNow(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Proves that every issued id settles exactly once, in memory proportional to the ids in
 * flight: settled ids above the low watermark are kept in a set, and the watermark moves
 * up as the settled prefix becomes contiguous.
 */
export class IdLedger {
  #next = 0;
  #low = 0;
  readonly #settled = new Set<number>();
  duplicates = 0;
  unknown = 0;

  /** Hands out the next id. */
  issue(): number {
    return this.#next++;
  }

  /** Marks an id as settled; returns false (and counts it) for a duplicate or unknown id. */
  settle(id: number): boolean {
    if (!Number.isInteger(id) || id < 0 || id >= this.#next) {
      this.unknown++;
      return false;
    }
    if (id < this.#low || this.#settled.has(id)) {
      this.duplicates++;
      return false;
    }
    this.#settled.add(id);
    while (this.#settled.delete(this.#low)) this.#low++;
    return true;
  }

  get issued(): number {
    return this.#next;
  }

  /** Ids issued and not settled. */
  get outstanding(): number {
    return this.#next - this.#low - this.#settled.size;
  }

  /** Up to `limit` ids that never settled, lowest first. */
  missing(limit = 5): number[] {
    const out: number[] = [];
    for (let id = this.#low; id < this.#next && out.length < limit; id++) {
      if (!this.#settled.has(id)) out.push(id);
    }
    return out;
  }

  /** Failure messages for lost, duplicated or unknown ids (empty when exact). */
  verify(what: string): string[] {
    const failures: string[] = [];
    if (this.outstanding > 0) {
      failures.push(
        `${what}: ${this.outstanding} of ${this.issued} never settled (lost), e.g. ids ${this.missing().join(', ')}`,
      );
    }
    if (this.duplicates > 0) failures.push(`${what}: ${this.duplicates} settled twice`);
    if (this.unknown > 0) failures.push(`${what}: ${this.unknown} settlements of unknown ids`);
    return failures;
  }
}

/** A counting semaphore for closed-loop producers: at most `limit` operations in flight. */
export class Window {
  #inFlight = 0;
  readonly #waiters: (() => void)[] = [];
  constructor(readonly limit: number) {}

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Resolves once a slot is free (never rejects). */
  async acquire(): Promise<void> {
    while (this.#inFlight >= this.limit) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    this.#inFlight++;
  }

  release(): void {
    this.#inFlight--;
    this.#waiters.shift()?.();
  }

  /** Resolves once nothing is in flight, or after `timeoutMs` (returns false then). */
  async drained(timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (this.#inFlight > 0) {
      if (performance.now() > deadline) return false;
      await pause(10);
    }
    return true;
  }
}

/** Waits until `condition()` holds, polling every 10 ms; false after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) return false;
    await pause(10);
  }
  return true;
}

/**
 * Runs `tick` about `perSecond` times a second until `signal` aborts, in steps of 10 ms
 * (so a slow machine runs fewer ticks instead of building a backlog).
 */
export async function paced(
  signal: AbortSignal,
  perSecond: number,
  tick: () => Promise<void> | void,
): Promise<void> {
  const stepMs = 10;
  const start = performance.now();
  let done = 0;
  while (!signal.aborted) {
    const due = Math.floor(((performance.now() - start) / 1000) * perSecond);
    // Never catch up more than one step's worth after a stall: no bursts, no backlog.
    const batch = Math.min(due - done, Math.ceil((perSecond * stepMs) / 1000));
    for (let i = 0; i < batch && !signal.aborted; i++) await tick();
    done = Math.max(done + batch, due - Math.ceil((perSecond * stepMs) / 1000));
    await pause(stepMs, signal);
  }
}

/** Error text for reports. */
export function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
