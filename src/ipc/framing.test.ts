import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMajraError } from '../core/errors.js';
import {
  DEFAULT_MAX_FRAME_BYTES,
  FRAME_HEADER_BYTES,
  FrameDecoder,
  decodeJsonBody,
  encodeFrame,
  encodeFrameHeader,
  encodeJsonFrame,
  validateMaxFrameBytes,
} from './framing.js';

function decodeAll(decoder: FrameDecoder, chunks: readonly Uint8Array[]): Buffer[] {
  const out: Buffer[] = [];
  for (const chunk of chunks) decoder.push(chunk, (body) => out.push(Buffer.from(body)));
  return out;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isMajraError(error) ? error.code : `foreign:${String(error)}`;
  }
  return undefined;
}

describe('encodeFrame', () => {
  it('writes a 4-byte big-endian length then the body, in one buffer', () => {
    const frame = encodeFrame(new Uint8Array([0x68, 0x69]));
    expect([...frame]).toEqual([0, 0, 0, 2, 0x68, 0x69]);
    expect([...encodeFrameHeader(0x01020304, 2 ** 31)]).toEqual([1, 2, 3, 4]);
  });

  it('accepts a zero-length body and exactly the cap, refuses cap + 1', () => {
    expect([...encodeFrame(new Uint8Array(0))]).toEqual([0, 0, 0, 0]);
    expect(encodeFrame(new Uint8Array(10), 10).length).toBe(14);
    expect(codeOf(() => encodeFrame(new Uint8Array(11), 10))).toBe('ERR_IPC_FRAME_TOO_LARGE');
    expect(codeOf(() => encodeFrameHeader(11, 10))).toBe('ERR_IPC_FRAME_TOO_LARGE');
  });

  it('refuses non-bytes payloads', () => {
    expect(codeOf(() => encodeFrame('x' as unknown as Uint8Array))).toBe('ERR_INVALID_ARGUMENT');
  });

  it('encodes JSON compactly and maps the size error to the IPC code', () => {
    const frame = encodeJsonFrame({ hello: 'world' });
    expect(frame.readUInt32BE(0)).toBe(frame.length - 4);
    expect(frame.subarray(4).toString()).toBe('{"hello":"world"}');
    let error: unknown;
    try {
      encodeJsonFrame('x'.repeat(20), 10);
    } catch (e) {
      error = e;
    }
    expect(isMajraError(error, 'ERR_IPC_FRAME_TOO_LARGE')).toBe(true);
    expect((error as { details: unknown }).details).toMatchObject({ size: 22, maxFrameBytes: 10 });
    expect(codeOf(() => encodeJsonFrame(10n))).toBe('ERR_CODEC_NOT_SERIALIZABLE');
    expect(codeOf(() => encodeJsonFrame(undefined))).toBe('ERR_CODEC_NOT_SERIALIZABLE');
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(codeOf(() => encodeJsonFrame(cyclic))).toBe('ERR_CODEC_NOT_SERIALIZABLE');
  });

  it('decodes JSON bodies and rejects empty, non-UTF-8 and invalid JSON', () => {
    expect(decodeJsonBody(Buffer.from('{"a":1}'))).toEqual({ a: 1 });
    expect(codeOf(() => decodeJsonBody(new Uint8Array(0)))).toBe('ERR_CODEC_MALFORMED');
    expect(codeOf(() => decodeJsonBody(new Uint8Array([0x22, 0xff, 0x22])))).toBe(
      'ERR_CODEC_MALFORMED',
    );
    expect(codeOf(() => decodeJsonBody(Buffer.from('{nope')))).toBe('ERR_CODEC_MALFORMED');
  });
});

describe('validateMaxFrameBytes', () => {
  it('defaults to 16 MiB and accepts only 1..16 MiB integers', () => {
    expect(validateMaxFrameBytes(undefined)).toBe(DEFAULT_MAX_FRAME_BYTES);
    expect(validateMaxFrameBytes(1)).toBe(1);
    for (const bad of [0, -1, 1.5, DEFAULT_MAX_FRAME_BYTES + 1, Number.NaN, '10']) {
      expect(codeOf(() => validateMaxFrameBytes(bad))).toBe('ERR_INVALID_ARGUMENT');
      expect(codeOf(() => new FrameDecoder({ maxFrameBytes: bad as number }))).toBe(
        'ERR_INVALID_ARGUMENT',
      );
    }
  });
});

describe('FrameDecoder', () => {
  it('reassembles a frame delivered one byte at a time', () => {
    const frame = encodeFrame(Buffer.from('hello, world'));
    const decoder = new FrameDecoder();
    const out = decodeAll(
      decoder,
      [...frame].map((b) => new Uint8Array([b])),
    );
    expect(out.map((b) => b.toString())).toEqual(['hello, world']);
    expect(decoder.midFrame).toBe(false);
    decoder.end();
  });

  it('splits 100 frames coalesced into one chunk, including empty ones', () => {
    const bodies = Array.from({ length: 100 }, (_, i) => Buffer.from('x'.repeat(i % 7)));
    const decoder = new FrameDecoder();
    const out = decodeAll(decoder, [Buffer.concat(bodies.map((b) => encodeFrame(b)))]);
    expect(out).toEqual(bodies);
  });

  it('accepts plain Uint8Array chunks', () => {
    const frame = new Uint8Array(encodeFrame(Buffer.from('ab')));
    expect(decodeAll(new FrameDecoder(), [frame]).map(String)).toEqual(['ab']);
  });

  it('fails on an oversize header before buffering the body, after earlier frames', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 8 });
    const out: Buffer[] = [];
    const chunk = Buffer.concat([encodeFrame(Buffer.from('ok'), 8), Buffer.from([0, 0, 0, 9, 1])]);
    let error: unknown;
    try {
      decoder.push(chunk, (b) => out.push(b));
    } catch (e) {
      error = e;
    }
    expect(out.map(String)).toEqual(['ok']);
    expect(isMajraError(error, 'ERR_IPC_FRAME_TOO_LARGE')).toBe(true);
    expect((error as { details: unknown }).details).toMatchObject({ size: 9, maxFrameBytes: 8 });
    expect(decoder.bufferedBytes).toBe(0);
    expect(codeOf(() => decoder.push(Buffer.from([1]), () => undefined))).toBe(
      'ERR_IPC_DECODER_FAILED',
    );
  });

  it('refuses 16 MiB + 1 announced by the header alone, accepts exactly 16 MiB', () => {
    const over = Buffer.alloc(4);
    over.writeUInt32BE(DEFAULT_MAX_FRAME_BYTES + 1);
    expect(codeOf(() => new FrameDecoder().push(over, () => undefined))).toBe(
      'ERR_IPC_FRAME_TOO_LARGE',
    );
    const body = Buffer.alloc(DEFAULT_MAX_FRAME_BYTES, 7);
    const frame = encodeFrame(body);
    const decoder = new FrameDecoder();
    const out = decodeAll(decoder, [frame.subarray(0, 1000), frame.subarray(1000)]);
    expect(out.length).toBe(1);
    expect(out[0]!.equals(body)).toBe(true);
  });

  it('tells a clean end from a truncated header and a truncated body', () => {
    const clean = new FrameDecoder();
    decodeAll(clean, [encodeFrame(Buffer.from('a'))]);
    expect(codeOf(() => clean.end())).toBeUndefined();
    expect(codeOf(() => clean.end())).toBeUndefined();

    const header = new FrameDecoder();
    decodeAll(header, [Buffer.from([0, 0])]);
    expect(header.midFrame).toBe(true);
    expect(codeOf(() => header.end())).toBe('ERR_IPC_FRAME_TRUNCATED');

    const body = new FrameDecoder();
    const frame = encodeFrame(Buffer.alloc(100));
    decodeAll(body, [frame.subarray(0, 54)]);
    expect(body.bufferedBytes).toBe(50);
    let error: unknown;
    try {
      body.end();
    } catch (e) {
      error = e;
    }
    expect(isMajraError(error, 'ERR_IPC_FRAME_TRUNCATED')).toBe(true);
    expect((error as { details: unknown }).details).toMatchObject({
      part: 'body',
      expectedBytes: 104,
    });
    expect(body.bufferedBytes).toBe(0);
    expect(codeOf(() => body.push(Buffer.from([1]), () => undefined))).toBe(
      'ERR_IPC_DECODER_FAILED',
    );
  });

  it('fails the decoder when onFrame throws', () => {
    const decoder = new FrameDecoder();
    expect(
      codeOf(() =>
        decoder.push(encodeFrame(Buffer.from('a')), () => {
          throw new Error('boom');
        }),
      ),
    ).toBe('foreign:Error: boom');
    expect(decoder.done).toBe(true);
  });

  it('property: any chunking of a valid stream yields the same frames', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }),
        (bodies, cuts) => {
          const stream = Buffer.concat(bodies.map((b) => encodeFrame(b)));
          const chunks: Buffer[] = [];
          let offset = 0;
          for (let i = 0; offset < stream.length; i++) {
            const size = cuts[i % cuts.length]!;
            chunks.push(stream.subarray(offset, offset + size));
            offset += size;
          }
          const decoder = new FrameDecoder({ maxFrameBytes: 300 });
          const out = decodeAll(decoder, chunks);
          decoder.end();
          expect(out.map((b) => [...b])).toEqual(bodies.map((b) => [...b]));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('fuzz: 100,000 random or mutated inputs never crash, never exceed the cap', () => {
    const maxFrameBytes = 64;
    const valid = fc
      .array(fc.uint8Array({ maxLength: 80 }), { maxLength: 6 })
      .map((bodies) => Buffer.concat(bodies.map((b) => encodeFrame(b, 1 << 20))));
    const mutated = fc
      .tuple(
        valid,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      )
      .map(([stream, flips]) => {
        const copy = Buffer.from(stream);
        if (copy.length > 0) for (const [at, value] of flips) copy[at % copy.length] = value;
        return copy;
      });
    const input = fc.tuple(
      fc.oneof(fc.uint8Array({ maxLength: 200 }), valid, mutated),
      fc.integer({ min: 1, max: 32 }),
    );
    const allowed = new Set(['ERR_IPC_FRAME_TOO_LARGE', 'ERR_IPC_FRAME_TRUNCATED']);
    fc.assert(
      fc.property(input, ([stream, step]) => {
        const decoder = new FrameDecoder({ maxFrameBytes });
        let consumed = 0;
        try {
          for (let offset = 0; offset < stream.length; offset += step) {
            decoder.push(stream.subarray(offset, offset + step), (body) => {
              if (body.length > maxFrameBytes) throw new Error('body above the cap');
              consumed += FRAME_HEADER_BYTES + body.length;
            });
            if (decoder.bufferedBytes > maxFrameBytes) throw new Error('buffered above the cap');
          }
          decoder.end();
          // A clean end means every byte was a frame: the stream was exactly parsed.
          expect(consumed).toBe(stream.length);
        } catch (error) {
          if (!isMajraError(error) || !allowed.has(error.code)) throw error;
        }
      }),
      { numRuns: 100_000 },
    );
  });
});
