/**
 * WebSocket bridge: fans any majra hub's topics (TypedPubSub, PubSub, RedisPubSub) out
 * to WebSocket clients over a small versioned JSON protocol (docs/ws.md). Requires the
 * optional peer dependency `ws`.
 *
 * @example
 * ```ts
 * import { PubSub, Namespace } from 'majra';
 * import { WsBridge } from 'majra/ws';
 *
 * const hub = new PubSub();
 * const bridge = new WsBridge({
 *   hub,
 *   authenticate: (req) => {
 *     const tenant = new URL(req.url ?? '/', 'http://x').searchParams.get('tenant');
 *     return tenant === null ? false : { namespace: new Namespace(tenant) };
 *   },
 * });
 * const { port } = await bridge.listen({ port: 8080 });
 * ```
 *
 * @module
 */
export { WsBridge } from './ws-bridge.js';
export type {
  WsBridgeOptions,
  WsBridgeStats,
  WsClientGrant,
  BridgeHub,
  BridgeMessage,
} from './options.js';
export { WS_PROTOCOL_VERSION, WsCloseCode, parseClientMessage } from './protocol.js';
export type { ClientMessage, ServerMessage } from './protocol.js';
