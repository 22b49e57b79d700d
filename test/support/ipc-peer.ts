// An independent implementation of the encrypted IPC wire format, written from
// docs/ipc.md with node:crypto only (it does not import majra's crypto code). Tests use
// it to prove the documentation is exact and to craft hostile frames.
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

export type Role = 'dialer' | 'acceptor';
const ROLE = { dialer: 1, acceptor: 2 } as const;
export const TYPE = { hello: 1, data: 2, rekey: 3, rekeyAck: 4 } as const;

function hkdf(ikm: Buffer, salt: Buffer, info: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, 32));
}

/** Hello = 01 01 role salt(32) HMAC-SHA256(K_hello, first 35 bytes). */
export function hello(psk: Buffer, role: Role, salt: Buffer): Buffer {
  const head = Buffer.concat([Buffer.from([1, 1, ROLE[role]]), salt]);
  const kHello = hkdf(psk, Buffer.alloc(0), Buffer.from('majra-ipc v1 hello'));
  return Buffer.concat([head, createHmac('sha256', kHello).update(head).digest()]);
}

/** Returns the peer salt, or throws when the hello is not authentic. */
export function readHello(psk: Buffer, body: Buffer, peer: Role): Buffer {
  const expected = hello(psk, peer, body.subarray(3, 35));
  if (body.length !== 67 || !timingSafeEqual(expected, body)) throw new Error('bad hello');
  return Buffer.from(body.subarray(3, 35));
}

export function directionKey(
  psk: Buffer,
  dialerSalt: Buffer,
  acceptorSalt: Buffer,
  from: Role,
  epoch: number,
): Buffer {
  const label =
    from === 'dialer' ? 'majra-ipc v1 dialer->acceptor' : 'majra-ipc v1 acceptor->dialer';
  const e = Buffer.alloc(4);
  e.writeUInt32BE(epoch);
  return hkdf(
    psk,
    Buffer.concat([dialerSalt, acceptorSalt]),
    Buffer.concat([Buffer.from(label), e]),
  );
}

export function nonce(from: Role, counter: number): Buffer {
  const n = Buffer.alloc(12);
  n.writeUInt32BE(ROLE[from], 0);
  n.writeBigUInt64BE(BigInt(counter), 4);
  return n;
}

/** Record = 01 type counter(u64 BE) ciphertext tag; AAD = the first 10 bytes. */
export function record(
  key: Buffer,
  from: Role,
  type: number,
  counter: number,
  plaintext: Buffer,
): Buffer {
  const header = Buffer.alloc(10);
  header[0] = 1;
  header[1] = type;
  header.writeBigUInt64BE(BigInt(counter), 2);
  const cipher = createCipheriv('aes-256-gcm', key, nonce(from, counter));
  cipher.setAAD(header);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([header, body, cipher.getAuthTag()]);
}

export function openRecord(
  key: Buffer,
  from: Role,
  frame: Buffer,
): { type: number; counter: number; plaintext: Buffer } {
  const header = frame.subarray(0, 10);
  const counter = Number(header.readBigUInt64BE(2));
  const decipher = createDecipheriv('aes-256-gcm', key, nonce(from, counter));
  decipher.setAAD(header);
  decipher.setAuthTag(frame.subarray(frame.length - 16));
  const plaintext = Buffer.concat([
    decipher.update(frame.subarray(10, frame.length - 16)),
    decipher.final(),
  ]);
  return { type: frame[1]!, counter, plaintext };
}

/** Fresh 32 random bytes. */
export function salt(): Buffer {
  return randomBytes(32);
}
