import { describe, expect, it } from 'vitest';
import { decodeJson, encodeJson, jsonCodec } from './codec.js';

describe('JSON codec', () => {
  it('round-trips values', () => {
    const value = { a: [1, 'two', null, true], b: { c: 'é😀' } };
    expect(decodeJson(encodeJson(value))).toEqual(value);
    const codec = jsonCodec<typeof value>({ maxBytes: 1024 });
    expect(codec.decode(codec.encode(value))).toEqual(value);
  });

  it('refuses values JSON cannot represent', () => {
    const circular: Record<string, unknown> = {};
    circular['self'] = circular;
    for (const v of [undefined, () => 1, Symbol('s'), 1n, circular]) {
      expect(() => encodeJson(v)).toThrow(
        expect.objectContaining({ code: 'ERR_CODEC_NOT_SERIALIZABLE' }),
      );
    }
  });

  it('enforces the byte limit on encode, counting UTF-8 bytes', () => {
    expect(() => encodeJson('x'.repeat(20), 16)).toThrow(
      expect.objectContaining({ code: 'ERR_CODEC_TOO_LARGE', details: { size: 22, maxBytes: 16 } }),
    );
    // 5 three-byte characters + 2 quotes = 17 bytes although the string has 5 units.
    expect(() => encodeJson('€€€€€', 16)).toThrow(
      expect.objectContaining({ code: 'ERR_CODEC_TOO_LARGE' }),
    );
    expect(encodeJson('€€€€', 16).byteLength).toBe(14);
  });

  it('enforces the byte limit on decode before parsing', () => {
    expect(() => decodeJson(new Uint8Array(17), 16)).toThrow(
      expect.objectContaining({ code: 'ERR_CODEC_TOO_LARGE' }),
    );
  });

  it('reports malformed input as a protocol error', () => {
    expect(() => decodeJson('{"a":')).toThrow(
      expect.objectContaining({ code: 'ERR_CODEC_MALFORMED' }),
    );
    expect(() => decodeJson(new Uint8Array([0xff, 0xfe]))).toThrow(
      expect.objectContaining({ code: 'ERR_CODEC_MALFORMED' }),
    );
  });

  it('validates codec options', () => {
    for (const maxBytes of [0, -1, Number.NaN, 1.5]) {
      expect(() => jsonCodec({ maxBytes })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
  });
});
