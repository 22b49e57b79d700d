import { chmod, link, lstat, mkdtemp, rmdir, unlink } from 'node:fs/promises';
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { throwIfAborted, waitFor, type WaitOptions } from '../core/abort.js';
import { ClosedError, InvalidStateError, isMajraError } from '../core/errors.js';
import { Lifecycle, type Closeable } from '../core/lifecycle.js';
import { noopMetrics, type MetricsSink } from '../core/metrics.js';
import { integerInRange, isFunction, optionalSignal, positiveInteger } from '../core/validate.js';
import { IpcConnection, type IpcConnectionOptions } from './connection.js';
import { validateMaxFrameBytes } from './framing.js';
import { IPC_CONNECTIONS, IPC_ERRORS } from './metrics.js';
import { MAX_SOCKET_PATH_BYTES, errnoCode, ioError, validateSocketPath } from './socket-path.js';

/** Options of {@link IpcServer.listen}. */
export interface IpcServerOptions extends IpcConnectionOptions, WaitOptions {
  /** Permission bits of the socket file. @defaultValue 0o600 (owner only) */
  readonly mode?: number;
  /**
   * Connections accepted by the kernel but not yet taken by `accept()`; beyond this new
   * connections are closed at once and counted as rejected. @defaultValue 128
   */
  readonly maxPendingConnections?: number;
  /** Receives errors of the listening socket after `listen` resolved. */
  readonly onError?: (error: Error) => void;
}

/**
 * A Unix-socket server handing out {@link IpcConnection}s.
 *
 * `listen(path)`:
 * - creates the socket file with `mode` (default 0600) without a window where it has
 *   other permissions: it binds inside a fresh 0700 directory next to `path`, sets the
 *   mode, then hard-links the socket to `path` (atomic, never overwrites);
 * - if `path` exists and is a socket nobody listens on (connect gets ECONNREFUSED), it
 *   is removed; a live socket fails with `ERR_IPC_ADDRESS_IN_USE`, anything that is not a
 *   socket with `ERR_IPC_PATH_NOT_SOCKET` and is never touched;
 * - `close()` stops listening and removes the socket file if it is still this server's;
 *   connections already accepted stay open.
 *
 * @example
 * ```ts
 * await using server = await IpcServer.listen('/run/app.sock');
 * for await (const conn of server) {
 *   void (async () => { for await (const msg of conn) await conn.send({ echo: msg }); })();
 * }
 * ```
 */
export class IpcServer implements Closeable, AsyncIterable<IpcConnection> {
  readonly #server: Server;
  readonly #path: string;
  readonly #inode: number;
  readonly #options: IpcConnectionOptions;
  readonly #metrics: MetricsSink;
  readonly #maxPending: number;
  readonly #life = new Lifecycle('IpcServer');
  readonly #pending: IpcConnection[] = [];
  readonly #waiters: { resolve: (c: IpcConnection) => void; reject: (e: Error) => void }[] = [];

  private constructor(
    server: Server,
    path: string,
    inode: number,
    options: IpcServerOptions,
    maxPending: number,
  ) {
    this.#server = server;
    this.#path = path;
    this.#inode = inode;
    this.#metrics = options.metrics ?? noopMetrics;
    this.#maxPending = maxPending;
    const { mode: _mode, maxPendingConnections: _max, onError, signal: _signal, ...rest } = options;
    this.#options = rest;
    server.on('connection', (socket: Socket) => this.#onConnection(socket));
    server.on('error', (error: Error) => {
      this.#metrics.increment(IPC_ERRORS, 1, { kind: 'io' });
      onError?.(ioError('server error', error));
    });
  }

  /** Binds and listens on `path`. See the class documentation for the path rules. */
  static async listen(path: string, options: IpcServerOptions = {}): Promise<IpcServer> {
    const socketPath = validateSocketPath(path);
    const mode = integerInRange('mode', options.mode ?? 0o600, 0, 0o777);
    const maxPending = positiveInteger(
      'maxPendingConnections',
      options.maxPendingConnections ?? 128,
    );
    if (options.onError !== undefined) isFunction('onError', options.onError);
    const signal = optionalSignal('signal', options.signal);
    validateMaxFrameBytes(options.maxFrameBytes);
    throwIfAborted(signal, 'listen');

    await removeStaleSocket(socketPath);
    const server = createServer({ allowHalfOpen: false, pauseOnConnect: false });
    const tempDir = await mkdtemp(join(dirname(socketPath), '.majra-'));
    const tempPath = join(tempDir, 's');
    const direct = Buffer.byteLength(tempPath) > MAX_SOCKET_PATH_BYTES;
    try {
      // Bind where nobody else can reach the socket, fix its mode, then publish it.
      // When the temporary path would be too long, bind directly (short mode window).
      await listenOn(server, direct ? socketPath : tempPath, signal);
      await chmod(direct ? socketPath : tempPath, mode);
      if (!direct) {
        try {
          await link(tempPath, socketPath);
        } catch (error) {
          if (errnoCode(error) === 'EEXIST') {
            throw new InvalidStateError(`${socketPath} appeared while binding`, {
              code: 'ERR_IPC_ADDRESS_IN_USE',
              details: { path: socketPath },
            });
          }
          throw ioError(`link ${socketPath}`, error);
        }
        await unlink(tempPath);
      }
      const inode = (await lstat(socketPath)).ino;
      return new IpcServer(server, socketPath, inode, options, maxPending);
    } catch (error) {
      server.close();
      throw isMajraError(error) ? error : ioError(`listen ${socketPath}`, error);
    } finally {
      await unlink(tempPath).catch(() => undefined);
      await rmdir(tempDir).catch(() => undefined);
    }
  }

  /** The socket path. */
  get path(): string {
    return this.#path;
  }

  /** Connections waiting for `accept()`. */
  get pendingConnections(): number {
    return this.#pending.length;
  }

  /** Resolves once closed; never rejects. */
  get closed(): Promise<void> {
    return this.#life.closed;
  }

  /** True once `close()` was called. */
  get isClosed(): boolean {
    return this.#life.isClosed;
  }

  #onConnection(socket: Socket): void {
    if (this.#life.isClosed) {
      socket.destroy();
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter === undefined && this.#pending.length >= this.#maxPending) {
      this.#metrics.increment(IPC_CONNECTIONS, 1, { side: 'rejected' });
      socket.destroy();
      return;
    }
    this.#metrics.increment(IPC_CONNECTIONS, 1, { side: 'accepted' });
    const connection = IpcConnection.fromSocket(socket, this.#options);
    if (waiter !== undefined) waiter.resolve(connection);
    else this.#pending.push(connection);
  }

  /** The next connection. Rejects with `ERR_CLOSED` once the server is closed. */
  accept(options: WaitOptions = {}): Promise<IpcConnection> {
    try {
      this.#life.assertOpen('accept');
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const next = this.#pending.shift();
    if (next !== undefined) return Promise.resolve(next);
    return waitFor<IpcConnection>(
      (resolve, reject) => {
        const waiter = { resolve, reject };
        this.#waiters.push(waiter);
        return () => {
          const index = this.#waiters.indexOf(waiter);
          if (index >= 0) this.#waiters.splice(index, 1);
        };
      },
      { signal: options.signal, what: 'accept' },
    );
  }

  /** Iterates accepted connections until the server closes. */
  async *connections(options: WaitOptions = {}): AsyncGenerator<IpcConnection, void, undefined> {
    for (;;) {
      try {
        yield await this.accept(options);
      } catch (error) {
        if (isMajraError(error, 'ERR_CLOSED')) return;
        throw error;
      }
    }
  }

  /** Same as {@link IpcServer.connections}. */
  [Symbol.asyncIterator](): AsyncIterator<IpcConnection> {
    return this.connections();
  }

  /**
   * Stops listening, rejects pending `accept` calls with `ERR_CLOSED`, closes connections
   * not yet accepted, and removes the socket file if it is still this server's.
   * Connections already accepted are not affected.
   */
  close(): Promise<void> {
    return this.#life.close(async () => {
      this.#server.close();
      const closed = new ClosedError('IpcServer is closed');
      for (const waiter of this.#waiters.splice(0)) waiter.reject(closed);
      const pending = this.#pending.splice(0);
      await Promise.all(pending.map((c) => c.destroy()));
      try {
        if ((await lstat(this.#path)).ino === this.#inode) await unlink(this.#path);
      } catch {
        // Already gone: nothing to clean.
      }
    });
  }

  /** Same as {@link IpcServer.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

async function listenOn(
  server: Server,
  path: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  await waitFor<undefined>(
    (resolve, reject) => {
      const onError = (error: Error): void => {
        reject(
          errnoCode(error) === 'EADDRINUSE'
            ? new InvalidStateError(`${path} is in use`, {
                code: 'ERR_IPC_ADDRESS_IN_USE',
                cause: error,
              })
            : ioError(`listen ${path}`, error),
        );
      };
      server.once('error', onError);
      server.listen({ path }, () => {
        server.off('error', onError);
        resolve(undefined);
      });
      return () => server.off('error', onError);
    },
    { signal, what: `listen ${basename(path)}` },
  );
}

/** Removes `path` only when it is a socket nobody is listening on. */
async function removeStaleSocket(path: string): Promise<void> {
  let stats;
  try {
    stats = await lstat(path);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return;
    throw ioError(`lstat ${path}`, error);
  }
  if (!stats.isSocket()) {
    throw new InvalidStateError(`${path} exists and is not a socket; refusing to replace it`, {
      code: 'ERR_IPC_PATH_NOT_SOCKET',
      details: { path },
    });
  }
  const live = await new Promise<boolean | Error>((resolve) => {
    const probe = netConnect({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', (error: Error) => {
      const code = errnoCode(error);
      resolve(code === 'ECONNREFUSED' || code === 'ENOENT' ? false : error);
    });
  });
  if (live === true) {
    throw new InvalidStateError(`another server is listening on ${path}`, {
      code: 'ERR_IPC_ADDRESS_IN_USE',
      details: { path },
    });
  }
  if (live instanceof Error) throw ioError(`probe ${path}`, live);
  try {
    await unlink(path);
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw ioError(`unlink ${path}`, error);
  }
}
