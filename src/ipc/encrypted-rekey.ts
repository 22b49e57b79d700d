import { randomBytes } from 'node:crypto';
import { ProtocolError } from '../core/errors.js';
import type { MetricsSink } from '../core/metrics.js';
import type { ChannelKeys } from './encrypted-keys.js';
import { FRAME_TYPE, SALT_BYTES, type IpcRole } from './encrypted-protocol.js';
import { raceSignal } from './encrypted-queues.js';
import { IPC_REKEYS } from './metrics.js';

/** A rekey this side requested, settled by the peer's acknowledgement or a failure. */
interface PendingRekey {
  readonly salt: Buffer;
  settled: boolean;
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/** What the rekey protocol needs from its channel. @internal */
export interface RekeyHost {
  readonly role: IpcRole;
  readonly keys: ChannelKeys;
  readonly metrics: MetricsSink;
  /** Seals and sends a control frame (failures end the channel). */
  sendControl(type: number, plaintext: Uint8Array): void;
  /** Holds data sends until {@link RekeyHost.resumeSends}. */
  holdSends(): void;
  /** Sends the held data under the new keys, in order. */
  resumeSends(): void;
  /** Reads one more frame, or waits for read-ahead space when it is full. */
  readStep(): Promise<void>;
  /** The error that ended the channel, if any. */
  terminal(): Error | undefined;
}

/**
 * The in-band rekey protocol of the encrypted channel. The requester sends a fresh salt
 * and holds its data sends; the peer answers with its own salt and switches; on the
 * answer the requester switches and releases the held sends. Both derive the next
 * epoch's keys from the two salts (ordered dialer, acceptor). When both sides ask at
 * once the dialer's request wins and the acceptor answers it.
 *
 * @internal
 */
export class Rekeyer {
  readonly #host: RekeyHost;
  #pending: PendingRekey | undefined;

  constructor(host: RekeyHost) {
    this.#host = host;
  }

  /** Starts a rekey, or joins the one in progress, and waits until it completes. */
  start(signal: AbortSignal | undefined): Promise<void> {
    if (this.#pending === undefined) {
      const salt = randomBytes(SALT_BYTES);
      this.#pending = newPendingRekey(salt);
      this.#host.holdSends();
      this.#host.sendControl(FRAME_TYPE.rekey, salt);
    }
    return this.#await(this.#pending, signal);
  }

  /** Handles a received rekey request or acknowledgement (`type` is not data). */
  handle(type: number, plaintext: Buffer): void {
    if (plaintext.length !== SALT_BYTES) {
      throw new ProtocolError(
        `rekey message of ${plaintext.length} bytes, expected ${SALT_BYTES}`,
        {
          code: 'ERR_IPC_REKEY_FAILED',
        },
      );
    }
    const { keys } = this.#host;
    if (type === FRAME_TYPE.rekey) {
      if (this.#pending !== undefined && this.#host.role === 'dialer') return;
      const mySalt = randomBytes(SALT_BYTES);
      this.#host.sendControl(FRAME_TYPE.rekeyAck, Buffer.from(mySalt));
      this.#switch(...keys.orderSalts(mySalt, plaintext));
      return;
    }
    const pending = this.#pending;
    if (pending === undefined) {
      throw new ProtocolError('rekey acknowledgement without a pending rekey', {
        code: 'ERR_IPC_REKEY_FAILED',
      });
    }
    this.#switch(...keys.orderSalts(pending.salt, plaintext));
  }

  /** Fails the rekey in progress, if any, with the channel's error. */
  fail(error: Error): void {
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending !== undefined && !pending.settled) {
      pending.settled = true;
      pending.reject(error);
    }
  }

  async #await(pending: PendingRekey, signal: AbortSignal | undefined): Promise<void> {
    while (!pending.settled) {
      const terminal = this.#host.terminal();
      if (terminal !== undefined) throw terminal;
      await raceSignal(Promise.race([this.#host.readStep(), pending.promise]), signal, 'rekey');
    }
    await pending.promise;
  }

  #switch(dialerSalt: Buffer, acceptorSalt: Buffer): void {
    this.#host.keys.next(dialerSalt, acceptorSalt);
    this.#host.metrics.increment(IPC_REKEYS);
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending !== undefined) {
      pending.settled = true;
      pending.resolve();
    }
    this.#host.resumeSends();
  }
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
