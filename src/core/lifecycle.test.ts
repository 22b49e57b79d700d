import { describe, expect, it } from 'vitest';
import { ClosedError } from './errors.js';
import { Lifecycle } from './lifecycle.js';

describe('Lifecycle', () => {
  it('runs close work once for concurrent and repeated calls', async () => {
    const life = new Lifecycle('thing');
    let runs = 0;
    const work = async () => {
      runs++;
      await Promise.resolve();
    };
    const a = life.close(work);
    const b = life.close(work);
    expect(a).toBe(b);
    await a;
    await life.close(work);
    expect(runs).toBe(1);
    await expect(life.closed).resolves.toBeUndefined();
  });

  it('counts as closed from the first call and guards operations', async () => {
    const life = new Lifecycle('hub');
    expect(() => life.assertOpen('publish')).not.toThrow();
    const closing = life.close(() => new Promise<void>((r) => setImmediate(r)));
    expect(life.isClosed).toBe(true);
    expect(() => life.assertOpen('publish')).toThrow(
      new ClosedError('hub is closed: cannot publish'),
    );
    expect(() => life.assertOpen()).toThrow('hub is closed');
    await closing;
  });

  it('propagates close errors but still resolves closed', async () => {
    const life = new Lifecycle('x');
    await expect(life.close(() => Promise.reject(new Error('cleanup failed')))).rejects.toThrow(
      'cleanup failed',
    );
    await expect(life.closed).resolves.toBeUndefined();
  });

  it('closeSync is idempotent', async () => {
    const life = new Lifecycle('x');
    let runs = 0;
    life.closeSync(() => runs++);
    life.closeSync(() => runs++);
    await life.close(() => {
      runs++;
    });
    expect(runs).toBe(1);
    await life.closed;
  });
});
