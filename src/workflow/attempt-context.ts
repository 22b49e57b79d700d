/**
 * The {@link StepContext} an executor gets. Most executors never read `signal`, and an
 * AbortSignal costs microseconds to build, so the run's signal is read through an own,
 * enumerable accessor (spread and `Object.keys` see it as before) that builds it on first
 * use. One shared descriptor keeps every context on the same hidden class.
 *
 * @internal
 * @module
 */
import type { JsonValue } from '../core/codec.js';
import type { RunAbort } from './run-abort.js';
import type { StepContext, StepResult } from './step-context.js';

/** @internal */
export class AttemptContext implements StepContext {
  readonly runId: string;
  readonly workflowId: string;
  readonly stepId: string;
  readonly input: JsonValue;
  readonly results: Readonly<Record<string, StepResult>>;
  readonly attempt: number;
  readonly isResume: boolean;
  declare readonly signal: AbortSignal;
  declare readonly fallbackFor?: { readonly stepId: string; readonly error: string };
  /** The attempt's own abort state (with a timeout), else the run's. */
  readonly #source: RunAbort;

  static readonly #signal: PropertyDescriptor = {
    enumerable: true,
    configurable: true,
    get(this: AttemptContext): AbortSignal {
      return this.#source.signal;
    },
    // An executor that assigns `signal` gets a plain property, as on a plain object.
    set(this: AttemptContext, value: unknown): void {
      Object.defineProperty(this, 'signal', {
        value,
        writable: true,
        enumerable: true,
        configurable: true,
      });
    },
  };

  constructor(
    run: {
      readonly runId: string;
      readonly workflowId: string;
      readonly input: JsonValue;
      readonly resumed: boolean;
    },
    stepId: string,
    results: Readonly<Record<string, StepResult>>,
    attempt: number,
    fallbackFor: { readonly stepId: string; readonly error: string } | undefined,
    source: RunAbort,
  ) {
    this.runId = run.runId;
    this.workflowId = run.workflowId;
    this.stepId = stepId;
    this.input = run.input;
    this.results = results;
    this.attempt = attempt;
    this.isResume = run.resumed;
    this.#source = source;
    Object.defineProperty(this, 'signal', AttemptContext.#signal);
    if (fallbackFor !== undefined) this.fallbackFor = fallbackFor;
  }
}
