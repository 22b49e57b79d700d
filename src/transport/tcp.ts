import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import {
  connect as tlsConnect,
  createServer as createTlsServer,
  type ConnectionOptions as TlsConnectionOptions,
  type TlsOptions,
} from 'node:tls';
import { throwIfAborted } from '../core/abort.js';
import { InvalidArgumentError, InvalidStateError, toError } from '../core/errors.js';
import { describeValue, isFunction, optionalSignal } from '../core/validate.js';
import {
  SocketConnection,
  socketSettings,
  type SocketSettings,
  type SocketTransportOptions,
} from './socket-connection.js';
import { SocketListener } from './socket-listener.js';
import type { Connection, ConnectOptions, Listener, Transport } from './types.js';
import { bindServer, dialSocket } from './unix.js';

/** TLS settings of a {@link TcpTransport}, passed to `node:tls`. */
export interface TcpTlsOptions {
  /** For `listen`: key, cert, ca, requestCert... (`tls.createServer` options). */
  readonly server?: TlsOptions;
  /** For `connect`: ca, servername, cert/key for client auth... (`tls.connect` options). */
  readonly client?: TlsConnectionOptions;
}

/** Options of {@link TcpTransport}. */
export interface TcpTransportOptions extends SocketTransportOptions {
  /** Enables TLS for both directions. */
  readonly tls?: TcpTlsOptions;
}

/** Parses `host:port` or `[v6]:port`. @internal */
export function parseHostPort(endpoint: string): { host: string; port: number } {
  const fail = (): never => {
    throw new InvalidArgumentError(
      `endpoint: expected "host:port", got ${describeValue(endpoint)}`,
    );
  };
  if (typeof endpoint !== 'string') return fail();
  const colon = endpoint.lastIndexOf(':');
  if (colon <= 0) return fail();
  let host = endpoint.slice(0, colon);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const portText = endpoint.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portText) || host.length === 0) return fail();
  const port = Number(portText);
  if (port > 65_535) return fail();
  return { host, port };
}

function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * A {@link Transport} over TCP, optionally TLS (`node:tls`): endpoints are `host:port`.
 * Frames are 4-byte big-endian length + JSON, capped at 16 MiB. Listening on port 0
 * binds a free port; the listener's `endpoint` reports it.
 *
 * @example
 * ```ts
 * const tcp = new TcpTransport();
 * const listener = await tcp.listen('127.0.0.1:0', (conn) => void consume(conn));
 * const conn = await tcp.connect(listener.endpoint);
 * ```
 */
export class TcpTransport implements Transport {
  readonly #settings: SocketSettings;
  readonly #tls: TcpTlsOptions | undefined;

  /** @throws InvalidArgumentError for a bad option. */
  constructor(options: TcpTransportOptions = {}) {
    if (options.onError !== undefined) isFunction('onError', options.onError);
    this.#settings = socketSettings(options, 'tcp');
    this.#tls = options.tls;
  }

  connect(endpoint: string, options: ConnectOptions = {}): Promise<Connection> {
    try {
      const { host, port } = parseHostPort(endpoint);
      const signal = optionalSignal('signal', options.signal);
      throwIfAborted(signal, 'connect');
      const tls = this.#tls;
      if (tls === undefined) {
        return dialSocket(
          endpoint,
          () => createConnection({ host, port }),
          'connect',
          this.#settings,
          signal,
        );
      }
      return dialSocket(
        endpoint,
        () => tlsConnect({ servername: host, ...tls.client, host, port }),
        'secureConnect',
        this.#settings,
        signal,
      );
    } catch (error) {
      return Promise.reject(toError(error));
    }
  }

  async listen(
    endpoint: string,
    onConnection: (connection: Connection) => void,
  ): Promise<Listener> {
    const { host, port } = parseHostPort(endpoint);
    isFunction('onConnection', onConnection);
    // Created before the server so the accept callback can always reach it.
    const holder: { listener?: SocketListener } = {};
    const accept = (socket: Socket): void => {
      const listener = holder.listener;
      if (listener === undefined) {
        socket.destroy();
        return;
      }
      listener.track(socket);
      onConnection(new SocketConnection(socket, listener.endpoint, this.#settings, 'accepted'));
    };
    const server =
      this.#tls === undefined
        ? createServer(accept)
        : createTlsServer(this.#tls.server ?? {}, accept);
    if (this.#tls !== undefined) {
      // Failed handshakes (wrong CA, plain TCP client) must not crash the process.
      server.on('tlsClientError', () => undefined);
    }
    try {
      await bindServer(server, (s) => s.listen(port, host));
    } catch (error) {
      throw new InvalidStateError(`cannot listen on ${endpoint}: ${toError(error).message}`, {
        cause: error,
      });
    }
    const address = server.address() as AddressInfo;
    const listener = new SocketListener(server, formatHostPort(host, address.port));
    holder.listener = listener;
    return listener;
  }
}
