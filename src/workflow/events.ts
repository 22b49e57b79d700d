/**
 * Workflow events (run and step transitions) delivered as bounded async iterables.
 *
 * @module
 */
import { RingBuffer } from '../core/ring-buffer.js';
import { positiveInteger } from '../core/validate.js';
import type { StepStatus, WorkflowRunStatus } from './types.js';

/** A run or step transition. `at` is wall-clock epoch ms from the engine's clock. */
export type WorkflowEvent =
  | {
      /** A run started, resumed or finished. */
      readonly type: 'run';
      /** The run. */
      readonly runId: string;
      /** Its workflow definition's id. */
      readonly workflowId: string;
      /** `running` for a start or a resume (`resumed` tells them apart), else the final status. */
      readonly status: WorkflowRunStatus;
      /** True when this engine took the run over with `resume`. */
      readonly resumed: boolean;
      /** Why the run failed or was cancelled; `null` otherwise. */
      readonly error: string | null;
      /** When it happened, epoch ms. */
      readonly at: number;
    }
  | {
      /** A step attempt started, is waiting to retry, or finished. */
      readonly type: 'step';
      /** The run. */
      readonly runId: string;
      /** Its workflow definition's id. */
      readonly workflowId: string;
      /** The step. */
      readonly stepId: string;
      /** `running` when an attempt starts, `pending` while waiting to retry, else the outcome. */
      readonly status: StepStatus;
      /** Attempt number, from 1 (continues counting across a resume). */
      readonly attempt: number;
      /** Set while waiting to retry: the backoff before the next attempt. */
      readonly retryInMs: number | null;
      /** The fallback step whose result this is, when one ran. */
      readonly fallbackStepId: string | null;
      /** The attempt's error text when it failed; `null` otherwise. */
      readonly error: string | null;
      /** When it happened, epoch ms. */
      readonly at: number;
    };

/** Options of {@link WorkflowEventStream}. */
export interface EventStreamOptions {
  /** Events buffered for a slow reader before the oldest are dropped; default 256. */
  readonly capacity?: number;
  /** Ends the iteration when aborted. */
  readonly signal?: AbortSignal;
}

/**
 * One subscriber's view of the engine's events: an async iterable over a ring buffer of
 * `capacity` events. A reader that falls behind loses the oldest events; {@link lag}
 * counts them. Iteration ends when the engine closes, the signal aborts, or the loop
 * exits (`break`), which unsubscribes.
 */
export class WorkflowEventStream implements AsyncIterable<WorkflowEvent> {
  readonly #buffer: RingBuffer<WorkflowEvent>;
  readonly #detach: (stream: WorkflowEventStream) => void;
  readonly #onDropped: (() => void) | undefined;
  #wake: (() => void) | undefined;
  #ended = false;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = (): void => this.end();

  /** @internal Created by `WorkflowEngine.events()`. */
  constructor(
    options: EventStreamOptions,
    detach: (stream: WorkflowEventStream) => void,
    onDropped?: () => void,
  ) {
    this.#buffer = new RingBuffer(positiveInteger('capacity', options.capacity ?? 256, 65_536));
    this.#detach = detach;
    this.#onDropped = onDropped;
    this.#signal = options.signal;
    if (this.#signal?.aborted === true) this.#ended = true;
    else this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** Events dropped because this reader was too slow. */
  get lag(): number {
    return this.#buffer.overwritten;
  }

  /** True once the stream ended (no more events will arrive). */
  get ended(): boolean {
    return this.#ended;
  }

  /** @internal Delivers one event. */
  push(event: WorkflowEvent): void {
    if (this.#ended) return;
    if (this.#buffer.push(event) !== 0) this.#onDropped?.();
    this.#notify();
  }

  /** Stops the stream; buffered events are still yielded, then iteration ends. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#detach(this);
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Yields events in order until the engine closes, the signal aborts or the loop exits. */
  async *[Symbol.asyncIterator](): AsyncIterator<WorkflowEvent> {
    try {
      for (;;) {
        const next = this.#buffer.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        if (this.#ended) return;
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
      }
    } finally {
      this.end();
    }
  }
}

/** @internal Fans events out to every open stream. */
export class EventHub {
  readonly #streams = new Set<WorkflowEventStream>();
  readonly #maxStreams: number;
  readonly #onDropped: (() => void) | undefined;

  /** `onDropped` is called once per event a slow stream overwrote. */
  constructor(maxStreams: number, onDropped?: () => void) {
    this.#maxStreams = maxStreams;
    this.#onDropped = onDropped;
  }

  get size(): number {
    return this.#streams.size;
  }

  get maxStreams(): number {
    return this.#maxStreams;
  }

  open(options: EventStreamOptions): WorkflowEventStream {
    const stream = new WorkflowEventStream(
      options,
      (s) => this.#streams.delete(s),
      this.#onDropped,
    );
    if (!stream.ended) this.#streams.add(stream);
    return stream;
  }

  emit(event: WorkflowEvent): void {
    for (const stream of this.#streams) stream.push(event);
  }

  endAll(): void {
    for (const stream of [...this.#streams]) stream.end();
  }
}
