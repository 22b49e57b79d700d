import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMajraError } from '../core/errors.js';
import {
  FRAME_TYPE,
  HELLO_BYTES,
  RECORD_OVERHEAD_BYTES,
  RecordOpener,
  RecordSealer,
  encodeHello,
  parseHello,
} from './encrypted-protocol.js';

const KEY = Buffer.alloc(32, 7);
const PSK = Buffer.alloc(32, 9);
const RECORD_ERRORS = new Set([
  'ERR_IPC_BAD_FRAME',
  'ERR_IPC_UNEXPECTED_COUNTER',
  'ERR_IPC_AUTH_FAILED',
  'ERR_IPC_NONCE_EXHAUSTED',
]);

function sealer(): RecordSealer {
  return new RecordSealer(Buffer.from(KEY), 'acceptor');
}
function opener(): RecordOpener {
  return new RecordOpener(Buffer.from(KEY), 'acceptor', 2 ** 32);
}

describe('record sealer/opener', () => {
  it('round-trips in order and refuses to open the same record twice', () => {
    const s = sealer();
    const o = opener();
    const a = s.seal(FRAME_TYPE.data, Buffer.from('a'));
    const b = s.seal(FRAME_TYPE.rekey, Buffer.alloc(32));
    expect(a.length).toBe(RECORD_OVERHEAD_BYTES + 1);
    expect(o.open(a).plaintext.toString()).toBe('a');
    expect(o.open(b).type).toBe(FRAME_TYPE.rekey);
    expect(() => o.open(b)).toThrow(/counter 1, expected 2/);
    expect(o.counter).toBe(2);
  });

  it('a key for the other direction does not open the record', () => {
    const record = sealer().seal(FRAME_TYPE.data, Buffer.from('x'));
    const wrongRole = new RecordOpener(Buffer.from(KEY), 'dialer', 2 ** 32);
    let error: unknown;
    try {
      wrongRole.open(record);
    } catch (e) {
      error = e;
    }
    expect(isMajraError(error, 'ERR_IPC_AUTH_FAILED')).toBe(true);
  });

  it('fuzz: 100,000 random or mutated records never crash and never yield garbage', () => {
    // A pool of genuine records (sealing per run would dominate the runtime).
    const pool = Array.from({ length: 64 }, (_, i) => {
      const plaintext = Buffer.alloc(i, i);
      const type = 2 + (i % 3);
      return { plaintext, type, record: sealer().seal(type, plaintext) };
    });
    const valid = fc.integer({ min: 0, max: pool.length - 1 }).map((i) => pool[i]!);
    const mutated = fc
      .tuple(
        valid,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 3,
        }),
        fc.option(fc.nat({ max: 120 })),
      )
      .map(([v, flips, cut]) => {
        const bytes = Buffer.from(v.record);
        for (const [at, value] of flips) bytes[at % bytes.length] = value;
        return { ...v, record: cut === null ? bytes : bytes.subarray(0, cut) };
      });
    const random = fc
      .uint8Array({ maxLength: 120 })
      .map((bytes) => ({ plaintext: undefined, type: -1, record: Buffer.from(bytes) }));
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0; // errors are expected by the thousand; stacks cost time
    try {
      fc.assert(
        fc.property(fc.oneof(random, mutated, valid), (input) => {
          let opened;
          try {
            opened = opener().open(input.record);
          } catch (error) {
            if (!isMajraError(error) || !RECORD_ERRORS.has(error.code)) throw error;
            return;
          }
          // Accepted only if it is exactly what was sealed.
          if (
            input.plaintext === undefined ||
            !opened.plaintext.equals(input.plaintext) ||
            opened.type !== input.type
          ) {
            throw new Error(`accepted garbage: ${input.record.toString('hex')}`);
          }
        }),
        { numRuns: 100_000 },
      );
    } finally {
      Error.stackTraceLimit = limit;
    }
  });
});

describe('hello', () => {
  it('fuzz: random or mutated hellos are refused with ERR_IPC_HANDSHAKE_FAILED', () => {
    const salt = Buffer.alloc(32, 3);
    const good = encodeHello(PSK, 'dialer', salt);
    expect(good.length).toBe(HELLO_BYTES);
    expect(parseHello(PSK, good, 'dialer').equals(salt)).toBe(true);
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b)),
      fc
        .array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 })
        .map((flips) => {
          const bytes = Buffer.from(good);
          for (const [at, value] of flips) bytes[at % bytes.length] = value;
          return bytes;
        }),
    );
    fc.assert(
      fc.property(input, (bytes) => {
        try {
          parseHello(PSK, bytes, 'dialer');
          expect(bytes.equals(good)).toBe(true);
        } catch (error) {
          if (!isMajraError(error, 'ERR_IPC_HANDSHAKE_FAILED')) throw error;
        }
      }),
      { numRuns: 10_000 },
    );
    expect(() => parseHello(PSK, good, 'acceptor')).toThrow(/role/);
    expect(() => parseHello(Buffer.alloc(32, 1), good, 'dialer')).toThrow(/different key/);
  });
});
