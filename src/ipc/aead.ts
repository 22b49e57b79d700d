/**
 * AES-256-GCM seal/open and the HKDF-SHA256 key schedule of the encrypted IPC channel
 * (docs/ipc.md, "Key schedule"). Everything goes through `node:crypto`.
 *
 * @module
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  timingSafeEqual,
} from 'node:crypto';
import { CryptoError } from '../core/errors.js';

/** AES-256 key length in bytes; also the pre-shared key length. */
export const KEY_BYTES = 32;
/** GCM nonce length: 96 bits. */
export const NONCE_BYTES = 12;
/** GCM tag length: 128 bits. */
export const TAG_BYTES = 16;

/**
 * Encrypts `plaintext` with AES-256-GCM and returns `ciphertext ‖ tag` (16-byte tag).
 * `aad` is authenticated, not encrypted.
 */
export function sealAesGcm(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array = EMPTY,
): Buffer {
  const out = Buffer.allocUnsafe(plaintext.length + TAG_BYTES);
  sealAesGcmInto(key, nonce, plaintext, aad, out, 0);
  return out;
}

/**
 * Like {@link sealAesGcm}, writing `ciphertext ‖ tag` into `out` at `offset` (which must
 * have room for `plaintext.length + 16` bytes). Returns the bytes written.
 */
export function sealAesGcmInto(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
  out: Buffer,
  offset: number,
): number {
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  if (aad.length > 0) cipher.setAAD(aad);
  let at = offset;
  at += cipher.update(plaintext).copy(out, at);
  at += cipher.final().copy(out, at);
  at += cipher.getAuthTag().copy(out, at);
  return at - offset;
}

/**
 * Decrypts `ciphertext ‖ tag` with AES-256-GCM. Throws `ERR_IPC_AUTH_FAILED` when the
 * tag does not verify (wrong key, nonce, AAD, or tampered bytes); no plaintext is
 * returned in that case.
 */
export function openAesGcm(
  key: Uint8Array,
  nonce: Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array = EMPTY,
): Buffer {
  if (sealed.length < TAG_BYTES) throw authFailed();
  const split = sealed.length - TAG_BYTES;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAuthTag(sealed.subarray(split));
    if (aad.length > 0) decipher.setAAD(aad);
    const head = decipher.update(sealed.subarray(0, split));
    const tail = decipher.final();
    return tail.length === 0 ? head : Buffer.concat([head, tail]);
  } catch (error) {
    throw authFailed(error);
  }
}

function authFailed(cause?: unknown): CryptoError {
  return new CryptoError('encrypted frame failed authentication (wrong key or tampered data)', {
    code: 'ERR_IPC_AUTH_FAILED',
    ...(cause === undefined ? {} : { cause }),
  });
}

/** HKDF-SHA256 with output length 32. */
export function hkdf32(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, KEY_BYTES));
}

/** HMAC-SHA256. */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** Constant-time equality of two byte strings of the same length. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

const EMPTY = new Uint8Array(0);
