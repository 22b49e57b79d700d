/**
 * Admission of step attempts through a `ManagedQueue`: each attempt enqueues a ticket
 * with the step's resources and priority, and runs once the queue hands that ticket out
 * (within its `capacity` ledger and `maxConcurrency`). The ticket is completed or failed
 * when the attempt ends, which frees its resources.
 *
 * @internal
 * @module
 */
import { waitFor } from '../core/abort.js';
import { toError } from '../core/errors.js';
import type { ManagedQueue } from '../queue/managed-queue.js';
import type { Priority } from '../queue/priority.js';
import type { ResourceReq } from '../queue/types.js';

/** The payload of the queue jobs the engine enqueues. */
export interface StepTicket {
  /** The run the attempt belongs to. */
  readonly runId: string;
  /** The step being admitted. */
  readonly stepId: string;
  /** Its attempt number, from 1. */
  readonly attempt: number;
}

/** @internal One engine's use of a dedicated ManagedQueue. */
export class QueueGate {
  readonly #queue: ManagedQueue<StepTicket>;
  readonly #onError: (error: Error) => void;
  /** Job id → the attempt waiting for it. */
  readonly #waiting = new Map<
    string,
    { resolve: (jobId: string) => void; reject: (error: Error) => void }
  >();
  #loop: AbortController | undefined;

  constructor(queue: ManagedQueue<StepTicket>, onError: (error: Error) => void) {
    this.#queue = queue;
    this.#onError = onError;
  }

  /**
   * Enqueues `ticket` and resolves with its job id once the queue has moved it to
   * running. On abort the ticket is cancelled and the wait rejects.
   */
  async acquire(
    ticket: StepTicket,
    priority: Priority,
    resources: ResourceReq | undefined,
    signal: AbortSignal,
  ): Promise<string> {
    const jobId = await this.#queue.enqueue(
      priority,
      ticket,
      resources === undefined ? {} : { resources },
    );
    try {
      return await waitFor<string>(
        (resolve, reject) => {
          this.#waiting.set(jobId, { resolve, reject });
          this.#ensureLoop();
          return () => this.#waiting.delete(jobId);
        },
        { signal, what: `queue admission of step '${ticket.stepId}'` },
      );
    } catch (error) {
      // Still queued (or handed out in the same instant): give the slot back.
      this.#queue.cancel(jobId).catch(() => undefined);
      this.#stopLoopIfIdle();
      throw error;
    }
  }

  /** Marks the attempt's ticket completed or failed (freeing its resources). */
  release(jobId: string, ok: boolean): void {
    const done = ok ? this.#queue.complete(jobId) : this.#queue.fail(jobId);
    done.catch((error: unknown) => this.#onError(toError(error)));
  }

  #ensureLoop(): void {
    if (this.#loop !== undefined) return;
    const loop = new AbortController();
    this.#loop = loop;
    void this.#dispatch(loop).finally(() => {
      if (this.#loop === loop) this.#loop = undefined;
      if (this.#waiting.size > 0) this.#ensureLoop();
    });
  }

  #stopLoopIfIdle(): void {
    if (this.#waiting.size === 0) this.#loop?.abort();
  }

  async #dispatch(loop: AbortController): Promise<void> {
    const stopped = (): boolean => loop.signal.aborted; // read after awaits
    while (this.#waiting.size > 0 && !stopped()) {
      let job;
      try {
        job = await this.#queue.dequeueWait(undefined, { signal: loop.signal });
      } catch (error) {
        if (stopped()) return;
        // The queue failed or closed: every waiting attempt fails with that error.
        const waiters = [...this.#waiting.values()];
        this.#waiting.clear();
        for (const w of waiters) w.reject(toError(error));
        return;
      }
      const waiter = this.#waiting.get(job.id);
      if (waiter === undefined) {
        // Its attempt gave up while the job was being handed out.
        this.#queue.cancel(job.id).catch(() => undefined);
        continue;
      }
      this.#waiting.delete(job.id);
      waiter.resolve(job.id);
    }
  }
}
