import type { Clock, TimerHandle } from '../../core/clock.js';
import { toError } from '../../core/errors.js';

/**
 * The periodic maintenance pass of a PostgreSQL queue (reap expired leases, sweep old
 * finished jobs). The next pass is scheduled only after the previous one settles, so a
 * slow database never has passes piling up; timers are unref'd so they never keep a
 * process alive.
 *
 * @internal
 */
export function startMaintenance(options: {
  clock: Clock;
  intervalMs: number;
  isClosed: () => boolean;
  pass: () => Promise<unknown>;
  onError: (error: Error) => void;
}): { cancel(): void } {
  let stopped = false;
  let timer: TimerHandle | undefined;
  const live = (): boolean => !stopped && !options.isClosed();
  const tick = (): void => {
    if (!live()) return;
    options
      .pass()
      .catch((error: unknown) => options.onError(toError(error)))
      .finally(() => {
        if (!live()) return;
        timer = options.clock.setTimer(options.intervalMs, tick);
        timer.unref();
      });
  };
  timer = options.clock.setTimer(0, tick);
  timer.unref();
  return {
    cancel: () => {
      stopped = true;
      timer?.cancel();
    },
  };
}
