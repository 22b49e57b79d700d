import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.js';
import {
  createEnvelope,
  decodeEnvelope,
  encodeEnvelope,
  envelopeFromJson,
  Target,
} from './envelope.js';

const UUID = '7f0c3a52-8c1e-4d7b-9a4e-1b2c3d4e5f60';
const golden = {
  id: UUID,
  from: 'node-1',
  to: { topic: 'crew.events' },
  payload: { status: 'ok', progress: 42 },
  timestamp: '2026-03-26T15:45:38.123456789Z',
};

describe('Envelope', () => {
  it('creates fresh ids and stamps time from the clock', () => {
    const clock = new ManualClock(1_000);
    const a = createEnvelope('a', Target.broadcast, 'ping', null, { clock });
    const b = createEnvelope('a', Target.broadcast, 'ping', null, { clock });
    expect(a.id).not.toBe(b.id);
    expect(a.timestamp).toBe(1_000);
  });

  it('round-trips through JSON keeping every field', () => {
    const env = createEnvelope('node-1', Target.topic('crew/events'), 'status', { n: 1 });
    const back = decodeEnvelope(encodeEnvelope(env));
    expect(back).toEqual(env);
  });

  it('uses the reference wire shape for each target', () => {
    const wire = (target: Target) =>
      JSON.parse(
        new TextDecoder().decode(encodeEnvelope(createEnvelope('n', target, 't', null))),
      ) as { to: unknown };
    expect(wire(Target.node('b')).to).toEqual({ node: 'b' });
    expect(wire(Target.topic('t')).to).toEqual({ topic: 't' });
    expect(wire(Target.broadcast).to).toBe('broadcast');
  });

  it('decodes a golden envelope from the Rust reference (ns fraction, no type, extra field)', () => {
    const env = envelopeFromJson({ ...golden, extra: 'ignored' });
    expect(env.target).toEqual({ kind: 'topic', topic: 'crew.events' });
    expect(env.type).toBe('message');
    expect(env.timestamp).toBe(Date.parse('2026-03-26T15:45:38.123Z'));
  });

  it.each([
    ['not an object', 42],
    ['array', []],
    ['missing id', { ...golden, id: undefined }],
    ['non-UUID id', { ...golden, id: 'abc' }],
    ['empty from', { ...golden, from: '' }],
    ['missing payload', { id: UUID, from: 'a', to: 'broadcast', timestamp: golden.timestamp }],
    ['bad timestamp', { ...golden, timestamp: 'yesterday' }],
    ['impossible date', { ...golden, timestamp: '2026-13-45T99:99:99Z' }],
    ['unknown target tag', { ...golden, to: { queue: 'x' } }],
    ['wrong target type', { ...golden, to: { node: 5 } }],
    ['two target tags', { ...golden, to: { node: 'a', topic: 'b' } }],
    ['empty type', { ...golden, type: '' }],
  ])('rejects %s with ERR_ENVELOPE_INVALID', (_label, value) => {
    expect(() => envelopeFromJson(value)).toThrow(
      expect.objectContaining({ code: 'ERR_ENVELOPE_INVALID' }),
    );
  });

  it('enforces the byte limit both ways', () => {
    const env = createEnvelope('n', Target.broadcast, 't', 'x'.repeat(1000));
    expect(() => encodeEnvelope(env, 100)).toThrow(
      expect.objectContaining({ code: 'ERR_CODEC_TOO_LARGE' }),
    );
    const bytes = encodeEnvelope(env);
    expect(() => decodeEnvelope(bytes, 100)).toThrow(
      expect.objectContaining({ code: 'ERR_CODEC_TOO_LARGE' }),
    );
  });

  it('refuses malformed bytes and bad constructor input', () => {
    expect(() => decodeEnvelope('{not json')).toThrow(
      expect.objectContaining({ code: 'ERR_CODEC_MALFORMED' }),
    );
    expect(() => createEnvelope('', Target.broadcast, 't', null)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => Target.node('')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});
