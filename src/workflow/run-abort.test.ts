import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.js';
import { AttemptContext } from './attempt-context.js';
import { RunAbort } from './run-abort.js';
import { toStoredJson } from './step-attempt.js';

describe('RunAbort', () => {
  it('builds its signal lazily, already aborted with the reason when read after the abort', () => {
    const abort = new RunAbort(10);
    const reason = new Error('stop');
    abort.abort(reason);
    abort.abort(new Error('second'));
    expect(abort.isAborted()).toBe(true);
    expect(abort.signal.aborted).toBe(true);
    expect(abort.signal.reason).toBe(reason);
  });

  it('aborts a signal read before the abort, and races pending work', async () => {
    const abort = new RunAbort(10);
    const signal = abort.signal;
    const never = new Promise<number>(() => undefined);
    const raced = abort.race(never);
    const watched: Error[] = [];
    const unwatch = abort.watch((r) => watched.push(r));
    const unwatched = abort.watch((r) => watched.push(r));
    unwatched();
    const reason = new Error('cancelled');
    abort.abort(reason);
    unwatch();
    expect(signal.aborted).toBe(true);
    await expect(raced).rejects.toBe(reason);
    expect(watched).toEqual([reason]);
    await expect(abort.race(Promise.resolve(1))).rejects.toBe(reason);
    const late: Error[] = [];
    abort.watch((r) => late.push(r));
    expect(late).toEqual([reason]);
  });

  it('sleeps on the clock and wakes early, rejecting, when the run aborts', async () => {
    const clock = new ManualClock();
    const abort = new RunAbort();
    const slept = abort.sleep(100, clock);
    await clock.advanceAsync(100);
    await expect(slept).resolves.toBeUndefined();
    const cut = abort.sleep(100, clock);
    const reason = new Error('stop');
    abort.abort(reason);
    await expect(cut).rejects.toBe(reason);
    await expect(abort.sleep(5, clock)).rejects.toBe(reason);
  });

  it('passes results through and turns a non-Error rejection into an Error', async () => {
    const abort = new RunAbort(10);
    await expect(abort.race(Promise.resolve(7))).resolves.toBe(7);
    const thenable = { then: (_: unknown, reject: (e: unknown) => void) => reject('boom') };
    await expect(abort.race(thenable as PromiseLike<never>)).rejects.toThrow('boom');
  });
});

describe('toStoredJson', () => {
  it('stores scalars as JSON would, without a round trip when they fit', () => {
    expect(toStoredJson(-0, 1024, 'x')).toBe(0);
    expect(Object.is(toStoredJson(-0, 1024, 'x'), -0)).toBe(false);
    expect(toStoredJson(Number.NaN, 1024, 'x')).toBeNull();
    expect(toStoredJson(Number.POSITIVE_INFINITY, 1024, 'x')).toBeNull();
    expect(toStoredJson(true, 1024, 'x')).toBe(true);
    expect(toStoredJson('a\ud800b', 1024, 'x')).toBe('a\ud800b');
    expect(toStoredJson(undefined, 1, 'x')).toBeNull();
  });

  it('still measures scalars against a small limit', () => {
    expect(() => toStoredJson(12345, 4, 'x')).toThrow(/over the limit/);
    expect(() => toStoredJson(null, 3, 'x')).toThrow(/over the limit/);
    expect(() => toStoredJson('abcdef', 5, 'x')).toThrow(/over the limit/);
    expect(toStoredJson('abc', 5, 'x')).toBe('abc');
  });
});

describe('AttemptContext', () => {
  const run = { runId: 'r', workflowId: 'w', input: null, resumed: false };

  it('has signal as an own enumerable property that spread and keys see', () => {
    const abort = new RunAbort(10);
    const ctx = new AttemptContext(run, 's', {}, 1, undefined, abort);
    expect(Object.keys(ctx)).toEqual([
      'runId',
      'workflowId',
      'stepId',
      'input',
      'results',
      'attempt',
      'isResume',
      'signal',
    ]);
    // eslint-disable-next-line @typescript-eslint/no-misused-spread -- executors may spread it
    const copy = { ...ctx };
    expect(copy.signal).toBe(abort.signal);
    abort.abort(new Error('stop'));
    expect(ctx.signal.aborted).toBe(true);
    const fallback = new AttemptContext(run, 'f', {}, 1, { stepId: 's', error: 'e' }, abort);
    expect(fallback).toMatchObject({ stepId: 'f', fallbackFor: { stepId: 's', error: 'e' } });
  });

  it('uses an attempt signal of its own and can be reassigned like a plain field', () => {
    const own = new RunAbort();
    const ctx = new AttemptContext(run, 's', {}, 2, undefined, own);
    expect(ctx.signal).toBe(own.signal);
    const other = new AbortController().signal;
    (ctx as { signal: AbortSignal }).signal = other;
    expect(ctx.signal).toBe(other);
  });
});
