/**
 * The step writes of one run execution: fenced by the lease (a refused write means the
 * lease is lost), counted while a final write is in flight, never throwing. Written with
 * handlers bound once per run instead of an async function per write: every step makes
 * two writes, and each async frame and closure is garbage.
 *
 * @internal
 * @module
 */
import { STORE_OPERATION_LABELS as STORE_OP, WORKFLOW_STORE_ERRORS_TOTAL } from './metrics.js';
import { storageError, type RunDeps, type Stop } from './run-support.js';
import type { StepRecord } from './types.js';

/** What a write the run no longer makes resolves with. */
const REFUSED = Promise.resolve(false);

/** @internal The step writes of one run. */
export class RunWrites {
  readonly #deps: RunDeps;
  readonly #stop: () => Stop | undefined;
  readonly #halt: (stop: Stop) => void;
  /** Final writes issued but not yet settled, and who waits for them (see drained). */
  #unflushed = 0;
  #drained: (() => void) | undefined;

  /** `stop` reads the run's stop reason; `halt` stops it (lease lost, storage failure). */
  constructor(deps: RunDeps, stop: () => Stop | undefined, halt: (stop: Stop) => void) {
    this.#deps = deps;
    this.#stop = stop;
    this.#halt = halt;
  }

  /** Final writes not yet settled. */
  get unflushed(): number {
    return this.#unflushed;
  }

  /** Settles once every final write has (at once when none is in flight). */
  drained(): Promise<void> {
    if (this.#unflushed === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#drained = resolve;
    });
  }

  /** A fenced step write: resolves true once stored, false when refused or failed. */
  save(record: StepRecord): Promise<boolean> {
    return this.#write(record, false);
  }

  /**
   * Writes a step's final record. With a store that commits in call order the engine
   * does not wait (returns undefined): dependents may start at once, since their own
   * `running` write (which they do await) commits after this one. {@link drained}
   * waits for every such write.
   */
  saveFinal(record: StepRecord): Promise<boolean> | undefined {
    if (this.#deps.store.writesInOrder !== true) return this.save(record);
    this.#unflushed++;
    void this.#write(record, true);
    return undefined;
  }

  /** A `final` write is counted in #unflushed until it settles. */
  #write(record: StepRecord, final: boolean): Promise<boolean> {
    const stop = this.#stop()?.kind;
    if (stop === 'lease-lost' || stop === 'closed' || stop === 'storage') {
      if (final) this.#flushed(false);
      return REFUSED;
    }
    const onFailed = final ? this.#finalFailed : this.#failed;
    let write: Promise<boolean>;
    try {
      write = this.#deps.store.saveStep(this.#deps.owner, record);
    } catch (error) {
      return Promise.resolve(onFailed(error));
    }
    return write.then(final ? this.#finalSaved : this.#saved, onFailed);
  }

  readonly #saved = (saved: boolean): boolean => {
    if (saved) return true;
    this.#halt({ kind: 'lease-lost' });
    return false;
  };

  readonly #failed = (error: unknown): boolean => {
    this.#deps.metrics.increment(WORKFLOW_STORE_ERRORS_TOTAL, 1, STORE_OP.saveStep);
    this.#halt({ kind: 'storage', error: storageError('saveStep', error) });
    return false;
  };

  readonly #finalSaved = (saved: boolean): boolean => this.#flushed(this.#saved(saved));

  readonly #finalFailed = (error: unknown): boolean => this.#flushed(this.#failed(error));

  /** A final write settled: wakes the drain waiter after the last one. */
  #flushed(saved: boolean): boolean {
    if (--this.#unflushed === 0) {
      const drained = this.#drained;
      this.#drained = undefined;
      drained?.();
    }
    return saved;
  }
}
