import { describe, expect, it } from 'vitest';
import { randomUuid } from './uuid.js';

describe('randomUuid', () => {
  it('gives distinct lower-case version 4 UUIDs across several random batches', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const id = randomUuid();
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      seen.add(id);
    }
    expect(seen.size).toBe(2000);
  });

  it('uses every hex digit in every random position', () => {
    const digits = Array.from({ length: 36 }, () => new Set<string>());
    for (let i = 0; i < 2000; i++) {
      const id = randomUuid();
      for (let k = 0; k < id.length; k++) digits[k]?.add(id.charAt(k));
    }
    const sizes = digits.map((d) => d.size);
    const fixed = new Map([
      [8, 1],
      [13, 1],
      [14, 1],
      [18, 1],
      [19, 4],
      [23, 1],
    ]);
    sizes.forEach((size, k) => expect(size).toBe(fixed.get(k) ?? 16));
  });
});
