import { EventEmitter } from 'node:events';
import { throwIfAborted, type WaitOptions } from '../core/abort.js';
import { ClosedError, CryptoError, MajraError } from '../core/errors.js';
import { Lifecycle, type Closeable } from '../core/lifecycle.js';
import type { MetricsSink } from '../core/metrics.js';
import { invalid, optionalSignal } from '../core/validate.js';
import {
  IpcConnection,
  sendEncodedFrame,
  takeQueuedFrame,
  type ConnectIpcOptions,
} from './connection.js';
import { ChannelKeys } from './encrypted-keys.js';
import {
  exchangeHellos,
  handshakeError,
  resolveOptions,
  validateKey,
  type EncryptedIpcEvents,
  type EncryptedIpcOptions,
  type ResolvedOptions,
} from './encrypted-handshake.js';
import { FRAME_TYPE, RECORD_OVERHEAD_BYTES, type IpcRole } from './encrypted-protocol.js';
import { ReadAhead, SendGate, raceSignal } from './encrypted-queues.js';
import { Rekeyer } from './encrypted-rekey.js';
import { encodeJsonBody, frameTooLargeError } from './framing.js';
import {
  IPC_BYTES_RECEIVED,
  IPC_BYTES_SENT,
  IPC_FRAMES_RECEIVED,
  IPC_FRAMES_SENT,
  IPC_NONCE_WARNINGS,
  IPC_ERRORS,
} from './metrics.js';
import {
  asError,
  countIpcError,
  decodeCounted,
  isCleanClose,
  untilCleanClose,
} from './stream-support.js';

export {
  NONCE_HARD_LIMIT,
  NONCE_WARN_THRESHOLD,
  validateKey,
  type EncryptedIpcEvents,
  type EncryptedIpcLimits,
  type EncryptedIpcOptions,
  type NonceWarning,
} from './encrypted-handshake.js';

const ENCRYPTED = { layer: 'encrypted' } as const;
const HANDSHAKE_FAILED = { kind: 'handshake_failed' } as const;

/** Live key buffers per connection, for the test proving they are zeroed on close. */
const KEY_MATERIAL = new WeakMap<EncryptedIpcConnection, () => Buffer[]>();

/** @internal The connection's current key buffers (pre-shared copy, send, receive). */
export function keyMaterialOf(connection: EncryptedIpcConnection): Buffer[] {
  return KEY_MATERIAL.get(connection)?.() ?? [];
}

/**
 * AES-256-GCM over an {@link IpcConnection} with a pre-shared 32-byte key, with none of
 * the reference's flaws: one key per direction derived with HKDF-SHA256 from the key,
 * both roles and fresh per-connection salts exchanged in an authenticated hello; a
 * 96-bit nonce carrying a per-direction counter; the receiver accepts only the next
 * counter (replay, reorder and drop are errors); the record header is bound as AAD.
 * After any authentication or protocol error the connection is closed and no
 * plaintext of the failing frame is ever returned. Wire format: docs/ipc.md.
 *
 * `rekey()` is in-band and acknowledged: like every control frame, the peer processes
 * it while it reads (`recv`, `for await`); both directions then use fresh keys and
 * counters restart at 0. Key material is zeroed on close.
 *
 * @example
 * ```ts
 * const conn = await EncryptedIpcConnection.connect('/run/app.sock', key);
 * conn.on('warning', () => void conn.rekey());
 * await conn.send({ secret: 1 });
 * ```
 */
export class EncryptedIpcConnection
  extends EventEmitter<EncryptedIpcEvents>
  implements Closeable, AsyncIterable<unknown>
{
  readonly #inner: IpcConnection;
  readonly #role: IpcRole;
  readonly #keys: ChannelKeys;
  readonly #maxPlaintext: number;
  readonly #maxReadAhead: number;
  readonly #metrics: MetricsSink;
  readonly #life = new Lifecycle('EncryptedIpcConnection');
  #terminal: Error | undefined;
  // Read side: decrypted messages not yet returned, and the one in-flight inner read.
  readonly #readAhead = new ReadAhead();
  #reading: Promise<void> | undefined;
  // Write side: sends wait here while a rekey we started is unacknowledged.
  readonly #gate = new SendGate();
  readonly #rekeyer: Rekeyer;

  private constructor(
    inner: IpcConnection,
    role: IpcRole,
    psk: Buffer,
    dialerSalt: Buffer,
    acceptorSalt: Buffer,
    options: ResolvedOptions,
  ) {
    super();
    this.#inner = inner;
    this.#role = role;
    this.#maxReadAhead = options.maxReadAhead;
    this.#metrics = options.metrics;
    this.#maxPlaintext = inner.maxFrameBytes - RECORD_OVERHEAD_BYTES;
    this.#keys = new ChannelKeys(psk, role, dialerSalt, acceptorSalt, options);
    this.#rekeyer = new Rekeyer({
      role,
      keys: this.#keys,
      metrics: this.#metrics,
      sendControl: (type, plaintext) => this.#sendControl(type, plaintext),
      holdSends: () => this.#gate.close(),
      resumeSends: () => this.#gate.open((bytes, signal) => this.#sendData(bytes, signal)),
      readStep: () =>
        this.#readAhead.bytes >= this.#maxReadAhead ? this.#readAhead.changed() : this.#pump(),
      terminal: () => this.#terminal,
    });
    KEY_MATERIAL.set(this, () => this.#keys.material);
  }

  /**
   * Runs the hello exchange over `inner` as `role` and returns the channel. On any
   * failure (`ERR_IPC_INVALID_KEY`, `ERR_IPC_HANDSHAKE_FAILED` for a wrong key, malformed
   * hello, peer gone or silent past `handshakeTimeoutMs`) `inner` is closed.
   */
  static async establish(
    inner: IpcConnection,
    key: Uint8Array,
    role: IpcRole,
    options: EncryptedIpcOptions = {},
  ): Promise<EncryptedIpcConnection> {
    if (!(inner instanceof IpcConnection)) invalid('inner', 'an IpcConnection', inner);
    if ((role as string) !== 'dialer' && (role as string) !== 'acceptor')
      invalid('role', "'dialer' or 'acceptor'", role);
    const psk = validateKey(key);
    const resolved = resolveOptions(options, inner);
    const signal = optionalSignal('signal', options.signal);
    try {
      const { dialerSalt, acceptorSalt } = await exchangeHellos(inner, psk, role, options);
      return new EncryptedIpcConnection(inner, role, psk, dialerSalt, acceptorSalt, resolved);
    } catch (error) {
      psk.fill(0);
      await inner.destroy();
      const wrapped = handshakeError(error, signal);
      resolved.metrics.increment(IPC_ERRORS, 1, HANDSHAKE_FAILED);
      throw wrapped;
    }
  }

  /** Connects to `path` and runs the handshake as the dialer. */
  static async connect(
    path: string,
    key: Uint8Array,
    options: EncryptedIpcOptions & ConnectIpcOptions = {},
  ): Promise<EncryptedIpcConnection> {
    validateKey(key).fill(0);
    const inner = await IpcConnection.connect(path, options);
    return EncryptedIpcConnection.establish(inner, key, 'dialer', options);
  }

  /** Runs the handshake as the acceptor over a connection taken from an IpcServer. */
  static accept(
    inner: IpcConnection,
    key: Uint8Array,
    options: EncryptedIpcOptions = {},
  ): Promise<EncryptedIpcConnection> {
    return EncryptedIpcConnection.establish(inner, key, 'acceptor', options);
  }

  /** The underlying framed connection. */
  get inner(): IpcConnection {
    return this.#inner;
  }

  /** This side's role. */
  get role(): IpcRole {
    return this.#role;
  }

  /** Key epoch: 0 after the handshake, +1 per completed rekey. */
  get epoch(): number {
    return this.#keys.epoch;
  }

  /** Frames sent under the current send key (the next counter). */
  get messagesSent(): number {
    return this.#keys.sent;
  }

  /** True once the current send key reached the warning threshold. */
  get needsRekey(): boolean {
    return this.#keys.sent >= this.#keys.warnAt;
  }

  /** Largest plaintext one message may carry: `maxFrameBytes - 26`. */
  get maxPlaintextBytes(): number {
    return this.#maxPlaintext;
  }

  /** Resolves once closed; never rejects. */
  get closed(): Promise<void> {
    return this.#life.closed;
  }

  /** True once `close()` was called. */
  get isClosed(): boolean {
    return this.#life.isClosed;
  }

  // ---------------------------------------------------------------- write side

  /** Sends `value` as JSON (see {@link EncryptedIpcConnection.sendBytes}). */
  send(value: unknown, options: WaitOptions = {}): Promise<void> {
    let body: Uint8Array;
    try {
      this.#assertUsable('send');
      body = encodeJsonBody(value, this.#maxPlaintext);
    } catch (error) {
      return this.#reject(error);
    }
    return this.sendBytes(body, options);
  }

  /**
   * Encrypts and sends one message. Rejects without consuming a counter when the
   * plaintext is over {@link EncryptedIpcConnection.maxPlaintextBytes}
   * (`ERR_IPC_FRAME_TOO_LARGE`) or the key is exhausted (`ERR_IPC_NONCE_EXHAUSTED`).
   * While a rekey this side started is unacknowledged, sends wait (in order).
   */
  sendBytes(bytes: Uint8Array, options: WaitOptions = {}): Promise<void> {
    try {
      this.#assertUsable('send');
      const signal = optionalSignal('signal', options.signal);
      if (!(bytes instanceof Uint8Array)) invalid('payload', 'a Uint8Array', bytes);
      if (bytes.length > this.#maxPlaintext) {
        throw frameTooLargeError(bytes.length, this.#maxPlaintext, 'send');
      }
      throwIfAborted(signal, 'send');
      if (this.#gate.passable) return this.#sendData(bytes, signal);
    } catch (error) {
      return this.#reject(error);
    }
    return this.#gate.wait(bytes, options.signal);
  }

  #sendData(bytes: Uint8Array, signal: AbortSignal | undefined): Promise<void> {
    const keys = this.#keys;
    if (keys.sent >= keys.hardLimit) {
      return this.#reject(
        new CryptoError(
          `${keys.sent} messages were sent under this key (limit ${keys.hardLimit}); call rekey()`,
          {
            code: 'ERR_IPC_NONCE_EXHAUSTED',
            details: { messagesSent: keys.sent, maxMessagesPerKey: keys.hardLimit },
          },
        ),
      );
    }
    const frame = this.#seal(FRAME_TYPE.data, bytes);
    this.#metrics.increment(IPC_FRAMES_SENT, 1, ENCRYPTED);
    this.#metrics.increment(IPC_BYTES_SENT, bytes.length, ENCRYPTED);
    return sendEncodedFrame(this.#inner, frame, signal);
  }

  /** Seals with the current send key and counter (taken synchronously). */
  #seal(type: number, plaintext: Uint8Array): Buffer {
    const frame = this.#keys.seal(type, plaintext);
    const warning = this.#keys.dueWarning();
    if (warning !== undefined) {
      this.#metrics.increment(IPC_NONCE_WARNINGS);
      process.nextTick(() => this.emit('warning', warning));
    }
    return frame;
  }

  #sendControl(type: number, plaintext: Uint8Array): void {
    const frame = this.#seal(type, plaintext);
    sendEncodedFrame(this.#inner, frame).catch((error: unknown) => this.#fail(error));
  }

  // ----------------------------------------------------------------- rekey

  /**
   * Starts (or joins) an in-band rekey and resolves once the peer acknowledged it and
   * both directions switched to fresh keys with counters at 0. The peer handles the
   * request while it reads; this side reads ahead (up to `maxReadAheadBytes`) to find
   * the acknowledgement. Sends made meanwhile wait and go out under the new key.
   */
  rekey(options: WaitOptions = {}): Promise<void> {
    try {
      this.#assertUsable('rekey');
      const signal = optionalSignal('signal', options.signal);
      throwIfAborted(signal, 'rekey');
      return this.#rekeyer.start(signal);
    } catch (error) {
      return this.#reject(error);
    }
  }

  // ----------------------------------------------------------------- read side

  /** Receives the next message and parses it as JSON (`ERR_CODEC_MALFORMED` if not JSON). */
  async recv<T = unknown>(options: WaitOptions = {}): Promise<T> {
    return decodeCounted(await this.recvBytes(options), this.#metrics) as T;
  }

  /**
   * Receives the next decrypted message. Authentication, counter and format errors
   * reject with `ERR_IPC_AUTH_FAILED`, `ERR_IPC_UNEXPECTED_COUNTER`, `ERR_IPC_BAD_FRAME`
   * (and close the connection); a clean peer close with `ERR_IPC_CONNECTION_CLOSED`.
   * Aborting a `recv` loses no message.
   */
  recvBytes(options: WaitOptions = {}): Promise<Buffer> {
    let signal: AbortSignal | undefined;
    try {
      this.#life.assertOpen('recv');
      signal = optionalSignal('signal', options.signal);
      throwIfAborted(signal, 'recv');
    } catch (error) {
      return this.#reject(error);
    }
    // Fast path: a message already decrypted, or a frame already queued below.
    const ready = this.#readAhead.take();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.#reading === undefined && this.#terminal === undefined) {
      const frame = takeQueuedFrame(this.#inner);
      if (frame !== undefined) {
        try {
          this.#process(frame);
        } catch (error) {
          this.#fail(error);
        }
        const got = this.#readAhead.take();
        if (got !== undefined) return Promise.resolve(got);
      }
    }
    return this.#recvSlow(signal);
  }

  async #recvSlow(signal: AbortSignal | undefined): Promise<Buffer> {
    for (;;) {
      const next = this.#readAhead.take();
      if (next !== undefined) return next;
      if (this.#terminal !== undefined) throw this.#terminal;
      await raceSignal(this.#pump(), signal, 'recv');
    }
  }

  /** Reads one inner frame (shared by all concurrent readers). Never rejects. */
  #pump(): Promise<void> {
    this.#reading ??= this.#readOne().finally(() => {
      this.#reading = undefined;
      this.#readAhead.notify();
    });
    return this.#reading;
  }

  async #readOne(): Promise<void> {
    try {
      const body = await this.#inner.recvBytes();
      if (this.#terminal !== undefined) return;
      this.#process(body);
    } catch (error) {
      this.#fail(error);
    }
  }

  #process(body: Buffer): void {
    const { type, plaintext } = this.#keys.open(body);
    if (type === FRAME_TYPE.data) {
      this.#metrics.increment(IPC_FRAMES_RECEIVED, 1, ENCRYPTED);
      this.#metrics.increment(IPC_BYTES_RECEIVED, plaintext.length, ENCRYPTED);
      this.#readAhead.push(plaintext);
      return;
    }
    this.#rekeyer.handle(type, plaintext);
  }

  /**
   * Iterates received JSON values until the stream ends cleanly; other errors are thrown.
   */
  messages<T = unknown>(options: WaitOptions = {}): AsyncGenerator<T, void, undefined> {
    return untilCleanClose(() => this.recv<T>(options));
  }

  /** Like {@link EncryptedIpcConnection.messages} for raw message bytes. */
  frames(options: WaitOptions = {}): AsyncGenerator<Buffer, void, undefined> {
    return untilCleanClose(() => this.recvBytes(options));
  }

  /** Same as {@link EncryptedIpcConnection.messages}. */
  [Symbol.asyncIterator](): AsyncIterator<unknown> {
    return this.messages();
  }

  // ------------------------------------------------------------------ state

  #assertUsable(operation: string): void {
    this.#life.assertOpen(operation);
    if (this.#terminal !== undefined) throw this.#terminal;
  }

  #reject(error: unknown): Promise<never> {
    countIpcError(this.#metrics, error);
    return Promise.reject(asError(error));
  }

  /** Ends the channel after an error: nothing is sent or decrypted afterwards. */
  #fail(error: unknown): void {
    if (this.#terminal !== undefined) return;
    const failure = asError(error);
    this.#terminal = failure;
    if (failure instanceof MajraError && !isCleanClose(failure)) {
      countIpcError(this.#metrics, failure);
    }
    this.#keys.zero();
    this.#gate.fail(failure);
    this.#rekeyer.fail(failure);
    this.#readAhead.notify();
    if (!isCleanClose(failure)) this.#inner.destroy().catch(() => undefined);
  }

  /** Closes the channel and the inner connection; key material is zeroed. */
  close(): Promise<void> {
    return this.#life.close(async () => {
      this.#fail(new ClosedError('EncryptedIpcConnection is closed', { code: 'ERR_CLOSED' }));
      this.#keys.zero();
      this.#readAhead.clear();
      await this.#inner.close();
    });
  }

  /** Same as {@link EncryptedIpcConnection.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
