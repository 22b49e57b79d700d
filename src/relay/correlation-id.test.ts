import { describe, expect, it } from 'vitest';
import { randomCorrelationId } from './correlation-id.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('randomCorrelationId', () => {
  it('returns distinct random UUID v4 strings across RNG batches', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const id = randomCorrelationId();
      expect(id).toMatch(UUID_V4);
      seen.add(id);
    }
    expect(seen.size).toBe(1000);
  });

  it('uses every hex digit in every free position (the bytes are random, not a counter)', () => {
    // 122 random bits per id: over 2000 ids each free nibble position takes all 16 values.
    const positions = new Map<number, Set<string>>();
    for (let i = 0; i < 2000; i++) {
      const id = randomCorrelationId().replaceAll('-', '');
      for (let p = 0; p < 32; p++) {
        if (p === 12 || p === 16) continue; // version and variant nibbles
        let set = positions.get(p);
        if (set === undefined) positions.set(p, (set = new Set()));
        set.add(id[p] as string);
      }
    }
    for (const set of positions.values()) expect(set.size).toBe(16);
  });
});
