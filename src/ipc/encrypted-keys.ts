import {
  deriveDirectionKeys,
  RecordOpener,
  RecordSealer,
  type IpcRole,
} from './encrypted-protocol.js';
import type { NonceWarning } from './encrypted-handshake.js';

/**
 * The key state of one encrypted channel: the pre-shared key, the current epoch and its
 * sealer (send key and counter) and opener (receive key and expected counter). Each
 * epoch's direction keys are derived from the pre-shared key and both sides' salts;
 * salts are zeroed once used. Tracks the message-count warning for the send key.
 *
 * @internal
 */
export class ChannelKeys {
  readonly #psk: Buffer;
  readonly #role: IpcRole;
  readonly #warnAt: number;
  readonly #hardLimit: number;
  #epoch = 0;
  #sealer: RecordSealer;
  #opener: RecordOpener;
  #warned = false;

  constructor(
    psk: Buffer,
    role: IpcRole,
    dialerSalt: Buffer,
    acceptorSalt: Buffer,
    limits: { readonly warnAt: number; readonly hardLimit: number },
  ) {
    this.#psk = psk;
    this.#role = role;
    this.#warnAt = limits.warnAt;
    this.#hardLimit = limits.hardLimit;
    [this.#sealer, this.#opener] = this.#derive(dialerSalt, acceptorSalt);
  }

  /** 0 after the handshake, +1 per completed rekey. */
  get epoch(): number {
    return this.#epoch;
  }

  /** Frames sealed under the current send key (the next counter). */
  get sent(): number {
    return this.#sealer.counter;
  }

  /** The warning threshold of a send key. */
  get warnAt(): number {
    return this.#warnAt;
  }

  /** Data messages allowed per send key. */
  get hardLimit(): number {
    return this.#hardLimit;
  }

  /** The live key buffers (pre-shared copy, send, receive), for the zeroing test. */
  get material(): Buffer[] {
    return [this.#psk, this.#sealer.keyBytes, this.#opener.keyBytes];
  }

  /** Seals one framed record with the current send key and counter. */
  seal(type: number, plaintext: Uint8Array): Buffer {
    return this.#sealer.sealFramed(type, plaintext);
  }

  /**
   * The warning to report once the send key reached the threshold: returned once per
   * key, `undefined` otherwise (checked after each seal, so nothing is allocated then).
   */
  dueWarning(): NonceWarning | undefined {
    if (this.#warned || this.#sealer.counter < this.#warnAt) return undefined;
    this.#warned = true;
    return {
      messagesSent: this.#sealer.counter,
      warnAfterMessages: this.#warnAt,
      maxMessagesPerKey: this.#hardLimit,
      epoch: this.#epoch,
    };
  }

  /** Authenticates and decrypts one received record body. */
  open(body: Uint8Array): ReturnType<RecordOpener['open']> {
    return this.#opener.open(body);
  }

  /** Moves to the next epoch: fresh keys from the salts, counters back to 0. */
  next(dialerSalt: Buffer, acceptorSalt: Buffer): void {
    this.#epoch++;
    this.#sealer.destroy();
    this.#opener.destroy();
    [this.#sealer, this.#opener] = this.#derive(dialerSalt, acceptorSalt);
    this.#warned = false;
  }

  /** Orders this side's and the peer's salt as (dialer, acceptor). */
  orderSalts(mine: Buffer, theirs: Buffer): [Buffer, Buffer] {
    return this.#role === 'dialer' ? [mine, theirs] : [theirs, mine];
  }

  /** Zeroes every key buffer. */
  zero(): void {
    this.#sealer.destroy();
    this.#opener.destroy();
    this.#psk.fill(0);
  }

  #derive(dialerSalt: Buffer, acceptorSalt: Buffer): [RecordSealer, RecordOpener] {
    const keys = deriveDirectionKeys(this.#psk, dialerSalt, acceptorSalt, this.#epoch);
    dialerSalt.fill(0);
    acceptorSalt.fill(0);
    const peer: IpcRole = this.#role === 'dialer' ? 'acceptor' : 'dialer';
    const [send, recv] =
      this.#role === 'dialer'
        ? [keys.dialerToAcceptor, keys.acceptorToDialer]
        : [keys.acceptorToDialer, keys.dialerToAcceptor];
    return [new RecordSealer(send, this.#role), new RecordOpener(recv, peer, this.#hardLimit)];
  }
}
