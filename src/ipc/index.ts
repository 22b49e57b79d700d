/**
 * Local inter-process messaging: length-prefixed frames over Unix sockets, with
 * optional AES-256-GCM encryption (see docs/ipc.md for the exact wire format).
 *
 * @example
 * ```ts
 * import { IpcServer, IpcConnection } from 'majra/ipc';
 * const server = await IpcServer.listen('/tmp/app.sock'); // mode 0600
 * const client = await IpcConnection.connect('/tmp/app.sock');
 * const peer = await server.accept();
 * await client.send({ hello: 'world' });
 * console.log(await peer.recv()); // { hello: 'world' }
 * ```
 *
 * @module
 */
export {
  FRAME_HEADER_BYTES,
  DEFAULT_MAX_FRAME_BYTES,
  MAX_FRAME_BYTES_LIMIT,
  FrameDecoder,
  encodeFrame,
  encodeFrameHeader,
  encodeJsonFrame,
  encodeJsonBody,
  decodeJsonBody,
  frameTooLargeError,
  validateMaxFrameBytes,
} from './framing.js';
export type { FrameDecoderOptions } from './framing.js';
export { IpcConnection, isCleanClose } from './connection.js';
export type { IpcConnectionOptions, ConnectIpcOptions } from './connection.js';
export { IpcServer } from './server.js';
export type { IpcServerOptions } from './server.js';
export {
  EncryptedIpcConnection,
  NONCE_WARN_THRESHOLD,
  NONCE_HARD_LIMIT,
  validateKey,
} from './encrypted.js';
export type {
  EncryptedIpcOptions,
  EncryptedIpcLimits,
  EncryptedIpcEvents,
  NonceWarning,
} from './encrypted.js';
export type { IpcRole } from './encrypted-protocol.js';
export { sealAesGcm, openAesGcm, KEY_BYTES, NONCE_BYTES, TAG_BYTES } from './aead.js';
export { MAX_SOCKET_PATH_BYTES } from './socket-path.js';
export {
  IPC_FRAMES_SENT,
  IPC_FRAMES_RECEIVED,
  IPC_BYTES_SENT,
  IPC_BYTES_RECEIVED,
  IPC_ERRORS,
  IPC_CONNECTIONS,
  IPC_REKEYS,
  IPC_NONCE_WARNINGS,
} from './metrics.js';
export type { IpcErrorKind } from './metrics.js';
