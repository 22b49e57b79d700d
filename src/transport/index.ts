/**
 * How nodes reach each other: the `Transport` port (connect, send, incoming as an
 * AsyncIterable, close) with an in-memory implementation for tests and single-process
 * fleets, Unix-socket and TCP (optionally TLS) implementations using the IPC framing
 * (4-byte big-endian length + JSON, 16 MiB cap), a `ConnectionPool` with single-flight
 * dials and a `CircuitBreaker` per endpoint, and the breaker itself, usable around any
 * async function.
 *
 * @example
 * ```ts
 * import { CircuitBreaker, ConnectionPool, TcpTransport } from 'majra/transport';
 *
 * const tcp = new TcpTransport();
 * const listener = await tcp.listen('127.0.0.1:0', (conn) => void (async () => {
 *   for await (const message of conn.incoming()) await conn.send(message); // JSON or bytes
 * })());
 * const pool = new ConnectionPool(tcp, { breaker: { failureThreshold: 3, cooldownMs: 5_000 } });
 * const conn = await pool.acquire(listener.endpoint);
 * await conn.send({ hello: 'world' });
 *
 * const breaker = new CircuitBreaker();
 * const body = await breaker.execute(() => fetch('https://example.com').then((r) => r.text()));
 * ```
 *
 * @module
 */
export { CircuitBreaker } from './circuit-breaker.js';
export type {
  CircuitState,
  CircuitStateChange,
  CircuitBreakerOptions,
  CircuitBreakerStats,
  CircuitPermit,
} from './circuit-breaker.js';
export { ConnectionPool } from './connection-pool.js';
export type {
  ConnectionPoolOptions,
  ConnectionPoolStats,
  PoolBreakerOptions,
} from './connection-pool.js';
export { MemoryTransport } from './memory.js';
export type { MemoryTransportOptions } from './memory.js';
export { UnixSocketTransport, MAX_UNIX_PATH_BYTES } from './unix.js';
export type { UnixSocketTransportOptions } from './unix.js';
export { TcpTransport } from './tcp.js';
export type { TcpTransportOptions, TcpTlsOptions } from './tcp.js';
export type { SocketTransportOptions } from './socket-connection.js';
export type {
  ByteEncoder,
  Connection,
  Listener,
  Transport,
  ConnectOptions,
  TransportMessage,
} from './types.js';
export {
  circuitTransitions,
  circuitRejected,
  poolDials,
  poolEvictions,
  poolConnections,
  transportProtocolErrors,
  transportMessagesSent,
  transportMessagesReceived,
  transportConnections,
} from './metrics.js';
