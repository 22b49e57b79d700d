// The second process of bench/ipc.bench.ts. Listens on <path>, takes one connection and
// runs <mode>: a sink that acknowledges after <count> frames, or an echo until close.
// Baselines ("raw-*", "aes-*") use net.Socket and node:crypto directly, with a minimal
// hand-written length-prefix parser; majra modes use IpcConnection / EncryptedIpcConnection.
// argv: <mode> <path> <count>; env MAJRA_BENCH_KEY (hex).
import { createDecipheriv, createCipheriv } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { IpcServer } from '../src/ipc/server.js';
import { EncryptedIpcConnection } from '../src/ipc/encrypted.js';

const [mode = '', path = '', countText = '0'] = process.argv.slice(2);
const count = Number(countText);
const key = Buffer.from(process.env['MAJRA_BENCH_KEY'] ?? '', 'hex');

/** Minimal framing for the baselines: calls onFrame for each complete body. */
function rawFrames(socket: Socket, onFrame: (body: Buffer) => void): void {
  let rest: Buffer | undefined;
  socket.on('data', (chunk: Buffer) => {
    const buf = rest === undefined ? chunk : Buffer.concat([rest, chunk]);
    let offset = 0;
    while (buf.length - offset >= 4) {
      const len = buf.readUInt32BE(offset);
      if (buf.length - offset - 4 < len) break;
      onFrame(buf.subarray(offset + 4, offset + 4 + len));
      offset += 4 + len;
    }
    rest = offset === buf.length ? undefined : buf.subarray(offset);
  });
}

function frame(body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
}

function aesOpen(body: Buffer): Buffer {
  const nonce = body.subarray(0, 12);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAuthTag(body.subarray(body.length - 16));
  return Buffer.concat([decipher.update(body.subarray(12, body.length - 16)), decipher.final()]);
}

let echoCounter = 0;
function aesSeal(plain: Buffer): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeUInt32BE(2, 0);
  nonce.writeUInt32BE(echoCounter++, 8);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const ct = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([nonce, ct, cipher.getAuthTag()]);
}

if (mode.startsWith('raw-') || mode.startsWith('aes-')) {
  const server = createServer((socket) => {
    let seen = 0;
    const aes = mode.startsWith('aes-');
    rawFrames(socket, (body) => {
      if (mode.endsWith('-echo')) {
        socket.write(frame(aes ? aesSeal(aesOpen(body)) : body));
        return;
      }
      if (aes) aesOpen(body);
      if (++seen === count) socket.write(frame(Buffer.from('ok')));
    });
    socket.on('close', () => server.close());
  });
  server.listen(path, () => process.send?.('ready'));
} else {
  const server = await IpcServer.listen(path);
  process.send?.('ready');
  const inner = await server.accept();
  await server.close();
  const conn = mode.startsWith('enc-') ? await EncryptedIpcConnection.accept(inner, key) : inner;
  if (mode.endsWith('-echo')) {
    for await (const body of conn.frames()) await conn.sendBytes(body);
  } else if (mode === 'json-sink') {
    for (let i = 0; i < count; i++) await conn.recv();
    await conn.sendBytes(Buffer.from('ok'));
  } else {
    for (let i = 0; i < count; i++) await conn.recvBytes();
    await conn.sendBytes(Buffer.from('ok'));
  }
  // Drain until the parent closes.
  let drained = 0;
  for await (const body of conn.frames()) drained += body.length;
  if (drained < 0) throw new Error('unreachable');
  await conn.close();
}
