// Helpers for the IPC unit tests: temp socket paths and connected pairs. Not exported.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IpcConnection, type IpcConnectionOptions } from '../../src/ipc/connection.js';
import { IpcServer, type IpcServerOptions } from '../../src/ipc/server.js';

/** A fresh private directory for socket files, and its cleanup. */
export function tempSocketDir(): {
  dir: string;
  path: (name?: string) => string;
  remove: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'mj-'));
  return {
    dir,
    path: (name = 's.sock') => join(dir, name),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A server plus one connected client/server pair. */
export async function connectedPair(
  path: string,
  options: { server?: IpcServerOptions; client?: IpcConnectionOptions } = {},
): Promise<{ server: IpcServer; client: IpcConnection; peer: IpcConnection }> {
  const server = await IpcServer.listen(path, options.server);
  const [client, peer] = await Promise.all([
    IpcConnection.connect(path, options.client),
    server.accept(),
  ]);
  return { server, client, peer };
}

/** A raw socket connected to `path` (for sending hand-made bytes). */
export function rawSocket(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Lets the event loop turn `rounds` times (socket I/O included). */
export async function turns(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Settles `promise` into a value or the error it rejected with. */
export async function outcome(promise: Promise<unknown>): Promise<unknown> {
  try {
    return await promise;
  } catch (error) {
    return error;
  }
}
