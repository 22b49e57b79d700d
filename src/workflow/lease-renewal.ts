/**
 * Renews a run's lease every `renewEveryMs` while the run executes here.
 *
 * @internal
 * @module
 */
import type { TimerHandle } from '../core/clock.js';
import { toError } from '../core/errors.js';
import { STORE_OPERATION_LABELS as STORE_OP, WORKFLOW_STORE_ERRORS_TOTAL } from './metrics.js';
import type { RunDeps } from './run-support.js';

/** @internal The renewal timer of one run execution. */
export class LeaseRenewal {
  readonly #deps: RunDeps;
  readonly #runId: string;
  readonly #onLost: () => void;
  #timer: TimerHandle | undefined;
  #stopped = false;

  /** `onLost` runs when the store refuses a renewal (another engine holds the run). */
  constructor(deps: RunDeps, runId: string, onLost: () => void) {
    this.#deps = deps;
    this.#runId = runId;
    this.#onLost = onLost;
  }

  /** Arms the next renewal (none once stopped). */
  start(): void {
    if (this.#stopped) return;
    this.#timer = this.#deps.clock.setTimer(this.#deps.renewEveryMs, () => {
      void this.#renew();
    });
    this.#timer.unref();
  }

  /** No more renewals. */
  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
  }

  async #renew(): Promise<void> {
    if (this.#stopped) return;
    const deps = this.#deps;
    try {
      const ok = await deps.store.renewLease(this.#runId, deps.owner, deps.leaseMs);
      if (!ok) this.#onLost();
    } catch (error) {
      // Keep trying: the lease is only lost once another engine claims the run.
      deps.metrics.increment(WORKFLOW_STORE_ERRORS_TOTAL, 1, STORE_OP.renewLease);
      deps.onError(toError(error));
    }
    this.start();
  }
}
