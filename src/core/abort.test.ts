import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.js';
import { abortError, deferred, sleep, throwIfAborted, waitFor } from './abort.js';
import { AbortedError, TimeoutError } from './errors.js';

describe('abort helpers', () => {
  it('abortError wraps a foreign reason and passes a MajraError through', () => {
    const c = new AbortController();
    c.abort('why');
    const e = abortError(c.signal);
    expect(e).toBeInstanceOf(AbortedError);
    expect(e.cause).toBe('why');
    const t = new AbortController();
    const timeout = new TimeoutError('late');
    t.abort(timeout);
    expect(abortError(t.signal)).toBe(timeout);
  });

  it('throwIfAborted only throws when aborted', () => {
    expect(() => throwIfAborted(undefined)).not.toThrow();
    const c = new AbortController();
    expect(() => throwIfAborted(c.signal)).not.toThrow();
    c.abort();
    expect(() => throwIfAborted(c.signal)).toThrow(AbortedError);
  });

  it('deferred settles from outside', async () => {
    const d = deferred<number>();
    d.resolve(3);
    await expect(d.promise).resolves.toBe(3);
  });
});

describe('waitFor', () => {
  it('rejects at once when the signal is already aborted, without running setup', async () => {
    const c = new AbortController();
    c.abort();
    let ran = false;
    await expect(
      waitFor(
        () => {
          ran = true;
          return undefined;
        },
        { signal: c.signal },
      ),
    ).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(ran).toBe(false);
  });

  it('aborting during the wait rejects, runs cleanup once and removes the listener', async () => {
    const c = new AbortController();
    let cleanups = 0;
    const p = waitFor<number>(() => () => cleanups++, { signal: c.signal });
    c.abort(new Error('stop'));
    await expect(p).rejects.toBeInstanceOf(AbortedError);
    expect(cleanups).toBe(1);
    // A second abort event (impossible in practice) or late resolve must not re-run cleanup.
    expect(cleanups).toBe(1);
  });

  it('resolves and cleans up, leaving no timer armed', async () => {
    const clock = new ManualClock();
    let cleanups = 0;
    const p = waitFor<string>(
      (resolve) => {
        resolve('done');
        return () => cleanups++;
      },
      { timeoutMs: 100, clock },
    );
    await expect(p).resolves.toBe('done');
    expect(cleanups).toBe(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('times out with TimeoutError on the injected clock', async () => {
    const clock = new ManualClock();
    const p = waitFor<never>(() => undefined, { timeoutMs: 50, clock, what: 'recv' });
    clock.advance(49);
    clock.advance(1);
    await expect(p).rejects.toThrow('recv timed out after 50 ms');
  });

  it('a throwing setup rejects the wait', async () => {
    await expect(
      waitFor(() => {
        throw new Error('setup failed');
      }),
    ).rejects.toThrow('setup failed');
  });

  it('does not accumulate listeners on a shared signal', async () => {
    const c = new AbortController();
    let added = 0;
    let removed = 0;
    const add = c.signal.addEventListener.bind(c.signal);
    const remove = c.signal.removeEventListener.bind(c.signal);
    c.signal.addEventListener = (...args: Parameters<typeof add>) => {
      added++;
      add(...args);
    };
    c.signal.removeEventListener = (...args: Parameters<typeof remove>) => {
      removed++;
      remove(...args);
    };
    for (let i = 0; i < 100; i++) {
      await waitFor<number>(
        (resolve) => {
          resolve(i);
          return undefined;
        },
        { signal: c.signal },
      );
    }
    expect(added).toBe(100);
    expect(removed).toBe(100);
  });

  it('refuses a bad timeout', async () => {
    expect(() => waitFor(() => undefined, { timeoutMs: Number.NaN })).toThrow(/timeoutMs/);
  });
});

describe('sleep', () => {
  it('resolves after the delay on the manual clock', async () => {
    const clock = new ManualClock();
    let done = false;
    const p = sleep(100, { clock }).then(() => {
      done = true;
    });
    await clock.advanceAsync(99);
    expect(done).toBe(false);
    await clock.advanceAsync(1);
    await p;
    expect(done).toBe(true);
  });

  it('is cancelled by abort and disarms its timer', async () => {
    const clock = new ManualClock();
    const c = new AbortController();
    const p = sleep(100, { clock, signal: c.signal });
    expect(clock.pendingTimers).toBe(1);
    c.abort();
    await expect(p).rejects.toBeInstanceOf(AbortedError);
    expect(clock.pendingTimers).toBe(0);
  });

  it('refuses negative delays', () => {
    expect(() => sleep(-1)).toThrow(/delayMs/);
  });

  it('works on the system clock', async () => {
    await expect(sleep(1)).resolves.toBeUndefined();
  });
});
