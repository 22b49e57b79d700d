import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder, MAX_FRAME_BYTES } from './framing.js';

describe('framing', () => {
  it('any chunking of a valid stream yields the same frames', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 20 }),
        (bodies, cuts) => {
          const stream = Buffer.concat(bodies.map((b) => encodeFrame(b)));
          const decoder = new FrameDecoder();
          const out: Buffer[] = [];
          let at = 0;
          let i = 0;
          while (at < stream.length) {
            const n = cuts[i++ % cuts.length]!;
            out.push(...decoder.push(stream.subarray(at, at + n)));
            at += n;
          }
          expect(out.map((b) => [...b])).toEqual(bodies.map((b) => [...b]));
          expect(decoder.midFrame).toBe(false);
          expect(decoder.error).toBeUndefined();
        },
      ),
    );
  });

  it('the cap is inclusive; one byte more is refused on both sides', () => {
    expect(() => encodeFrame(new Uint8Array(11), 10)).toThrow(
      expect.objectContaining({ code: 'ERR_TRANSPORT_FRAME_TOO_LARGE' }),
    );
    expect(encodeFrame(new Uint8Array(10), 10).length).toBe(14);
    const decoder = new FrameDecoder(10);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(11, 0);
    expect(decoder.push(Buffer.concat([encodeFrame(Buffer.from('ok')), header]))).toHaveLength(1);
    expect(decoder.error).toMatchObject({ code: 'ERR_TRANSPORT_FRAME_TOO_LARGE' });
    expect(decoder.push(encodeFrame(Buffer.from('late')))).toEqual([]);
    expect(MAX_FRAME_BYTES).toBe(16 * 1024 * 1024);
  });

  it('reports a partial frame', () => {
    const decoder = new FrameDecoder();
    decoder.push(encodeFrame(Buffer.from('hello')).subarray(0, 6));
    expect(decoder.midFrame).toBe(true);
  });
});
