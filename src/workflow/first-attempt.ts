/**
 * The first attempt of a step that has no queue gate and no timeout (most steps), driven
 * by callbacks instead of the async {@link runAttempts}: each step otherwise costs two
 * async frames, three awaits and a race promise, a large share of the engine's
 * allocations. It does what runAttempts does for one attempt (abort checks, the
 * `running` write and event, the running-steps gauge, the executor raced against the run's
 * abort, the result's JSON check) and hands a failure to runAttempts, which goes on with
 * the retries as if it had made the attempt itself.
 *
 * @internal
 * @module
 */
import type { JsonValue } from '../core/codec.js';
import type { ResolvedStep } from './dag.js';
import { WORKFLOW_STEPS_RUNNING } from './metrics.js';
import { isThenable, type AbortLink } from './run-abort.js';
import { AttemptContext } from './attempt-context.js';
import { toStoredJson } from './step-attempt.js';
import type { AttemptRun } from './step-attempts.js';
import type { StepExecutor, StepResult } from './step-context.js';

/** Where the outcome of a {@link FirstAttempt} goes. */
export interface FirstAttemptSink {
  /**
   * The attempt's outcome: `completed` (with `attempt.output`), `aborted`, or `failed`
   * when it threw (`attempt.error`; the step's retries and error policy still apply).
   * Must not throw.
   */
  attempted(attempt: FirstAttempt, outcome: 'completed' | 'aborted' | 'failed'): void;
}

/** @internal One first attempt of one step. */
export class FirstAttempt implements AbortLink {
  readonly step: ResolvedStep;
  readonly results: Readonly<Record<string, StepResult>>;
  readonly attempt: number;
  /** Wall and monotonic clocks when the step started. */
  readonly startedAt: number;
  readonly mono: number;
  /** What the attempt threw (when the sink got no outcome). */
  error: unknown;
  /** The stored result (once `completed`). */
  output: JsonValue = null;
  readonly #run: AttemptRun;
  readonly #sink: FirstAttemptSink;
  /** Set once the executor's result, failure or the run's abort decided the attempt. */
  #done = false;
  /** @internal The run's abort list (see RunAbort.link). */
  prevLink: AbortLink | undefined;
  /** @internal */
  nextLink: AbortLink | undefined;

  constructor(
    run: AttemptRun,
    sink: FirstAttemptSink,
    step: ResolvedStep,
    results: Readonly<Record<string, StepResult>>,
    attempt: number,
    startedAt: number,
    mono: number,
  ) {
    this.#run = run;
    this.#sink = sink;
    this.step = step;
    this.results = results;
    this.attempt = attempt;
    this.startedAt = startedAt;
    this.mono = mono;
  }

  /**
   * Makes the attempt once `write` (the step's `running` record; undefined when the
   * store already holds it) resolves true; a refused write aborts it. The run must not
   * have aborted yet (runAttempts makes no write then).
   */
  start(write: Promise<boolean> | undefined): void {
    if (write === undefined) this.#call();
    // The write never rejects (RunWrites reports failures as false).
    else void write.then((saved) => (saved ? this.#call() : this.#aborted(false)));
  }

  #call(): void {
    const run = this.#run;
    const abort = run.abort;
    if (abort.isAborted()) {
      this.#aborted(false);
      return;
    }
    const { deps } = run;
    const id = this.step.id;
    run.emitStep(id, 'running', this.attempt);
    const running = deps.stepsRunning;
    running.value++;
    let value: unknown;
    try {
      // Inside the attempt, as in runAttempts: a throwing metrics sink fails the attempt.
      deps.metrics.set(WORKFLOW_STEPS_RUNNING, running.value);
      // Every step has an executor: register() checks it.
      const executor = run.executors.get(id) as StepExecutor;
      value = executor(new AttemptContext(run, id, this.results, this.attempt, undefined, abort));
    } catch (error) {
      this.#failed(error);
      return;
    }
    if (!isThenable(value)) {
      this.#value(value);
      return;
    }
    // Stop waiting the moment the run aborts: a late result is ignored.
    if (!abort.link(this)) {
      // The executor aborted the run itself (cancel from inside the step).
      this.runAborted();
      return;
    }
    void Promise.resolve(value).then(
      (result) => {
        if (this.#settle()) this.#value(result);
      },
      (error: unknown) => {
        if (this.#settle()) this.#failed(error);
      },
    );
  }

  /** Marks the attempt decided (false when it already was) and stops watching the abort. */
  #settle(): boolean {
    if (this.#done) return false;
    this.#done = true;
    this.#run.abort.unlink(this);
    return true;
  }

  /**
   * The run aborted while the executor's promise was pending: the attempt is aborted at
   * once (a late result is ignored), and reported on a microtask, as a rejection would
   * be, so that the run's halt() does not re-enter the scheduler.
   * @internal
   */
  runAborted(): void {
    if (this.#done) return;
    this.#done = true;
    queueMicrotask(() => {
      this.#aborted(true);
    });
  }

  #value(value: unknown): void {
    this.#done = true;
    let output: JsonValue;
    try {
      this.#stopped();
      output = toStoredJson(value, this.#run.deps.maxResultBytes, 'result of step', this.step.id);
    } catch (error) {
      this.error = error;
      this.#sink.attempted(this, 'failed');
      return;
    }
    this.output = output;
    this.#sink.attempted(this, 'completed');
  }

  #failed(error: unknown): void {
    this.#done = true;
    this.error = error;
    try {
      this.#stopped();
    } catch (thrown) {
      // As a throw from runAttempts' `finally`: it replaces the attempt's error.
      this.error = thrown;
    }
    this.#sink.attempted(this, 'failed');
  }

  /** `running`: the executor was called (and is abandoned). */
  #aborted(running: boolean): void {
    this.#done = true;
    try {
      if (running) this.#stopped();
    } catch {
      // The attempt is aborted either way (runAttempts checks the abort first).
    }
    this.#sink.attempted(this, 'aborted');
  }

  /** The executor returned or threw: one attempt fewer in flight. */
  #stopped(): void {
    const { deps } = this.#run;
    deps.stepsRunning.value--;
    deps.metrics.set(WORKFLOW_STEPS_RUNNING, deps.stepsRunning.value);
  }
}
