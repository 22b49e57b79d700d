// The soak's leak verdict on synthetic series: noise and a warm-up ramp pass, steady
// growth fails.
import { describe, expect, it } from 'vitest';
import { judgeMemory, theilSenSlope, type MemorySample } from '../../soak/memory.js';

const MiB = 1024 * 1024;

/** Deterministic pseudo-random noise in [-1, 1]. */
function noise(i: number): number {
  const x = Math.sin(i * 12.9898) * 43758.5453;
  return (x - Math.floor(x)) * 2 - 1;
}

function series(seconds: number, heapAt: (t: number) => number): MemorySample[] {
  return Array.from({ length: seconds + 1 }, (_, t) => ({
    t,
    heapUsed: heapAt(t),
    external: MiB,
    rss: 120 * MiB,
  }));
}

describe('soak memory verdict', () => {
  it('Theil-Sen ignores outliers', () => {
    const t = Array.from({ length: 20 }, (_, i) => i);
    const y = t.map((x) => 1000 * x);
    y[5] = 1e9;
    y[15] = -1e9;
    expect(theilSenSlope(t, y)).toBeCloseTo(1000, 6);
  });

  it('passes a noisy plateau after a warm-up ramp', () => {
    const samples = series(60, (t) => 20 * MiB + Math.min(t, 10) * 0.5 * MiB + noise(t) * 2 * MiB);
    expect(judgeMemory(samples, 60).failures).toEqual([]);
  });

  it('passes a sawtooth (caches filling and being evicted)', () => {
    const samples = series(3600, (t) => 30 * MiB + (t % 120) * 30_000);
    expect(judgeMemory(samples, 3600).failures).toEqual([]);
  });

  it('fails steady growth of 200 KiB/s in a 60-second run', () => {
    const samples = series(60, (t) => 20 * MiB + t * 200 * 1024 + noise(t) * MiB);
    const verdict = judgeMemory(samples, 60);
    expect(verdict.failures).toHaveLength(1);
    expect(verdict.failures[0]).toContain('heap keeps growing');
  });

  it('fails slow growth of 24 KiB/s over an hour', () => {
    const samples = series(3600, (t) => 30 * MiB + t * 24 * 1024 + noise(t) * 2 * MiB);
    expect(judgeMemory(samples, 3600).failures[0]).toContain('heap keeps growing');
  });

  it('passes JIT-like drift of 4 KiB/s over an hour', () => {
    const samples = series(3600, (t) => 30 * MiB + t * 4 * 1024 + noise(t) * 2 * MiB);
    expect(judgeMemory(samples, 3600).failures).toEqual([]);
  });

  it('does not fail on one late spike', () => {
    const samples = series(60, (t) => 20 * MiB + (t === 58 ? 50 * MiB : 0));
    expect(judgeMemory(samples, 60).failures).toEqual([]);
  });

  it('needs samples after the warm-up', () => {
    expect(
      judgeMemory(
        series(2, () => MiB),
        60,
      ).failures[0],
    ).toContain('samples');
  });
});
