import { describe, expect, it } from 'vitest';
import {
  parseResourcePool,
  parseResourceReq,
  poolSatisfies,
  ResourceLedger,
} from './resource-ledger.js';

describe('resources', () => {
  it('fit checks GPUs and aggregate VRAM (scenario 25)', () => {
    expect(poolSatisfies({ gpuCount: 0, vramMb: 0 }, undefined)).toBe(true);
    expect(poolSatisfies({ gpuCount: 0, vramMb: 0 }, { gpuCount: 0, vramMb: 0 })).toBe(true);
    expect(poolSatisfies({ gpuCount: 0, vramMb: 100 }, { gpuCount: 0, vramMb: 100 })).toBe(true);
    expect(poolSatisfies({ gpuCount: 0, vramMb: 99 }, { gpuCount: 0, vramMb: 100 })).toBe(false);
    expect(poolSatisfies({ gpuCount: 1, vramMb: 8000 }, { gpuCount: 4, vramMb: 100 })).toBe(false);
  });

  it.each([-1, 1.5, Number.NaN, Infinity, '1'])('refuses %s in a request', (bad) => {
    expect(() => parseResourceReq({ gpuCount: bad, vramMb: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_QUEUE_INVALID_RESOURCES' }) as Error,
    );
  });

  it('accepts Infinity in a pool but not NaN', () => {
    expect(parseResourcePool({ gpuCount: Infinity, vramMb: 5 }).gpuCount).toBe(Infinity);
    expect(() => parseResourcePool({ gpuCount: Number.NaN, vramMb: 5 })).toThrow();
    expect(() => parseResourcePool(null)).toThrow();
  });
});

describe('ResourceLedger', () => {
  it('tracks holdings against capacity', () => {
    const ledger = new ResourceLedger({ gpuCount: 4, vramMb: 96_000 });
    ledger.acquire('a', { gpuCount: 1, vramMb: 24_000 });
    ledger.acquire('b', { gpuCount: 2, vramMb: 48_000 });
    ledger.acquire('c', undefined);
    expect(ledger.free()).toEqual({ gpuCount: 1, vramMb: 24_000 });
    expect(ledger.size).toBe(2);
    expect(ledger.fits({ gpuCount: 1, vramMb: 24_000 })).toBe(true);
    expect(ledger.fits({ gpuCount: 2, vramMb: 1 })).toBe(false);
    expect(ledger.release('a')).toBe(true);
    expect(ledger.release('a')).toBe(false);
    expect(ledger.heldBy('b')).toEqual({ gpuCount: 2, vramMb: 48_000 });
    expect(ledger.used).toEqual({ gpuCount: 2, vramMb: 48_000 });
  });

  it('never reports negative free resources and replaces a re-acquire', () => {
    const ledger = new ResourceLedger({ gpuCount: 1, vramMb: 10 });
    ledger.acquire('a', { gpuCount: 3, vramMb: 30 });
    expect(ledger.free()).toEqual({ gpuCount: 0, vramMb: 0 });
    ledger.acquire('a', { gpuCount: 1, vramMb: 1 });
    expect(ledger.used).toEqual({ gpuCount: 1, vramMb: 1 });
  });

  it('validates its capacity', () => {
    expect(() => new ResourceLedger({ gpuCount: -1, vramMb: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_QUEUE_INVALID_RESOURCES' }) as Error,
    );
  });
});
