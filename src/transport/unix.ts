import { unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { abortError, throwIfAborted } from '../core/abort.js';
import { InvalidArgumentError, InvalidStateError, toError } from '../core/errors.js';
import { describeValue, isFunction, optionalSignal } from '../core/validate.js';
import { dialError } from './socket-errors.js';
import {
  SocketConnection,
  socketSettings,
  type SocketSettings,
  type SocketTransportOptions,
} from './socket-connection.js';
import { SocketListener } from './socket-listener.js';
import type { Connection, ConnectOptions, Listener, Transport } from './types.js';

/** Longest Unix socket path accepted (Linux `sun_path` holds 108 bytes incl. NUL). */
export const MAX_UNIX_PATH_BYTES = 107;

/** Options of {@link UnixSocketTransport}. */
export type UnixSocketTransportOptions = SocketTransportOptions;

function checkPath(path: string): string {
  if (
    typeof path !== 'string' ||
    path.length === 0 ||
    Buffer.byteLength(path) > MAX_UNIX_PATH_BYTES
  ) {
    throw new InvalidArgumentError(
      `endpoint: expected a Unix socket path of 1 to ${MAX_UNIX_PATH_BYTES} bytes, got ${describeValue(path)}`,
      { code: 'ERR_INVALID_ARGUMENT' },
    );
  }
  return path;
}

/** Dials a socket and resolves once connected (shared by Unix and TCP). @internal */
export function dialSocket(
  endpoint: string,
  open: () => Socket,
  readyEvent: 'connect' | 'secureConnect',
  settings: SocketSettings,
  signal: AbortSignal | undefined,
): Promise<Connection> {
  return new Promise<Connection>((resolve, reject) => {
    const socket = open();
    const cleanup = (): void => {
      socket.off(readyEvent, onReady);
      socket.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
    };
    const onReady = (): void => {
      cleanup();
      resolve(new SocketConnection(socket, endpoint, settings, 'dialed'));
    };
    const onError = (error: Error): void => {
      cleanup();
      socket.destroy();
      reject(dialError(endpoint, error));
    };
    const onAbort = (): void => {
      cleanup();
      socket.destroy();
      if (signal !== undefined) reject(abortError(signal, 'connect'));
    };
    socket.once(readyEvent, onReady);
    socket.once('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Listens on a server and resolves once bound. @internal */
export function bindServer(server: Server, bind: (server: Server) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    bind(server);
  });
}

/**
 * A {@link Transport} over Unix domain sockets: endpoints are socket paths. Frames are
 * 4-byte big-endian length + JSON, capped at 16 MiB. Listening on a path left behind by
 * a crashed process removes the stale socket file first (only when nothing answers on it).
 *
 * @example
 * ```ts
 * const unix = new UnixSocketTransport();
 * await unix.listen('/tmp/node-b.sock', (conn) => void consume(conn));
 * const conn = await unix.connect('/tmp/node-b.sock');
 * await conn.send({ hello: 'b' });
 * ```
 */
export class UnixSocketTransport implements Transport {
  readonly #settings: SocketSettings;

  /** @throws InvalidArgumentError for a bad option. */
  constructor(options: UnixSocketTransportOptions = {}) {
    if (options.onError !== undefined) isFunction('onError', options.onError);
    this.#settings = socketSettings(options, 'unix');
  }

  connect(endpoint: string, options: ConnectOptions = {}): Promise<Connection> {
    try {
      const path = checkPath(endpoint);
      const signal = optionalSignal('signal', options.signal);
      throwIfAborted(signal, 'connect');
      return dialSocket(path, () => createConnection({ path }), 'connect', this.#settings, signal);
    } catch (error) {
      return Promise.reject(toError(error));
    }
  }

  async listen(
    endpoint: string,
    onConnection: (connection: Connection) => void,
  ): Promise<Listener> {
    const path = checkPath(endpoint);
    isFunction('onConnection', onConnection);
    const holder: { listener?: SocketListener } = {};
    const server = createServer((socket) => {
      const listener = holder.listener;
      if (listener === undefined) {
        socket.destroy();
        return;
      }
      listener.track(socket);
      onConnection(new SocketConnection(socket, path, this.#settings, 'accepted'));
    });
    try {
      await bindServer(server, (s) => s.listen(path));
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'EADDRINUSE' || (await answers(path))) {
        throw new InvalidStateError(`cannot listen on ${path}: ${toError(error).message}`, {
          cause: error,
        });
      }
      // A stale socket file from a process that died: nothing answers, so take it over.
      unlinkSync(path);
      await bindServer(server, (s) => s.listen(path));
    }
    const listener = new SocketListener(server, path, () => {
      try {
        unlinkSync(path);
      } catch {
        // Already gone.
      }
    });
    holder.listener = listener;
    return listener;
  }
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}
