import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { throwIfAborted, waitFor, type WaitOptions } from '../core/abort.js';
import {
  ClosedError,
  CryptoError,
  MajraError,
  ProtocolError,
  isMajraError,
} from '../core/errors.js';
import { Lifecycle, type Closeable } from '../core/lifecycle.js';
import type { MetricsSink } from '../core/metrics.js';
import { invalid, optionalSignal } from '../core/validate.js';
import {
  IpcConnection,
  isCleanClose,
  sendEncodedFrame,
  takeQueuedFrame,
  type ConnectIpcOptions,
} from './connection.js';
import {
  FRAME_TYPE,
  RECORD_OVERHEAD_BYTES,
  SALT_BYTES,
  deriveDirectionKeys,
  RecordOpener,
  RecordSealer,
  type IpcRole,
} from './encrypted-protocol.js';
import { decodeJsonBody, encodeJsonBody, frameTooLargeError } from './framing.js';
import {
  exchangeHellos,
  resolveOptions,
  validateKey,
  type EncryptedIpcEvents,
  type EncryptedIpcOptions,
  type NonceWarning,
  type ResolvedOptions,
} from './encrypted-handshake.js';
import {
  IPC_BYTES_RECEIVED,
  IPC_BYTES_SENT,
  IPC_ERRORS,
  IPC_FRAMES_RECEIVED,
  IPC_FRAMES_SENT,
  IPC_NONCE_WARNINGS,
  IPC_REKEYS,
  errorKind,
} from './metrics.js';

interface QueuedSend {
  readonly bytes: Uint8Array;
  readonly signal: AbortSignal | undefined;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

interface PendingRekey {
  readonly salt: Buffer;
  settled: boolean;
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

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
  readonly #psk: Buffer;
  readonly #warnAt: number;
  readonly #hardLimit: number;
  readonly #maxPlaintext: number;
  readonly #maxReadAhead: number;
  readonly #metrics: MetricsSink;
  readonly #life = new Lifecycle('EncryptedIpcConnection');
  #epoch = 0;
  #sealer: RecordSealer;
  #opener: RecordOpener;
  #warned = false;
  #terminal: Error | undefined;
  // Read side: decrypted messages not yet returned, and the one in-flight inner read.
  #readAhead: Buffer[] = [];
  #readAheadBytes = 0;
  #reading: Promise<void> | undefined;
  #changed: { promise: Promise<void>; resolve: () => void } | undefined;
  // Write side: sends wait here while a rekey we started is unacknowledged.
  #gated = false;
  readonly #sendQueue: QueuedSend[] = [];
  #rekey: PendingRekey | undefined;

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
    this.#psk = psk;
    this.#warnAt = options.warnAt;
    this.#hardLimit = options.hardLimit;
    this.#maxReadAhead = options.maxReadAhead;
    this.#metrics = options.metrics;
    this.#maxPlaintext = inner.maxFrameBytes - RECORD_OVERHEAD_BYTES;
    [this.#sealer, this.#opener] = this.#keysFor(dialerSalt, acceptorSalt, 0);
    KEY_MATERIAL.set(this, () => [this.#psk, this.#sealer.keyBytes, this.#opener.keyBytes]);
  }

  #keysFor(dialerSalt: Buffer, acceptorSalt: Buffer, epoch: number): [RecordSealer, RecordOpener] {
    const keys = deriveDirectionKeys(this.#psk, dialerSalt, acceptorSalt, epoch);
    dialerSalt.fill(0);
    acceptorSalt.fill(0);
    const peer: IpcRole = this.#role === 'dialer' ? 'acceptor' : 'dialer';
    const [send, recv] =
      this.#role === 'dialer'
        ? [keys.dialerToAcceptor, keys.acceptorToDialer]
        : [keys.acceptorToDialer, keys.dialerToAcceptor];
    return [new RecordSealer(send, this.#role), new RecordOpener(recv, peer, this.#hardLimit)];
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
      const wrapped =
        isMajraError(error, 'ERR_IPC_HANDSHAKE_FAILED') ||
        (isMajraError(error, 'ERR_ABORTED') && signal?.aborted === true)
          ? error
          : new CryptoError(`encrypted IPC handshake failed: ${(error as Error).message}`, {
              code: 'ERR_IPC_HANDSHAKE_FAILED',
              cause: error,
            });
      resolved.metrics.increment(IPC_ERRORS, 1, { kind: 'handshake_failed' });
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
    return this.#epoch;
  }

  /** Frames sent under the current send key (the next counter). */
  get messagesSent(): number {
    return this.#sealer.counter;
  }

  /** True once the current send key reached the warning threshold. */
  get needsRekey(): boolean {
    return this.#sealer.counter >= this.#warnAt;
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
      if (!this.#gated && this.#sendQueue.length === 0) return this.#sendData(bytes, signal);
    } catch (error) {
      return this.#reject(error);
    }
    return waitFor<undefined>(
      (resolve, reject) => {
        const item: QueuedSend = {
          bytes,
          signal: options.signal,
          resolve: () => resolve(undefined),
          reject,
        };
        this.#sendQueue.push(item);
        return () => removeItem(this.#sendQueue, item);
      },
      { signal: options.signal, what: 'send' },
    ).then(() => undefined);
  }

  #sendData(bytes: Uint8Array, signal: AbortSignal | undefined): Promise<void> {
    if (this.#sealer.counter >= this.#hardLimit) {
      return this.#reject(
        new CryptoError(
          `${this.#sealer.counter} messages were sent under this key (limit ${this.#hardLimit}); call rekey()`,
          {
            code: 'ERR_IPC_NONCE_EXHAUSTED',
            details: { messagesSent: this.#sealer.counter, maxMessagesPerKey: this.#hardLimit },
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
    const frame = this.#sealer.sealFramed(type, plaintext);
    if (!this.#warned && this.#sealer.counter >= this.#warnAt) {
      this.#warned = true;
      this.#metrics.increment(IPC_NONCE_WARNINGS);
      const warning: NonceWarning = {
        messagesSent: this.#sealer.counter,
        warnAfterMessages: this.#warnAt,
        maxMessagesPerKey: this.#hardLimit,
        epoch: this.#epoch,
      };
      process.nextTick(() => this.emit('warning', warning));
    }
    return frame;
  }

  #sendControl(type: number, plaintext: Uint8Array): void {
    const frame = this.#seal(type, plaintext);
    sendEncodedFrame(this.#inner, frame).catch((error: unknown) => this.#fail(error));
  }

  #openGate(): void {
    this.#gated = false;
    let item: QueuedSend | undefined;
    while ((item = this.#sendQueue.shift()) !== undefined) {
      this.#sendData(item.bytes, item.signal).then(item.resolve, item.reject);
    }
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
      if (this.#rekey === undefined) {
        const salt = randomBytes(SALT_BYTES);
        const pending = newPendingRekey(salt);
        this.#rekey = pending;
        this.#gated = true;
        this.#sendControl(FRAME_TYPE.rekey, salt);
      }
      return this.#awaitRekey(this.#rekey, signal);
    } catch (error) {
      return this.#reject(error);
    }
  }

  async #awaitRekey(pending: PendingRekey, signal: AbortSignal | undefined): Promise<void> {
    while (!pending.settled) {
      if (this.#terminal !== undefined) throw this.#terminal;
      const step = this.#readAheadBytes >= this.#maxReadAhead ? this.#waitChange() : this.#pump();
      await raceSignal(Promise.race([step, pending.promise]), signal, 'rekey');
    }
    await pending.promise;
  }

  #switchEpoch(dialerSalt: Buffer, acceptorSalt: Buffer): void {
    this.#epoch++;
    this.#sealer.destroy();
    this.#opener.destroy();
    [this.#sealer, this.#opener] = this.#keysFor(dialerSalt, acceptorSalt, this.#epoch);
    this.#warned = false;
    this.#metrics.increment(IPC_REKEYS);
    const pending = this.#rekey;
    this.#rekey = undefined;
    if (pending !== undefined) {
      pending.settled = true;
      pending.resolve();
    }
    this.#openGate();
  }

  // ----------------------------------------------------------------- read side

  /** Receives the next message and parses it as JSON (`ERR_CODEC_MALFORMED` if not JSON). */
  async recv<T = unknown>(options: WaitOptions = {}): Promise<T> {
    const body = await this.recvBytes(options);
    try {
      return decodeJsonBody(body) as T;
    } catch (error) {
      if (error instanceof MajraError) this.#countError(error);
      throw error;
    }
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
      this.#assertOpen('recv');
      signal = optionalSignal('signal', options.signal);
      throwIfAborted(signal, 'recv');
    } catch (error) {
      return this.#reject(error);
    }
    // Fast path: a message already decrypted, or a frame already queued below.
    const ready = this.#takeReady();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.#reading === undefined && this.#terminal === undefined) {
      const frame = takeQueuedFrame(this.#inner);
      if (frame !== undefined) {
        try {
          this.#process(frame);
        } catch (error) {
          this.#fail(error);
        }
        const got = this.#takeReady();
        if (got !== undefined) return Promise.resolve(got);
      }
    }
    return this.#recvSlow(signal);
  }

  #takeReady(): Buffer | undefined {
    const next = this.#readAhead.shift();
    if (next !== undefined) {
      this.#readAheadBytes -= next.length;
      this.#notify();
    }
    return next;
  }

  async #recvSlow(signal: AbortSignal | undefined): Promise<Buffer> {
    for (;;) {
      const next = this.#takeReady();
      if (next !== undefined) return next;
      if (this.#terminal !== undefined) throw this.#terminal;
      await raceSignal(this.#pump(), signal, 'recv');
    }
  }

  /** Reads one inner frame (shared by all concurrent readers). Never rejects. */
  #pump(): Promise<void> {
    this.#reading ??= this.#readOne().finally(() => {
      this.#reading = undefined;
      this.#notify();
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
    const { type, plaintext } = this.#opener.open(body);
    if (type === FRAME_TYPE.data) {
      this.#metrics.increment(IPC_FRAMES_RECEIVED, 1, ENCRYPTED);
      this.#metrics.increment(IPC_BYTES_RECEIVED, plaintext.length, ENCRYPTED);
      this.#readAhead.push(plaintext);
      this.#readAheadBytes += plaintext.length;
      return;
    }
    if (plaintext.length !== SALT_BYTES) {
      throw new ProtocolError(
        `rekey message of ${plaintext.length} bytes, expected ${SALT_BYTES}`,
        {
          code: 'ERR_IPC_REKEY_FAILED',
        },
      );
    }
    if (type === FRAME_TYPE.rekey) {
      // Both sides asked at once: the dialer's request wins, the acceptor answers it.
      if (this.#rekey !== undefined && this.#role === 'dialer') return;
      const mySalt = randomBytes(SALT_BYTES);
      this.#sendControl(FRAME_TYPE.rekeyAck, Buffer.from(mySalt));
      this.#switchEpoch(...this.#orderSalts(mySalt, plaintext));
      return;
    }
    const pending = this.#rekey;
    if (pending === undefined) {
      throw new ProtocolError('rekey acknowledgement without a pending rekey', {
        code: 'ERR_IPC_REKEY_FAILED',
      });
    }
    this.#switchEpoch(...this.#orderSalts(pending.salt, plaintext));
  }

  #orderSalts(mine: Buffer, theirs: Buffer): [Buffer, Buffer] {
    return this.#role === 'dialer' ? [mine, theirs] : [theirs, mine];
  }

  /**
   * Iterates received JSON values until the stream ends cleanly; other errors are thrown.
   */
  async *messages<T = unknown>(options: WaitOptions = {}): AsyncGenerator<T, void, undefined> {
    for (;;) {
      try {
        yield await this.recv<T>(options);
      } catch (error) {
        if (isCleanClose(error)) return;
        throw error;
      }
    }
  }

  /** Like {@link EncryptedIpcConnection.messages} for raw message bytes. */
  async *frames(options: WaitOptions = {}): AsyncGenerator<Buffer, void, undefined> {
    for (;;) {
      try {
        yield await this.recvBytes(options);
      } catch (error) {
        if (isCleanClose(error)) return;
        throw error;
      }
    }
  }

  /** Same as {@link EncryptedIpcConnection.messages}. */
  [Symbol.asyncIterator](): AsyncIterator<unknown> {
    return this.messages();
  }

  // ------------------------------------------------------------------ state

  #notify(): void {
    const current = this.#changed;
    if (current === undefined) return;
    this.#changed = undefined;
    current.resolve();
  }

  #waitChange(): Promise<void> {
    this.#changed ??= deferredVoid();
    return this.#changed.promise;
  }

  #assertOpen(operation: string): void {
    this.#life.assertOpen(operation);
  }

  #assertUsable(operation: string): void {
    this.#life.assertOpen(operation);
    if (this.#terminal !== undefined) throw this.#terminal;
  }

  #reject(error: unknown): Promise<never> {
    if (error instanceof MajraError) this.#countError(error);
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }

  #countError(error: MajraError): void {
    const kind = errorKind(error.code);
    if (kind !== undefined) this.#metrics.increment(IPC_ERRORS, 1, { kind });
  }

  /** Ends the channel after an error: nothing is sent or decrypted afterwards. */
  #fail(error: unknown): void {
    if (this.#terminal !== undefined) return;
    const failure = error instanceof Error ? error : new Error(String(error));
    this.#terminal = failure;
    if (failure instanceof MajraError && !isCleanClose(failure)) this.#countError(failure);
    this.#zeroKeys();
    for (const item of this.#sendQueue.splice(0)) item.reject(failure);
    const pending = this.#rekey;
    this.#rekey = undefined;
    if (pending !== undefined && !pending.settled) {
      pending.settled = true;
      pending.reject(failure);
    }
    this.#notify();
    if (!isCleanClose(failure)) this.#inner.destroy().catch(() => undefined);
  }

  #zeroKeys(): void {
    this.#sealer.destroy();
    this.#opener.destroy();
    this.#psk.fill(0);
  }

  /** Closes the channel and the inner connection; key material is zeroed. */
  close(): Promise<void> {
    return this.#life.close(async () => {
      this.#fail(new ClosedError('EncryptedIpcConnection is closed', { code: 'ERR_CLOSED' }));
      this.#zeroKeys();
      this.#readAhead = [];
      this.#readAheadBytes = 0;
      await this.#inner.close();
    });
  }

  /** Same as {@link EncryptedIpcConnection.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function deferredVoid(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function newPendingRekey(salt: Buffer): PendingRekey {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // The rekey may fail while nobody awaits it; callers of rekey() see the error.
  promise.catch(() => undefined);
  return { salt, settled: false, promise, resolve, reject };
}

/** Waits for `promise` unless `signal` aborts first (the promise keeps running). */
function raceSignal<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  what: string,
): Promise<T> {
  if (signal === undefined) return promise;
  return waitFor<T>(
    (resolve, reject) => {
      promise.then(resolve, reject);
      return undefined;
    },
    { signal, what },
  );
}

function removeItem<T>(list: T[], item: T): void {
  const index = list.indexOf(item);
  if (index >= 0) list.splice(index, 1);
}
