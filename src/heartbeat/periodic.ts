import type { Clock, TimerHandle } from '../core/clock.js';
import { toError } from '../core/errors.js';

/**
 * Runs `task` every `intervalMs` on `clock` with unref'd timers (never keeping the
 * process alive) until the returned function is called or `signal` aborts. A throwing
 * task goes to `onError` and the schedule continues. The next run is armed after the
 * current one finishes, so runs never overlap.
 *
 * @internal
 */
export function runPeriodically(
  clock: Clock,
  intervalMs: number,
  task: () => void,
  onError: (error: Error) => void,
  signal: AbortSignal | undefined,
): () => void {
  let timer: TimerHandle | undefined;
  let stopped = false;
  // The task may stop the schedule while it runs: read the flag through a call.
  const isStopped = (): boolean => stopped;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    timer?.cancel();
    signal?.removeEventListener('abort', stop);
  };
  const arm = (): void => {
    timer = clock.setTimer(intervalMs, tick).unref();
  };
  const tick = (): void => {
    if (stopped) return;
    try {
      task();
    } catch (error) {
      onError(toError(error));
    }
    if (!isStopped()) arm();
  };
  signal?.addEventListener('abort', stop, { once: true });
  arm();
  return stop;
}
