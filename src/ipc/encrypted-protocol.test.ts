import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMajraError } from '../core/errors.js';
import {
  FRAME_TYPE,
  HELLO_BYTES,
  RECORD_OVERHEAD_BYTES,
  RecordOpener,
  RecordSealer,
  deriveDirectionKeys,
  encodeHello,
  parseHello,
  sealRecord,
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

describe('docs/ipc.md test vectors (also checked with an independent Python implementation)', () => {
  const psk = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
  const sd = Buffer.alloc(32, 0x11);
  const sa = Buffer.alloc(32, 0x22);

  it('hello, key schedule and records match the published hex', () => {
    expect(encodeHello(psk, 'dialer', sd).toString('hex')).toBe(
      '0101011111111111111111111111111111111111111111111111111111111111111111' +
        'b2e0f0731384b3338656100774bbd43fbc79f7762df898362c666f2f02c911c5',
    );
    const k0 = deriveDirectionKeys(psk, sd, sa, 0);
    expect(k0.dialerToAcceptor.toString('hex')).toBe(
      'f26820771288a4bdf3ffa37ca238f45fbe54f166a0c8af84c240305f697295ce',
    );
    expect(k0.acceptorToDialer.toString('hex')).toBe(
      'dc5079b944e01df80194e5eec7a0f6baeca770888144c407a4053677d9d2a16d',
    );
    expect(deriveDirectionKeys(psk, sd, sa, 1).dialerToAcceptor.toString('hex')).toBe(
      'b6f5d18b7e187acf44584113ef051b2a26f74ae11f2a69662af76c15f048eebf',
    );
    expect(
      sealRecord(k0.dialerToAcceptor, 'dialer', 2, 0, Buffer.from('{"hello":"world"}')).toString(
        'hex',
      ),
    ).toBe(
      '01020000000000000000afe5ec389262dd7e6b32c15459484b34a60e86202f3db52d6c189096e7581d9cb8',
    );
    expect(
      sealRecord(k0.acceptorToDialer, 'acceptor', 2, 1, Buffer.from('hi')).toString('hex'),
    ).toBe('0102000000000000000124a25ed707c0cc8b88f388e577c019f717f1');
  });
});
