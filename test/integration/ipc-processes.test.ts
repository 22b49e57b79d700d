// Two real processes over a Unix socket: 100,000 frames each way, plain and encrypted
// (with rekeys from both sides in the middle), every frame checked for order.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EncryptedIpcConnection } from '../../src/ipc/encrypted.js';
import { IpcServer } from '../../src/ipc/server.js';
import { MemoryMetricsSink } from '../../src/testing/memory-metrics.js';
import { tempSocketDir } from '../support/ipc.js';
import { exchange } from '../support/ipc-exchange.js';

const CHILD = fileURLToPath(new URL('../support/ipc-child.ts', import.meta.url));
const COUNT = 100_000;
let dir: ReturnType<typeof tempSocketDir>;

beforeEach(() => {
  dir = tempSocketDir();
});
afterEach(() => {
  dir.remove();
});

function runChild(args: string[], key: Buffer): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
    env: { ...process.env, MAJRA_TEST_KEY: key.toString('hex') },
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
}

describe('IPC between two processes', () => {
  it('exchanges 100,000 plain frames each way, in order', async () => {
    const metrics = new MemoryMetricsSink();
    await using server = await IpcServer.listen(dir.path(), { metrics });
    const exited = runChild(['plain', server.path, String(COUNT), ''], Buffer.alloc(0));
    const conn = await server.accept();
    const result = await exchange(conn, COUNT, []);
    const summary = await conn.recv();
    await conn.send('bye');
    expect(result.received).toBe(COUNT);
    expect(summary).toEqual({ done: true, received: COUNT, epoch: 0 });
    const { code, stderr } = await exited;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    await conn.close();
    expect(metrics.counter('majra_ipc_frames_received_total', { layer: 'plain' })).toBe(COUNT + 1);
  }, 120_000);

  it('exchanges 100,000 encrypted frames each way with rekeys from both sides', async () => {
    const key = randomBytes(32);
    const metrics = new MemoryMetricsSink();
    await using server = await IpcServer.listen(dir.path());
    const exited = runChild(['encrypted', server.path, String(COUNT), '50000'], key);
    const conn = await EncryptedIpcConnection.accept(await server.accept(), key, { metrics });
    const result = await exchange(conn, COUNT, [25_000, 75_000]);
    const summary = await conn.recv<{ done: boolean; received: number; epoch: number }>();
    await conn.send('bye');
    expect(result.received).toBe(COUNT);
    expect(summary.received).toBe(COUNT);
    // Three rekeys were requested; crossing requests may merge into one epoch.
    expect(conn.epoch).toBeGreaterThanOrEqual(2);
    expect(summary.epoch).toBe(conn.epoch);
    const { code, stderr } = await exited;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(metrics.counter('majra_ipc_rekeys_total')).toBe(conn.epoch);
    await conn.close();
  }, 180_000);
});
