import { afterAll, describe, expect, it } from 'vitest';
import {
  RedisHeartbeatTracker,
  connectRedisHeartbeatTracker,
  type RedisHeartbeatTrackerOptions,
} from '../../src/backends/redis/index.js';
import { redisScope } from '../support/redis.js';

const scope = redisScope('redis_heartbeat');
afterAll(() => scope.cleanup());
const client = scope.client();
let counter = 0;

function tracker(options: RedisHeartbeatTrackerOptions = {}): Promise<RedisHeartbeatTracker> {
  return connectRedisHeartbeatTracker(client, `hb${counter++}`, {
    prefix: scope.prefix,
    ...options,
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('RedisHeartbeatTracker', () => {
  it('registers, heartbeats known nodes only, deregisters', async () => {
    const hb = await tracker();
    await hb.register('n1', { metadata: { zone: 'a' } });
    expect(await hb.beat('n1')).toBe(true);
    expect(await hb.beat('ghost')).toBe(false);
    expect(await client.exists(`${hb.key}:node:ghost`)).toBe(0);
    expect(await hb.get('n1')).toMatchObject({
      nodeId: 'n1',
      status: 'online',
      metadata: { zone: 'a' },
    });
    expect(await hb.beat('n1', { metadata: { zone: 'b' } })).toBe(true);
    expect(await hb.beat('n1')).toBe(true);
    expect((await hb.get('n1'))?.metadata).toEqual({ zone: 'b' });
    expect(await hb.deregister('n1')).toBe(true);
    expect(await hb.deregister('n1')).toBe(false);
    expect(await hb.get('n1')).toBeUndefined();
    await hb.close();
  });

  it('moves nodes online -> suspect -> offline on the server clock, then expires them', async () => {
    // Each assertion only relies on "at least this much time has passed".
    const a = await tracker({ suspectAfterMs: 300, offlineAfterMs: 100_000 });
    await a.register('quiet');
    await sleep(350);
    await a.register('fresh');
    expect(Object.fromEntries((await a.nodes()).map((n) => [n.nodeId, n.status]))).toEqual({
      quiet: 'suspect',
      fresh: 'online',
    });
    const b = await tracker({ suspectAfterMs: 10, offlineAfterMs: 50, retainOfflineMs: 60_000 });
    await b.register('gone-quiet');
    await sleep(80);
    expect((await b.get('gone-quiet'))?.status).toBe('offline');
    expect((await b.listByStatus('offline')).map((n) => n.nodeId)).toEqual(['gone-quiet']);
    const c = await tracker({ suspectAfterMs: 10, offlineAfterMs: 20, retainOfflineMs: 30 });
    await c.register('expiring');
    const ttl = await client.pttl(`${c.key}:node:expiring`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(50);
    await sleep(200);
    expect(await c.get('expiring')).toBeUndefined();
    expect(await c.beat('expiring')).toBe(false);
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('sweep reports transitions since the previous sweep', async () => {
    const hb = await tracker({ suspectAfterMs: 300, offlineAfterMs: 100_000 });
    await hb.register('a');
    expect(await hb.sweep()).toEqual([]);
    await sleep(350);
    expect((await hb.sweep()).map((t) => [t.nodeId, t.from, t.to])).toEqual([
      ['a', 'online', 'suspect'],
    ]);
    expect(await hb.sweep()).toEqual([]);
    await hb.beat('a');
    expect((await hb.sweep()).map((t) => [t.nodeId, t.from, t.to])).toEqual([
      ['a', 'suspect', 'online'],
    ]);
    await hb.close();
  });

  it('classifies with inclusive thresholds', async () => {
    const hb = new RedisHeartbeatTracker(client, 'x', { suspectAfterMs: 10, offlineAfterMs: 20 });
    expect([0, 9, 10, 19, 20, 1e9].map((e) => hb.statusFor(e))).toEqual([
      'online',
      'online',
      'suspect',
      'suspect',
      'offline',
      'offline',
    ]);
    await hb.close();
  });

  it('reports fleet stats with telemetry; re-registering clears telemetry', async () => {
    const hb = await tracker();
    await hb.register('gpu', {
      gpus: [
        { utilizationPct: 50, memoryUsedMb: 6000, memoryTotalMb: 8000 },
        { utilizationPct: 10, memoryUsedMb: 9000, memoryTotalMb: 8000 },
      ],
    });
    await hb.register('cpu');
    expect(await hb.fleetStats()).toEqual({
      totalNodes: 2,
      online: 2,
      suspect: 0,
      offline: 0,
      totalGpus: 2,
      totalVramMb: 16_000,
      availableVramMb: 2000,
      avgGpuUtilizationPct: 30,
    });
    expect(
      await hb.beat('gpu', {
        gpus: [{ utilizationPct: 95, memoryUsedMb: 0, memoryTotalMb: 16_000 }],
      }),
    ).toBe(true);
    expect((await hb.get('gpu'))?.gpus).toEqual([
      { utilizationPct: 95, memoryUsedMb: 0, memoryTotalMb: 16_000 },
    ]);
    await hb.register('gpu');
    expect((await hb.get('gpu'))?.gpus).toEqual([]);
    await expect(
      hb.beat('gpu', { gpus: [{ utilizationPct: Number.NaN, memoryUsedMb: 0, memoryTotalMb: 1 }] }),
    ).rejects.toMatchObject({ code: 'ERR_HEARTBEAT_INVALID_TELEMETRY' });
    await hb.close();
  });

  it('lists with SCAN over 1200 nodes, only its own prefix', async () => {
    const hb = await tracker({ scanCount: 100 });
    const other = await connectRedisHeartbeatTracker(client, `hb${counter - 1}x`, {
      prefix: scope.prefix,
    });
    await Promise.all(Array.from({ length: 1200 }, (_, i) => hb.register(`node-${i}`)));
    await other.register('intruder');
    const nodes = await hb.nodes();
    expect(nodes).toHaveLength(1200);
    expect(new Set(nodes.map((n) => n.nodeId)).has('intruder')).toBe(false);
    await Promise.all([hb.close(), other.close()]);
  });

  it('keeps nasty node ids and glob-character prefixes literal', async () => {
    const weird = `${scope.prefix}[hb]*?\\ "q" `;
    const hb = await connectRedisHeartbeatTracker(client, 'fleet*', { prefix: weird });
    const plain = await connectRedisHeartbeatTracker(client, 'fleetX', {
      prefix: `${scope.prefix}[hb]a\\ "q" `,
    });
    await plain.register('must-not-be-listed');
    const ids = ['a b', '*', '?', '[x]', '\\', 'new\nline', '"; FLUSHALL', 'n'.repeat(256)];
    for (const id of ids) await hb.register(id, { metadata: { id, big: 'x'.repeat(64 * 1024) } });
    const listed = (await hb.nodes()).map((n) => n.nodeId).sort();
    expect(listed).toEqual([...ids].sort());
    expect((await hb.get('new\nline'))?.metadata).toEqual({
      id: 'new\nline',
      big: 'x'.repeat(64 * 1024),
    });
    await expect(hb.register('')).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(hb.register('n'.repeat(257))).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    await Promise.all([hb.close(), plain.close()]);
  });

  it('validates options', () => {
    expect(
      () => new RedisHeartbeatTracker(client, 'x', { suspectAfterMs: 100, offlineAfterMs: 100 }),
    ).toThrow(/suspectAfterMs/);
    expect(() => new RedisHeartbeatTracker(client, 'x', { offlineAfterMs: 0 })).toThrow(
      /offlineAfterMs/,
    );
  });
});
