/**
 * Sequenced, deduplicated messages between nodes with request/response: a `Relay`
 * stamps every outbound message with a per-sender sequence number and epoch, drops
 * duplicate, replayed and stale inbound messages (bounded dedup table, TTL eviction,
 * restart detection), correlates replies (only from the node asked; timeouts, abort,
 * bounded pending requests), and moves messages over any `Transport` through a
 * `PeerRouter` (a `ConnectionPool`, so every peer has a circuit breaker).
 *
 * @example
 * ```ts
 * import { PeerRouter, Relay } from 'majra/relay';
 * import { ConnectionPool, MemoryTransport } from 'majra/transport';
 *
 * const net = new MemoryTransport();
 * const pool = new ConnectionPool(net);
 * const a = new Relay('a', { router: new PeerRouter(pool, { peers: { b: 'mem:b' } }) });
 * const b = new Relay('b', { router: new PeerRouter(pool, { peers: { a: 'mem:a' } }) });
 * await a.listen(net, 'mem:a');
 * await b.listen(net, 'mem:b');
 * b.handle('ping', (m) => ({ pong: m.payload }));
 * const reply = await a.request('b', 'ping', 1, { timeoutMs: 1_000 });
 * console.log(reply.payload); // { pong: 1 }
 * ```
 *
 * @module
 */
export { Relay } from './relay.js';
export type {
  RelayOptions,
  RelayRequestOptions,
  RelayRouter,
  RelayStats,
  RequestHandler,
} from './relay-types.js';
export { PeerRouter } from './peer-router.js';
export type { PeerRouterOptions } from './peer-router.js';
export { RelaySubscription } from './subscription.js';
export type { IncomingMessage } from './subscription.js';
export { relayMessageFromJson, relayMessageToJson, MAX_RELAY_ID_LENGTH } from './message.js';
export { encodeRelayEnvelope, decodeRelayEnvelope, RELAY_WIRE_VERSION } from './envelope.js';
export type { RelayMessage, RelayRemoteError, RelayWireMessage } from './message.js';
export { REORDER_WINDOW } from './dedup.js';
export {
  relaySent,
  relayReceived,
  relayDropped,
  relayDedupEvicted,
  relayDedupEntries,
  relayPendingRequests,
  relayRequests,
} from './metrics.js';
