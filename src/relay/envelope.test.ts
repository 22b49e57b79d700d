import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../core/codec.js';
import { isMajraError } from '../core/errors.js';
import { ConnectionPool } from '../transport/connection-pool.js';
import { MemoryTransport } from '../transport/memory.js';
import {
  decodeRelayEnvelope,
  encodeRelayEnvelope,
  RELAY_ENVELOPE_HEADER_BYTES,
  RELAY_WIRE_VERSION,
} from './envelope.js';
import type { RelayMessage } from './message.js';
import { PeerRouter } from './peer-router.js';
import { Relay } from './relay.js';

const base: RelayMessage = {
  seq: 7,
  epoch: 1_767_225_600_000,
  from: 'a',
  to: 'b',
  type: 'echo',
  payload: { text: 'x'.repeat(32) },
  timestamp: 1_767_225_600_123,
  isReply: false,
  correlationId: '6f1c1a9e-9a53-4c43-a7a2-6b7f0b9b2f11',
};

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (!isMajraError(error)) throw error; // an untyped error fails the test
    return error.code;
  }
  return undefined;
}

describe('binary relay envelope (wire version 2)', () => {
  // First in the file: the id caches start empty, so an empty `to` meets the initial entry.
  it('encodes a broadcast (empty `to`) first of all', () => {
    const { correlationId: _, ...broadcast } = base;
    const message = { ...broadcast, to: '' };
    expect(decodeRelayEnvelope(encodeRelayEnvelope(message))).toEqual(message);
  });

  it('has the documented layout', () => {
    const bytes = encodeRelayEnvelope({ ...base, correlationId: 'c1', isReply: true });
    expect(bytes[0]).toBe(RELAY_WIRE_VERSION);
    expect(bytes[1]).toBe(0x01); // reply
    expect([2, 4, 6, 8].map((at) => bytes.readUInt16BE(at))).toEqual([1, 1, 4, 2]);
    expect(bytes.readUInt32BE(10) * 2 ** 32 + bytes.readUInt32BE(14)).toBe(7);
    expect(bytes.readUInt32BE(18) * 2 ** 32 + bytes.readUInt32BE(22)).toBe(base.epoch);
    expect(bytes.readDoubleBE(26)).toBe(base.timestamp);
    const rest = bytes.toString('utf8', RELAY_ENVELOPE_HEADER_BYTES);
    expect(rest).toBe(`abechoc1${JSON.stringify(base.payload)}`);
  });

  it('round-trips requests, broadcasts, error replies and non-ASCII ids', () => {
    const { correlationId: _, ...broadcast } = base;
    const cases: RelayMessage[] = [
      base,
      { ...broadcast, to: '' },
      { ...base, from: 'nœud-é', type: 'ταυτότητα/🚀', payload: ['ü', null, 1.5, true] },
      {
        ...base,
        isReply: true,
        payload: null,
        error: { code: 'ERR_HANDLER', message: 'it broke: ✗' },
      },
      { ...base, seq: Number.MAX_SAFE_INTEGER, epoch: 0, timestamp: -1.25 },
    ];
    for (const message of cases) {
      expect(decodeRelayEnvelope(encodeRelayEnvelope(message))).toEqual(message);
    }
  });

  it('decodes plain Uint8Arrays and views at an offset', () => {
    const bytes = encodeRelayEnvelope(base);
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    expect(decodeRelayEnvelope(shifted.subarray(3))).toEqual(base);
    expect(decodeRelayEnvelope(new Uint8Array(bytes))).toEqual(base);
  });

  it('refuses to encode what a receiver would refuse', () => {
    expect(code(() => encodeRelayEnvelope({ ...base, seq: 0 }))).toBe('ERR_RELAY_INVALID_MESSAGE');
    expect(code(() => encodeRelayEnvelope({ ...base, epoch: -1 }))).toBe(
      'ERR_RELAY_INVALID_MESSAGE',
    );
    expect(code(() => encodeRelayEnvelope({ ...base, from: '' }))).toBe(
      'ERR_RELAY_INVALID_MESSAGE',
    );
    expect(code(() => encodeRelayEnvelope({ ...base, to: 'b'.repeat(1025) }))).toBe(
      'ERR_RELAY_INVALID_MESSAGE',
    );
    expect(code(() => encodeRelayEnvelope({ ...base, timestamp: Number.NaN }))).toBe(
      'ERR_RELAY_INVALID_MESSAGE',
    );
    expect(code(() => encodeRelayEnvelope({ ...base, payload: 1n as unknown as JsonValue }))).toBe(
      'ERR_CODEC_NOT_SERIALIZABLE',
    );
  });

  it('rejects a version it does not read with ERR_RELAY_UNSUPPORTED_VERSION', () => {
    const bytes = Buffer.from(encodeRelayEnvelope(base));
    for (const version of [0, 1, 3, 0x7b, 0xff]) {
      bytes[0] = version;
      let caught: unknown;
      try {
        decodeRelayEnvelope(bytes);
      } catch (error) {
        caught = error;
      }
      expect(caught).toMatchObject({
        code: 'ERR_RELAY_UNSUPPORTED_VERSION',
        details: { version, supported: [1, 2] },
      });
    }
  });

  it('rejects malformed envelopes with ERR_RELAY_INVALID_MESSAGE', () => {
    const good = encodeRelayEnvelope(base);
    const with_ = (edit: (b: Buffer) => void, from: Buffer = good): Buffer => {
      const copy = Buffer.from(from);
      edit(copy);
      return copy;
    };
    const cases: Record<string, Uint8Array> = {
      empty: new Uint8Array(0),
      'truncated header': good.subarray(0, RELAY_ENVELOPE_HEADER_BYTES - 1),
      'header only': good.subarray(0, RELAY_ENVELOPE_HEADER_BYTES),
      'unknown flag': with_((b) => (b[1] = 0x80)),
      'empty from': with_((b) => b.writeUInt16BE(0, 2)),
      'empty type': with_((b) => b.writeUInt16BE(0, 6)),
      'from past the end': with_((b) => b.writeUInt16BE(0xffff, 2)),
      'cid past the end': with_((b) => b.writeUInt16BE(good.length, 8)),
      'seq 0': with_((b) => b.fill(0, 10, 18)),
      'seq over 2^53': with_((b) => b.writeUInt32BE(0x0020_0000, 10)),
      'epoch over 2^53': with_((b) => b.writeUInt32BE(0xffff_ffff, 18)),
      'NaN timestamp': with_((b) => b.writeDoubleBE(Number.NaN, 26)),
      'infinite timestamp': with_((b) => b.writeDoubleBE(Number.POSITIVE_INFINITY, 26)),
      'no payload': good.subarray(0, good.length - JSON.stringify(base.payload).length),
      'payload not JSON': with_((b) => (b[b.length - 1] = 0x2c)),
      'bad UTF-8 in an id': with_((b) => (b[RELAY_ENVELOPE_HEADER_BYTES] = 0xff)),
      'bad UTF-8 in the payload': with_((b) => (b[b.length - 3] = 0xc3)),
      'a character split across two ids': (() => {
        const two = encodeRelayEnvelope({ ...base, from: 'é', to: 'b' });
        return with_((b) => {
          b.writeUInt16BE(1, 2); // from = first byte of é ...
          b.writeUInt16BE(2, 4); // ... to = its second byte + 'b'
        }, two);
      })(),
      'error flag without an error section': with_(
        (b) => (b[1] = 0x02),
        encodeRelayEnvelope({ ...base, payload: 1 }),
      ),
      'error message past the end': (() => {
        const e = encodeRelayEnvelope({
          ...base,
          payload: null,
          error: { code: 'E', message: 'm' },
        });
        const at = RELAY_ENVELOPE_HEADER_BYTES + 1 + 1 + 4 + 36 + 2 + 1;
        return with_((b) => b.writeUInt16BE(5000, at), e);
      })(),
    };
    // A type of 1025 ASCII characters (the encoder refuses to write one).
    const long = Buffer.concat([
      good.subarray(0, RELAY_ENVELOPE_HEADER_BYTES + 2),
      Buffer.alloc(1025, 0x74),
      good.subarray(RELAY_ENVELOPE_HEADER_BYTES + 2 + 4),
    ]);
    long.writeUInt16BE(1025, 6);
    cases['id over 1024 characters'] = long;
    for (const [name, bytes] of Object.entries(cases)) {
      expect({ name, code: code(() => decodeRelayEnvelope(bytes)) }).toEqual({
        name,
        code: 'ERR_RELAY_INVALID_MESSAGE',
      });
    }
  });

  it('any byte string decodes or throws a typed error (fuzz)', () => {
    const good = encodeRelayEnvelope(base);
    const mutated = fc
      .tuple(
        fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), {
          maxLength: 6,
        }),
        fc.nat(good.length),
      )
      .map(([edits, cut]) => {
        const copy = Buffer.from(good);
        for (const [at, value] of edits) copy[at] = value;
        return copy.subarray(0, Math.max(cut, 1));
      });
    const arbitrary = fc
      .uint8Array({ maxLength: 120 })
      .map((rest) => Buffer.concat([Buffer.from([RELAY_WIRE_VERSION]), rest]));
    fc.assert(
      fc.property(fc.oneof(mutated, arbitrary, fc.uint8Array({ maxLength: 64 })), (bytes) => {
        try {
          const message = decodeRelayEnvelope(bytes);
          // Whatever decodes satisfies the invariants the relay relies on.
          expect(Number.isSafeInteger(message.seq) && message.seq >= 1).toBe(true);
          expect(Number.isSafeInteger(message.epoch) && message.epoch >= 0).toBe(true);
          expect(message.from.length).toBeGreaterThan(0);
          expect(message.type.length).toBeGreaterThan(0);
          expect(Number.isFinite(message.timestamp)).toBe(true);
        } catch (error) {
          expect(isMajraError(error)).toBe(true);
          expect(['ERR_RELAY_INVALID_MESSAGE', 'ERR_RELAY_UNSUPPORTED_VERSION']).toContain(
            (error as { code: string }).code,
          );
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('valid messages round-trip (property)', () => {
    const id = fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' });
    fc.assert(
      fc.property(
        fc.record({
          seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
          epoch: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
          from: id,
          to: fc.oneof(fc.constant(''), id),
          type: id,
          payload: fc.jsonValue() as fc.Arbitrary<JsonValue>,
          timestamp: fc.double({ noNaN: true, noDefaultInfinity: true }),
          isReply: fc.boolean(),
          correlationId: id,
        }),
        (message) => {
          const decoded = decodeRelayEnvelope(encodeRelayEnvelope(message));
          // The payload goes through JSON (so -0 becomes 0 there); the header is exact.
          const payload = JSON.parse(JSON.stringify(message.payload)) as JsonValue;
          expect(decoded).toEqual({ ...message, payload });
          expect(Object.is(decoded.timestamp, message.timestamp)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('binary envelopes on a link', () => {
  async function node(net: MemoryTransport, errors: Error[]) {
    const pool = new ConnectionPool(net);
    const relay = new Relay('a', { onError: (e) => errors.push(e), router: new PeerRouter(pool) });
    await relay.listen(net, 'mem:a');
    return { relay, pool };
  }

  it('malformed and unknown-version envelopes are counted and reported; the link stays', async () => {
    const net = new MemoryTransport();
    const errors: Error[] = [];
    const { relay, pool } = await node(net, errors);
    const sub = relay.subscribe();
    const conn = await net.connect('mem:a');
    const { correlationId: _, ...send } = base;
    const good = encodeRelayEnvelope({ ...send, from: 'x', to: 'a' });
    const v3 = Buffer.from(good);
    v3[0] = 3;
    await conn.send(v3);
    await conn.send(good.subarray(0, 20));
    await conn.send(new Uint8Array(0));
    await conn.send(good);
    expect((await sub.recv()).message.payload).toEqual(base.payload);
    expect(relay.stats().invalidMessages).toBe(3);
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual([
      'ERR_RELAY_UNSUPPORTED_VERSION',
      'ERR_RELAY_INVALID_MESSAGE',
      'ERR_RELAY_INVALID_MESSAGE',
    ]);
    await conn.close();
    await relay.close();
    await pool.close();
  });

  it("a 'json' router writes version 1; a relay reads both versions", async () => {
    const net = new MemoryTransport();
    const seen: unknown[] = [];
    await net.listen('mem:spy', (conn) => {
      void (async () => {
        for await (const m of conn.incoming()) seen.push(m);
      })();
    });
    const pools: ConnectionPool[] = [];
    const make = async (id: string, peer: string, wireFormat: 'binary' | 'json') => {
      const pool = new ConnectionPool(net);
      pools.push(pool);
      const peers = { [peer]: `mem:${peer}`, spy: 'mem:spy' };
      const relay = new Relay(id, { router: new PeerRouter(pool, { peers, wireFormat }) });
      await relay.listen(net, `mem:${id}`);
      relay.handle('echo', (m) => ({ by: id, got: m.payload }));
      return relay;
    };
    const a = await make('a', 'b', 'binary');
    const b = await make('b', 'a', 'json');
    expect((await a.request('b', 'echo', 1, { timeoutMs: 1000 })).payload).toEqual({
      by: 'b',
      got: 1,
    });
    expect((await b.request('a', 'echo', 2, { timeoutMs: 1000 })).payload).toEqual({
      by: 'a',
      got: 2,
    });
    await a.send('spy', 't', 'bin');
    await b.send('spy', 't', 'json');
    await expect.poll(() => seen.length).toBe(2);
    const [fromA, fromB] = seen;
    expect(fromA).toBeInstanceOf(Uint8Array);
    expect((fromA as Uint8Array)[0]).toBe(RELAY_WIRE_VERSION);
    expect(fromB).toMatchObject({ from: 'b', topic: 't', payload: 'json' });
    await a.close();
    await b.close();
    for (const pool of pools) await pool.close();
  });

  it('rejects an unknown wireFormat', () => {
    const pool = new ConnectionPool(new MemoryTransport());
    expect(() => new PeerRouter(pool, { wireFormat: 'xml' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});
