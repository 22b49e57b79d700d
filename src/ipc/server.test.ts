import { linkSync, lstatSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isMajraError } from '../core/errors.js';
import { MemoryMetricsSink } from '../testing/memory-metrics.js';
import { outcome, tempSocketDir, turns } from '../../test/support/ipc.js';
import { IpcConnection } from './connection.js';
import { IpcServer } from './server.js';

let dir: ReturnType<typeof tempSocketDir>;
const cleanup: (() => Promise<void>)[] = [];

beforeEach(() => {
  dir = tempSocketDir();
});
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
  dir.remove();
});

function code(value: unknown): string | undefined {
  return isMajraError(value) ? value.code : undefined;
}

async function listen(path = dir.path(), options = {}): Promise<IpcServer> {
  const server = await IpcServer.listen(path, options);
  cleanup.push(() => server.close());
  return server;
}

async function dial(path = dir.path()): Promise<IpcConnection> {
  const conn = await IpcConnection.connect(path);
  cleanup.push(() => conn.destroy());
  return conn;
}

/** A socket file nobody listens on: hard-link a live one, then close the original. */
async function makeStaleSocket(path: string): Promise<void> {
  const original = dir.path('orig.sock');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(original, resolve));
  linkSync(original, path);
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe('IpcServer', () => {
  it('creates the socket file with mode 0600 by default, or the mode asked for', async () => {
    const server = await listen();
    expect(lstatSync(server.path).isSocket()).toBe(true);
    expect(lstatSync(server.path).mode & 0o777).toBe(0o600);
    const other = await listen(dir.path('b.sock'), { mode: 0o660 });
    expect(lstatSync(other.path).mode & 0o777).toBe(0o660);
  });

  it('accepts connections as an AsyncIterable and serves each one', async () => {
    const server = await listen();
    const served = (async () => {
      let count = 0;
      for await (const conn of server) {
        cleanup.push(() => conn.destroy());
        const message = await conn.recv<number>();
        await conn.send(message * 2);
        if (++count === 3) break;
      }
      return count;
    })();
    const replies: unknown[] = [];
    for (let i = 1; i <= 3; i++) {
      const conn = await dial();
      await conn.send(i);
      replies.push(await conn.recv());
    }
    expect(replies).toEqual([2, 4, 6]);
    expect(await served).toBe(3);
  });

  it('replaces a stale socket file (§1.5.16)', async () => {
    const path = dir.path();
    await makeStaleSocket(path);
    expect(lstatSync(path).isSocket()).toBe(true);
    expect(code(await outcome(IpcConnection.connect(path)))).toBe('ERR_IPC_IO');
    const server = await listen(path);
    const conn = await dial(path);
    const peer = await server.accept();
    await conn.send('fresh');
    expect(await peer.recv()).toBe('fresh');
    await peer.destroy();
  });

  it('reports ECONNREFUSED when connecting to a stale socket (§1.5.17)', async () => {
    const path = dir.path();
    await makeStaleSocket(path);
    const error = await outcome(IpcConnection.connect(path));
    expect((error as { details: unknown }).details).toEqual({ errno: 'ECONNREFUSED' });
  });

  it('never replaces a regular file or a live socket (§1.5.16)', async () => {
    const file = dir.path('data.txt');
    writeFileSync(file, 'precious');
    expect(code(await outcome(IpcServer.listen(file)))).toBe('ERR_IPC_PATH_NOT_SOCKET');
    expect(readFileSync(file, 'utf8')).toBe('precious');
    const live = await listen();
    expect(code(await outcome(IpcServer.listen(live.path)))).toBe('ERR_IPC_ADDRESS_IN_USE');
    // The live server still works. It saw the liveness probe as a connection that
    // closed at once; the next one is ours.
    const probe = await live.accept();
    expect(code(await outcome(probe.recv()))).toBe('ERR_IPC_CONNECTION_CLOSED');
    await probe.close();
    const conn = await dial();
    const peer = await live.accept();
    await conn.send('still');
    expect(await peer.recv()).toBe('still');
    await peer.destroy();
  });

  it('rejects paths over the OS limit and bad options before any I/O', async () => {
    expect(code(await outcome(IpcServer.listen(`${dir.dir}/${'x'.repeat(110)}`)))).toBe(
      'ERR_IPC_PATH_TOO_LONG',
    );
    expect(code(await outcome(IpcServer.listen('')))).toBe('ERR_INVALID_ARGUMENT');
    expect(code(await outcome(IpcServer.listen(dir.path(), { mode: 0o1000 })))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(code(await outcome(IpcServer.listen(dir.path(), { maxPendingConnections: 0 })))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(code(await outcome(IpcServer.listen(dir.path(), { signal: AbortSignal.abort() })))).toBe(
      'ERR_ABORTED',
    );
  });

  it('aborting a pending accept rejects it and the next connection goes to the next accept (§1.5.18)', async () => {
    const server = await listen();
    const controller = new AbortController();
    const aborted = outcome(server.accept({ signal: controller.signal }));
    controller.abort();
    expect(code(await aborted)).toBe('ERR_ABORTED');
    const conn = await dial();
    const peer = await server.accept();
    await conn.send('x');
    expect(await peer.recv()).toBe('x');
    await peer.destroy();
  });

  it('close(): pending accept rejects, accepted connections stay usable, socket removed (§1.5.21)', async () => {
    const server = await IpcServer.listen(dir.path());
    const conn = await dial();
    const peer = await server.accept();
    cleanup.push(() => peer.destroy());
    const pending = outcome(server.accept());
    await server.close();
    expect(code(await pending)).toBe('ERR_CLOSED');
    expect(code(await outcome(server.accept()))).toBe('ERR_CLOSED');
    expect(() => lstatSync(dir.path())).toThrow();
    await conn.send('after close');
    expect(await peer.recv()).toBe('after close');
    await peer.send('back');
    expect(await conn.recv()).toBe('back');
    const ended: unknown[] = [];
    for await (const c of server) ended.push(c);
    expect(ended).toEqual([]);
  });

  it('does not remove a socket file that another server now owns', async () => {
    const path = dir.path();
    const first = await IpcServer.listen(path);
    // Simulate the path being taken over: remove and bind another server there.
    await first.close();
    const second = await listen(path);
    await first.close();
    expect(lstatSync(second.path).isSocket()).toBe(true);
  });

  it('bounds the accept queue: connections beyond maxPendingConnections are closed', async () => {
    const metrics = new MemoryMetricsSink();
    const server = await listen(dir.path(), { maxPendingConnections: 2, metrics });
    const conns = await Promise.all([dial(), dial(), dial(), dial()]);
    while (metrics.counter('majra_ipc_connections_total', { side: 'rejected' }) < 2) await turns(1);
    expect(server.pendingConnections).toBe(2);
    await server.close(); // closes the two never-accepted connections too
    const closedCodes = await Promise.all(conns.map((c) => outcome(c.recv())));
    expect(closedCodes.every((e) => code(e) === 'ERR_IPC_CONNECTION_CLOSED')).toBe(true);
    expect(metrics.counter('majra_ipc_connections_total', { side: 'accepted' })).toBe(2);
  });

  it('keeps serving other connections when one peer sends garbage', async () => {
    const server = await listen();
    const bad = await dial();
    const badPeer = await server.accept();
    cleanup.push(() => badPeer.destroy());
    const good = await dial();
    const goodPeer = await server.accept();
    cleanup.push(() => goodPeer.destroy());
    await bad.sendBytes(Buffer.from('not json'));
    expect(code(await outcome(badPeer.recv()))).toBe('ERR_CODEC_MALFORMED');
    await good.send('fine');
    expect(await goodPeer.recv()).toBe('fine');
  });
});
