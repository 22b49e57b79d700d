/**
 * Wire format of the encrypted IPC channel (version 1). docs/ipc.md documents every
 * byte; this file is the single implementation of it.
 *
 * Hello (67 bytes, plaintext, authenticated):
 * `version(1)=1 ‖ type(1)=1 ‖ role(1) ‖ salt(32) ‖ HMAC-SHA256(K_hello, first 35 bytes)(32)`.
 *
 * Record (DATA, REKEY, REKEY_ACK): `version(1)=1 ‖ type(1) ‖ counter(8, BE) ‖
 * AES-256-GCM(K_dir, nonce = u32be(senderRole) ‖ counter(8, BE), aad = first 10 bytes)`.
 *
 * @internal
 * @module
 */
import { CryptoError, ProtocolError } from '../core/errors.js';
import { FRAME_HEADER_BYTES } from './framing.js';
import {
  sealAesGcmInto,
  bytesEqual,
  hkdf32,
  hmacSha256,
  NONCE_BYTES,
  openAesGcm,
  TAG_BYTES,
} from './aead.js';

/** Protocol version byte. */
export const PROTOCOL_VERSION = 1;
/** Frame type bytes. */
export const FRAME_TYPE = { hello: 1, data: 2, rekey: 3, rekeyAck: 4 } as const;
/** Role bytes: the side that connected, and the side that accepted. */
export const ROLE_BYTE = { dialer: 1, acceptor: 2 } as const;
/** Which end of the connection this is. */
export type IpcRole = keyof typeof ROLE_BYTE;

/** Random salt bytes in hello, REKEY and REKEY_ACK. */
export const SALT_BYTES = 32;
/** Hello length. */
export const HELLO_BYTES = 3 + SALT_BYTES + 32;
/** Record header (version, type, counter), bound as AAD. */
export const RECORD_HEADER_BYTES = 10;
/** Bytes a record adds to its plaintext. */
export const RECORD_OVERHEAD_BYTES = RECORD_HEADER_BYTES + TAG_BYTES;

const TEXT = new TextEncoder();
const HELLO_INFO = TEXT.encode('majra-ipc v1 hello');
const INFO_D2A = TEXT.encode('majra-ipc v1 dialer->acceptor');
const INFO_A2D = TEXT.encode('majra-ipc v1 acceptor->dialer');
const TWO_32 = 2 ** 32;

function handshakeFailed(message: string): CryptoError {
  return new CryptoError(`encrypted IPC handshake failed: ${message}`, {
    code: 'ERR_IPC_HANDSHAKE_FAILED',
  });
}

/** `K_hello = HKDF-SHA256(ikm = PSK, salt = empty, info = "majra-ipc v1 hello", L = 32)`. */
export function helloKey(psk: Uint8Array): Buffer {
  return hkdf32(psk, new Uint8Array(0), HELLO_INFO);
}

/** Builds this side's hello. */
export function encodeHello(psk: Uint8Array, role: IpcRole, salt: Uint8Array): Buffer {
  const hello = Buffer.alloc(HELLO_BYTES);
  hello[0] = PROTOCOL_VERSION;
  hello[1] = FRAME_TYPE.hello;
  hello[2] = ROLE_BYTE[role];
  hello.set(salt, 3);
  const key = helloKey(psk);
  hmacSha256(key, hello.subarray(0, 3 + SALT_BYTES)).copy(hello, 3 + SALT_BYTES);
  key.fill(0);
  return hello;
}

/** Verifies the peer's hello and returns its salt (a copy). */
export function parseHello(psk: Uint8Array, body: Uint8Array, peerRole: IpcRole): Buffer {
  if (body.length !== HELLO_BYTES)
    throw handshakeFailed(`hello of ${body.length} bytes, expected ${HELLO_BYTES}`);
  if (body[0] !== PROTOCOL_VERSION) throw handshakeFailed(`unsupported version ${body[0]}`);
  if (body[1] !== FRAME_TYPE.hello) throw handshakeFailed(`frame type ${body[1]} is not a hello`);
  if (body[2] !== ROLE_BYTE[peerRole])
    throw handshakeFailed(`peer role byte ${body[2]}, expected ${ROLE_BYTE[peerRole]}`);
  const key = helloKey(psk);
  const mac = hmacSha256(key, body.subarray(0, 3 + SALT_BYTES));
  key.fill(0);
  if (!bytesEqual(mac, body.subarray(3 + SALT_BYTES))) {
    throw handshakeFailed('hello authentication failed (the peer uses a different key)');
  }
  return Buffer.from(body.subarray(3, 3 + SALT_BYTES));
}

/** The two direction keys of one epoch. */
export interface DirectionKeys {
  readonly dialerToAcceptor: Buffer;
  readonly acceptorToDialer: Buffer;
}

/**
 * `K_dir = HKDF-SHA256(ikm = PSK, salt = dialerSalt ‖ acceptorSalt,
 * info = "majra-ipc v1 dialer->acceptor" | "majra-ipc v1 acceptor->dialer" ‖ u32be(epoch), L = 32)`.
 */
export function deriveDirectionKeys(
  psk: Uint8Array,
  dialerSalt: Uint8Array,
  acceptorSalt: Uint8Array,
  epoch: number,
): DirectionKeys {
  const salt = Buffer.concat([dialerSalt, acceptorSalt]);
  const epochBytes = Buffer.alloc(4);
  epochBytes.writeUInt32BE(epoch >>> 0);
  const keys = {
    dialerToAcceptor: hkdf32(psk, salt, Buffer.concat([INFO_D2A, epochBytes])),
    acceptorToDialer: hkdf32(psk, salt, Buffer.concat([INFO_A2D, epochBytes])),
  };
  salt.fill(0);
  return keys;
}

/**
 * The 96-bit nonce: the sender's role byte as u32 big-endian (1 dialer, 2 acceptor),
 * then the counter as u64 big-endian. The keys already differ per direction; the role
 * prefix keeps the two directions' nonces distinct even under one key.
 */
export function nonceFor(senderRole: IpcRole, counter: number): Buffer {
  const nonce = Buffer.alloc(NONCE_BYTES);
  nonce.writeUInt32BE(ROLE_BYTE[senderRole], 0);
  nonce.writeUInt32BE(Math.floor(counter / TWO_32), 4);
  nonce.writeUInt32BE(counter >>> 0, 8);
  return nonce;
}

/** Seals one record under `key` for `senderRole` at `counter`. */
export function sealRecord(
  key: Uint8Array,
  senderRole: IpcRole,
  type: number,
  counter: number,
  plaintext: Uint8Array,
): Buffer {
  return sealRecordFramed(key, senderRole, type, counter, plaintext).subarray(FRAME_HEADER_BYTES);
}

/**
 * Seals one record and returns it already framed for the IPC layer: the 4-byte length
 * prefix, then the record. One allocation per frame.
 */
export function sealRecordFramed(
  key: Uint8Array,
  senderRole: IpcRole,
  type: number,
  counter: number,
  plaintext: Uint8Array,
): Buffer {
  const recordBytes = RECORD_OVERHEAD_BYTES + plaintext.length;
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + recordBytes);
  out.writeUInt32BE(recordBytes, 0);
  const h = FRAME_HEADER_BYTES;
  out[h] = PROTOCOL_VERSION;
  out[h + 1] = type;
  out.writeUInt32BE(Math.floor(counter / TWO_32), h + 2);
  out.writeUInt32BE(counter >>> 0, h + 6);
  const header = out.subarray(h, h + RECORD_HEADER_BYTES);
  sealAesGcmInto(
    key,
    nonceFor(senderRole, counter),
    plaintext,
    header,
    out,
    h + RECORD_HEADER_BYTES,
  );
  return out;
}

/** A record header, parsed but not yet authenticated. */
export interface RecordHeader {
  readonly type: number;
  readonly counter: number;
}

/** Parses a record header; throws `ERR_IPC_BAD_FRAME` on a short frame, bad version or type. */
export function parseRecordHeader(body: Uint8Array): RecordHeader {
  if (body.length < RECORD_OVERHEAD_BYTES) {
    throw new ProtocolError(
      `encrypted frame of ${body.length} bytes is shorter than ${RECORD_OVERHEAD_BYTES}`,
      { code: 'ERR_IPC_BAD_FRAME' },
    );
  }
  if (body[0] !== PROTOCOL_VERSION) {
    throw new ProtocolError(`encrypted frame has unsupported version ${body[0]}`, {
      code: 'ERR_IPC_BAD_FRAME',
    });
  }
  const type = body[1] ?? 0;
  if (type !== FRAME_TYPE.data && type !== FRAME_TYPE.rekey && type !== FRAME_TYPE.rekeyAck) {
    throw new ProtocolError(`encrypted frame has unknown type ${type}`, {
      code: 'ERR_IPC_BAD_FRAME',
    });
  }
  const view = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return { type, counter: view.readUInt32BE(2) * TWO_32 + view.readUInt32BE(6) };
}

/** One direction's key and counter on the sending side. */
export class RecordSealer {
  #key: Buffer;
  #counter = 0;
  readonly #role: IpcRole;

  /** Takes ownership of `key` (zeroed by {@link RecordSealer.destroy}). */
  constructor(key: Buffer, senderRole: IpcRole) {
    this.#key = key;
    this.#role = senderRole;
  }

  /** Records sealed so far: the next counter. */
  get counter(): number {
    return this.#counter;
  }

  /** Seals at the next counter (taken synchronously) and advances it. */
  seal(type: number, plaintext: Uint8Array): Buffer {
    return this.sealFramed(type, plaintext).subarray(FRAME_HEADER_BYTES);
  }

  /** Like {@link RecordSealer.seal}, with the IPC length prefix in front. */
  sealFramed(type: number, plaintext: Uint8Array): Buffer {
    const frame = sealRecordFramed(this.#key, this.#role, type, this.#counter, plaintext);
    this.#counter++;
    return frame;
  }

  /** Zeroes the key; the sealer must not be used afterwards. */
  destroy(): void {
    this.#key.fill(0);
  }

  /** @internal For the key-zeroing test. */
  get keyBytes(): Buffer {
    return this.#key;
  }
}

/** A decrypted record. */
export interface OpenedRecord {
  readonly type: number;
  readonly plaintext: Buffer;
}

/**
 * One direction's key and expected counter on the receiving side. `open` accepts only
 * the exact next counter, then authenticates; on any error nothing is returned and the
 * counter does not move (callers close the channel).
 */
export class RecordOpener {
  readonly #key: Buffer;
  #counter = 0;
  readonly #role: IpcRole;
  readonly #maxDataRecords: number;

  /** Takes ownership of `key`. `maxDataRecords` is the per-key DATA limit. */
  constructor(key: Buffer, senderRole: IpcRole, maxDataRecords: number) {
    this.#key = key;
    this.#role = senderRole;
    this.#maxDataRecords = maxDataRecords;
  }

  /** Records opened so far: the next expected counter. */
  get counter(): number {
    return this.#counter;
  }

  /** Checks, authenticates and decrypts the next record. */
  open(body: Uint8Array): OpenedRecord {
    const header = parseRecordHeader(body);
    if (header.counter !== this.#counter) {
      throw new CryptoError(
        `encrypted frame counter ${header.counter}, expected ${this.#counter} (replayed, reordered or dropped frame)`,
        {
          code: 'ERR_IPC_UNEXPECTED_COUNTER',
          details: { expected: this.#counter, got: header.counter },
        },
      );
    }
    if (header.type === FRAME_TYPE.data && header.counter >= this.#maxDataRecords) {
      throw new CryptoError(`peer exceeded ${this.#maxDataRecords} messages under one key`, {
        code: 'ERR_IPC_NONCE_EXHAUSTED',
        details: { maxMessagesPerKey: this.#maxDataRecords },
      });
    }
    const plaintext = openAesGcm(
      this.#key,
      nonceFor(this.#role, header.counter),
      body.subarray(RECORD_HEADER_BYTES),
      body.subarray(0, RECORD_HEADER_BYTES),
    );
    this.#counter++;
    return { type: header.type, plaintext };
  }

  /** Zeroes the key. */
  destroy(): void {
    this.#key.fill(0);
  }

  /** @internal For the key-zeroing test. */
  get keyBytes(): Buffer {
    return this.#key;
  }
}
