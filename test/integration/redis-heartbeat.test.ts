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
    await hb.register('n1', { zone: 'a' });
    expect(await hb.heartbeat('n1')).toBe(true);
    expect(await hb.heartbeat('ghost')).toBe(false);
    expect(await client.exists(`${hb.key}:node:ghost`)).toBe(0);
    expect(await hb.get('n1')).toMatchObject({
      nodeId: 'n1',
      status: 'online',
      metadata: { zone: 'a' },
    });
    expect(await hb.heartbeatWithMetadata('n1', { zone: 'b' })).toBe(true);
    expect((await hb.get('n1'))?.metadata).toEqual({ zone: 'b' });
    expect(await hb.deregister('n1')).toBe(true);
    expect(await hb.deregister('n1')).toBe(false);
    expect(await hb.get('n1')).toBeUndefined();
    await hb.close();
  });

  it('moves nodes online -> suspect -> offline on the server clock, then expires them', async () => {
    const hb = await tracker({ suspectAfterMs: 100, offlineAfterMs: 300, retainOfflineMs: 300 });
    await hb.register('quiet');
    await hb.register('busy');
    await sleep(150);
    await hb.heartbeat('busy');
    expect(Object.fromEntries((await hb.nodes()).map((n) => [n.nodeId, n.status]))).toEqual({
      quiet: 'suspect',
      busy: 'online',
    });
    await sleep(250);
    expect((await hb.get('quiet'))?.status).toBe('offline');
    expect((await hb.listByStatus('offline')).map((n) => n.nodeId)).toEqual(['quiet']);
    const ttl = await client.pttl(`${hb.key}:node:quiet`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(600);
    await sleep(400);
    expect(await hb.get('quiet')).toBeUndefined();
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
    await hb.register('gpu', null, {
      telemetry: [
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
    });
    expect(
      await hb.heartbeatWithTelemetry('gpu', [
        { utilizationPct: 95, memoryUsedMb: 0, memoryTotalMb: 16_000 },
      ]),
    ).toBe(true);
    expect((await hb.get('gpu'))?.telemetry).toEqual([
      { utilizationPct: 95, memoryUsedMb: 0, memoryTotalMb: 16_000 },
    ]);
    await hb.register('gpu');
    expect((await hb.get('gpu'))?.telemetry).toBeUndefined();
    await expect(
      hb.heartbeatWithTelemetry('gpu', [
        { utilizationPct: Number.NaN, memoryUsedMb: 0, memoryTotalMb: 1 },
      ]),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
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
    const ids = ['a b', '*', '?', '[x]', '\\', 'new\nline', '"; FLUSHALL', 'n'.repeat(65_536)];
    for (const id of ids) await hb.register(id, { id });
    const listed = (await hb.nodes()).map((n) => n.nodeId).sort();
    expect(listed).toEqual([...ids].sort());
    await expect(hb.register('')).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
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
