import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { FleetQueue } from '../../src/fleet/fleet-queue.js';
import { RemoteFleetNode } from '../../src/fleet/remote-node.js';
import { HeartbeatTracker } from '../../src/heartbeat/tracker.js';
import { Priority } from '../../src/queue/priority.js';
import { PeerRouter } from '../../src/relay/peer-router.js';
import { Relay } from '../../src/relay/relay.js';
import { ManualClock } from '../../src/testing/manual-clock.js';
import { ConnectionPool } from '../../src/transport/connection-pool.js';
import { UnixSocketTransport } from '../../src/transport/unix.js';

const script = new URL('./fixtures/fleet-node.ts', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'majra-fleet-'));
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function spawnNode(id: string, path: string) {
  const child = fork(script, [id, path], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.push(child);
  let next = 0;
  const waiting = new Map<number, (m: { ids?: string[] }) => void>();
  const ready = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${id} exited (${code})`)));
    child.on('message', (raw) => {
      const m = raw as { ready?: boolean; id?: number; ids?: string[] };
      if (m.ready === true) resolve();
      else if (m.id !== undefined) waiting.get(m.id)?.(m);
    });
  });
  const call = (cmd: Record<string, unknown>) =>
    new Promise<{ ids?: string[] }>((resolve) => {
      const n = next++;
      waiting.set(n, resolve);
      child.send({ ...cmd, id: n });
    });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return { child, ready, call, exited };
}

async function until(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}

it('fleet across processes over the Relay: routing, stealing with stable ids, redistribution after a node dies', async () => {
  const transport = new UnixSocketTransport();
  const paths = {
    coord: join(dir, 'coord.sock'),
    n1: join(dir, 'n1.sock'),
    n2: join(dir, 'n2.sock'),
  };
  const n1 = spawnNode('n1', paths.n1);
  const n2 = spawnNode('n2', paths.n2);
  await Promise.all([n1.ready, n2.ready]);
  await Promise.all([
    n1.call({ cmd: 'peers', peers: paths }),
    n2.call({ cmd: 'peers', peers: paths }),
  ]);

  const pool = new ConnectionPool(transport, {
    breaker: { failureThreshold: 1, cooldownMs: 60_000 },
  });
  const coord = new Relay('coord', {
    router: new PeerRouter(pool, { peers: { n1: paths.n1, n2: paths.n2 } }),
  });
  await coord.listen(transport, paths.coord);
  const clock = new ManualClock();
  const heartbeat = new HeartbeatTracker({ clock, suspectAfterMs: 100, offlineAfterMs: 200 });
  heartbeat.register('n1');
  heartbeat.register('n2');
  const errors: Error[] = [];
  const fleet = new FleetQueue<{ n: number }>({
    stealThreshold: 1,
    maxStealBatch: 2,
    heartbeat,
    onError: (e) => errors.push(e),
  });
  fleet.addNode(new RemoteFleetNode(coord, 'n1', { timeoutMs: 2000 }));

  const ids: string[] = [];
  for (let n = 0; n < 4; n++) {
    const placed = await fleet.submit(Priority.Normal, { n });
    expect(placed.nodeId).toBe('n1');
    ids.push(placed.jobId);
  }
  expect((await n1.call({ cmd: 'queued' })).ids).toEqual(ids);

  // n2 joins idle: rebalance steals two jobs, which keep their ids.
  fleet.addNode(new RemoteFleetNode(coord, 'n2', { timeoutMs: 2000 }));
  expect(await fleet.rebalance()).toBe(2);
  const onN2 = (await n2.call({ cmd: 'queued' })).ids!;
  expect(onN2).toHaveLength(2);
  for (const id of onN2) expect(ids).toContain(id);
  expect((await n1.call({ cmd: 'queued' })).ids).toHaveLength(2);

  // n1 dies; the heartbeat marks it offline and its queued jobs are re-queued on n2.
  n1.child.kill('SIGKILL');
  await n1.exited;
  clock.advance(150);
  heartbeat.beat('n2');
  clock.advance(100);
  heartbeat.beat('n2');
  heartbeat.sweep();
  await until('redistribution', () => fleet.stats().totalRedistributed === 2);
  const all = (await n2.call({ cmd: 'queued' })).ids!;
  expect([...all].sort()).toEqual([...ids].sort());
  for (const id of ids) expect(fleet.locate(id)).toBe('n2');

  // New work only goes to the healthy node.
  expect((await fleet.submit(Priority.Normal, { n: 9 })).nodeId).toBe('n2');
  expect(errors).toEqual([]);

  await fleet.close();
  await coord.close();
  await pool.close();
  n2.child.disconnect();
  await n2.exited;
});
