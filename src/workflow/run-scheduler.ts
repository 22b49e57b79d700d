/**
 * The scheduler of one run execution: decides when each step's trigger is met, starts
 * ready steps (at most `maxParallelSteps` at a time), and resolves once every step has
 * settled. Driven by step completions (settled() pumps at once): no wake-up promise per
 * step, and no race over every in-flight promise (quadratic for wide workflows).
 *
 * @internal
 * @module
 */
import type { Clock } from '../core/clock.js';
import type { ValidatedWorkflow } from './dag.js';
import { evaluate, stepOf } from './run-steps.js';
import type { StepResult } from './step-context.js';

const NONE: readonly string[] = [];

/** What the scheduler asks of the run execution. */
export interface SchedulerHooks {
  /** Whether the run stopped: no more steps start. */
  stopped(): boolean;
  /**
   * Starts step `id`, which was ready at `now` / `mono` (wall / monotonic clock); it
   * calls {@link StepScheduler.settled} once its final record is written. Must not throw.
   */
  start(id: string, now: number, mono: number): void;
  /** Records an unreachable `any` step as skipped: a promise when the write is awaited. */
  skip(id: string): Promise<void> | undefined;
}

/** @internal The step scheduler of one run. */
export class StepScheduler {
  readonly #wf: ValidatedWorkflow;
  readonly #results: ReadonlyMap<string, StepResult>;
  readonly #clock: Clock;
  readonly #maxParallel: number;
  readonly #hooks: SchedulerHooks;
  /**
   * Steps not decided yet (1 at their definition index: no hashing, and no table that
   * shrinks as steps leave), ready (from #readyAt on), executing.
   */
  readonly #waiting: Uint8Array;
  readonly #ready: string[] = [];
  #readyAt = 0;
  #running = 0;
  /**
   * Wall and monotonic time of the step completion being processed (#finishedNow is -1
   * when none): the dependents it unblocks start in the same synchronous turn, so they
   * take these times as their start instead of reading the clock again.
   */
  #finishedNow = -1;
  #finishedMono = 0;
  /** Settles run(). */
  #idle: { resolve: () => void; reject: (error: unknown) => void } | undefined;

  /** `results`: the run's step results, read to decide triggers. */
  constructor(
    wf: ValidatedWorkflow,
    results: ReadonlyMap<string, StepResult>,
    clock: Clock,
    maxParallel: number,
    hooks: SchedulerHooks,
  ) {
    this.#wf = wf;
    this.#results = results;
    this.#clock = clock;
    this.#maxParallel = maxParallel;
    this.#hooks = hooks;
    this.#waiting = new Uint8Array(wf.steps.size);
  }

  /** Runs every remaining step as its trigger is met; resolves once all have settled. */
  run(): Promise<void> {
    const candidates: string[] = [];
    for (const step of this.#wf.steps.values()) {
      if (step.isFallback || this.#results.has(step.id)) continue;
      this.#waiting[step.index] = 1;
      candidates.push(step.id);
    }
    return new Promise<void>((resolve, reject) => {
      this.#idle = { resolve, reject };
      this.#pump(candidates);
    });
  }

  /**
   * A step finished (whatever its outcome): the scheduler looks at its dependents.
   * `now` / `mono`: when it finished, if that was read in this synchronous turn, else -1.
   */
  settled(id: string, now = -1, mono = 0): void {
    this.#running--;
    this.#finishedNow = now;
    this.#finishedMono = mono;
    try {
      this.#pump(stepOf(this.#wf, id).dependents);
    } finally {
      this.#finishedNow = -1;
    }
  }

  /** Decides `candidates` (and what their skips unblock), then starts ready steps. */
  #pump(candidates: readonly string[]): void {
    const idle = this.#idle;
    if (idle === undefined) return;
    const hooks = this.#hooks;
    try {
      let list = candidates;
      while (list.length > 0 && !hooks.stopped()) {
        let next: string[] | undefined;
        for (const id of list) {
          const step = stepOf(this.#wf, id);
          if (this.#waiting[step.index] !== 1) continue;
          const decision = evaluate(step, this.#results);
          if (decision === 'wait') continue;
          this.#waiting[step.index] = 0;
          if (decision === 'run') {
            this.#ready.push(id);
            continue;
          }
          const skipping = hooks.skip(id);
          if (skipping === undefined) {
            next ??= [];
            for (const dependent of step.dependents) next.push(dependent);
          } else {
            // Its dependents are looked at once the skip is written, like a step's.
            this.#running++;
            skipping.then(
              () => this.settled(id),
              (error: unknown) => idle.reject(error),
            );
          }
        }
        list = next ?? NONE;
      }
      const ready = this.#ready;
      // Steps started in one turn share one reading of each clock.
      let now = this.#finishedNow;
      let mono = this.#finishedMono;
      while (
        !hooks.stopped() &&
        this.#readyAt < ready.length &&
        this.#running < this.#maxParallel
      ) {
        if (now < 0) {
          now = this.#clock.now();
          mono = this.#clock.monotonic();
        }
        this.#running++;
        hooks.start(ready[this.#readyAt++] as string, now, mono);
      }
      if (this.#running > 0) return;
    } catch (error) {
      idle.reject(error);
    }
    this.#idle = undefined;
    idle.resolve();
  }
}
