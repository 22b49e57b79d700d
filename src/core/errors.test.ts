import { describe, expect, it } from 'vitest';
import { COORDINATION_ERROR_CODES } from './error-codes-coordination.js';
import { IO_ERROR_CODES } from './error-codes-io.js';
import { MESSAGING_ERROR_CODES } from './error-codes-messaging.js';
import { ERROR_CODES } from './error-codes.js';
import {
  AbortedError,
  BackendError,
  CapacityExceededError,
  ClosedError,
  CryptoError,
  InvalidArgumentError,
  InvalidStateError,
  isMajraError,
  MajraError,
  NotFoundError,
  ProtocolError,
  TimeoutError,
  toError,
} from './errors.js';

describe('MajraError', () => {
  const classes = [
    [InvalidArgumentError, 'ERR_INVALID_ARGUMENT'],
    [ClosedError, 'ERR_CLOSED'],
    [TimeoutError, 'ERR_TIMEOUT'],
    [AbortedError, 'ERR_ABORTED'],
    [CapacityExceededError, 'ERR_CAPACITY_EXCEEDED'],
    [NotFoundError, 'ERR_NOT_FOUND'],
    [InvalidStateError, 'ERR_INVALID_STATE'],
    [BackendError, 'ERR_BACKEND'],
    [ProtocolError, 'ERR_PROTOCOL'],
    [CryptoError, 'ERR_CRYPTO'],
  ] as const;

  it.each(classes)('%o carries its default code, name and instanceof chain', (Cls, code) => {
    const error = new Cls('boom');
    expect(error).toBeInstanceOf(MajraError);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe(code);
    expect(error.name).toBe(ERROR_CODES[code].errorClass);
    expect(error.message).toBe('boom');
    expect(isMajraError(error, code)).toBe(true);
  });

  it('accepts a specific code of its own class, cause and details', () => {
    const cause = new Error('inner');
    const error = new CapacityExceededError('too big', {
      code: 'ERR_CODEC_TOO_LARGE',
      cause,
      details: { size: 20, maxBytes: 16 },
    });
    expect(error.code).toBe('ERR_CODEC_TOO_LARGE');
    expect(error.cause).toBe(cause);
    expect(error.details).toEqual({ size: 20, maxBytes: 16 });
  });

  it('refuses a code that belongs to another class at runtime', () => {
    // The type system already forbids this; the runtime check guards JS callers.
    expect(
      () =>
        new InvalidArgumentError('x', {
          code: 'ERR_CLOSED' as unknown as 'ERR_INVALID_ARGUMENT',
        }),
    ).toThrow(TypeError);
  });

  it('survives async rejection with class and code intact', async () => {
    const fail = async (): Promise<never> => {
      await Promise.resolve();
      throw new NotFoundError('gone');
    };
    await expect(fail()).rejects.toBeInstanceOf(NotFoundError);
    await expect(fail()).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
  });

  it('isMajraError rejects foreign errors and other codes', () => {
    expect(isMajraError(new Error('x'))).toBe(false);
    expect(isMajraError('ERR_CLOSED')).toBe(false);
    expect(isMajraError(new ClosedError('c'), 'ERR_TIMEOUT')).toBe(false);
  });

  it('every code in the table has a description and a known class', () => {
    for (const [code, entry] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^ERR_[A-Z0-9_]+$/);
      expect(entry.description.length).toBeGreaterThan(10);
    }
  });

  it('no code is defined in two areas of the table (a later spread would hide it)', () => {
    const areas = [MESSAGING_ERROR_CODES, COORDINATION_ERROR_CODES, IO_ERROR_CODES];
    const fromAreas = areas.flatMap((area) => Object.keys(area));
    expect(new Set(fromAreas).size).toBe(fromAreas.length);
    for (const code of fromAreas) expect(ERROR_CODES).toHaveProperty(code);
  });

  it('toError wraps non-Error throwables', () => {
    expect(toError('plain').message).toBe('plain');
    expect(toError({ a: 1 }).message).toBe('{"a":1}');
    expect(toError(undefined).message).toBe('undefined');
    const circular: Record<string, unknown> = {};
    circular['self'] = circular;
    expect(toError(circular).message).toBe('[object Object]');
    const e = new Error('same');
    expect(toError(e)).toBe(e);
  });
});
