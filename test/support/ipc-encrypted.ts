// Shared harness of the EncryptedIpcConnection tests: socket pairs in a temp dir, the
// encrypted handshake on both ends, and majra against the independent doc-written peer.
// Everything made is closed after each test.
import { afterEach, beforeEach } from 'vitest';
import { isMajraError } from '../../src/core/errors.js';
import type { IpcConnection } from '../../src/ipc/connection.js';
import { EncryptedIpcConnection, type EncryptedIpcOptions } from '../../src/ipc/encrypted.js';
import type { IpcServer } from '../../src/ipc/server.js';
import { connectedPair, tempSocketDir } from './ipc.js';
import * as peer from './ipc-peer.js';

/** The pre-shared key of the tests. */
export const KEY = Buffer.alloc(32, 0x2a);

/** The error code of a rejection value, if it is a MajraError. */
export function code(value: unknown): string | undefined {
  return isMajraError(value) ? value.code : undefined;
}

/** Registers the per-test setup and cleanup; call once at the top of a test file. */
export function useEncryptedHarness() {
  let dir: ReturnType<typeof tempSocketDir>;
  const cleanup: (() => Promise<void>)[] = [];
  let pairs = 0;
  beforeEach(() => {
    dir = tempSocketDir();
  });
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
    dir.remove();
  });

  async function plainPair(options: Parameters<typeof connectedPair>[1] = {}): Promise<{
    server: IpcServer;
    client: IpcConnection;
    peer: IpcConnection;
  }> {
    const p = await connectedPair(dir.path(`s${++pairs}.sock`), options);
    cleanup.push(
      () => p.server.close(),
      () => p.client.destroy(),
      () => p.peer.destroy(),
    );
    return p;
  }

  async function encPair(
    dialerOptions: EncryptedIpcOptions = {},
    acceptorOptions: EncryptedIpcOptions = dialerOptions,
    keys: [Uint8Array, Uint8Array] = [KEY, KEY],
  ): Promise<{ dialer: EncryptedIpcConnection; acceptor: EncryptedIpcConnection }> {
    const { client, peer: accepted } = await plainPair();
    const [dialer, acceptor] = await Promise.all([
      EncryptedIpcConnection.establish(client, keys[0], 'dialer', dialerOptions),
      EncryptedIpcConnection.establish(accepted, keys[1], 'acceptor', acceptorOptions),
    ]);
    cleanup.push(
      () => dialer.close(),
      () => acceptor.close(),
    );
    return { dialer, acceptor };
  }

  /**
   * majra as the dialer against the independent, doc-written peer as the acceptor. The
   * peer side is a plain connection so tests can read and forge raw records.
   */
  async function againstDocPeer(options: EncryptedIpcOptions = {}) {
    const { client, peer: raw } = await plainPair();
    const acceptorSalt = peer.salt();
    const [dialer, helloBody] = await Promise.all([
      EncryptedIpcConnection.establish(client, KEY, 'dialer', options),
      (async () => {
        const body = await raw.recvBytes();
        await raw.sendBytes(peer.hello(KEY, 'acceptor', acceptorSalt));
        return body;
      })(),
    ]);
    cleanup.push(() => dialer.close());
    const dialerSalt = peer.readHello(KEY, helloBody, 'dialer');
    return {
      dialer,
      raw,
      d2a: peer.directionKey(KEY, dialerSalt, acceptorSalt, 'dialer', 0),
      a2d: peer.directionKey(KEY, dialerSalt, acceptorSalt, 'acceptor', 0),
    };
  }

  return { plainPair, encPair, againstDocPeer, cleanup, socketDir: () => dir };
}
