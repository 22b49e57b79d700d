import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TcpTransport } from '../../src/transport/tcp.js';
import type {
  Connection,
  Listener,
  Transport,
  TransportMessage,
} from '../../src/transport/types.js';
import { UnixSocketTransport } from '../../src/transport/unix.js';

const dir = mkdtempSync(join(tmpdir(), 'majra-sock-'));
let seq = 0;
const sockPath = (): string => join(dir, `s${seq++}.sock`);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Kind {
  name: string;
  make: (onError?: (e: Error) => void, maxFrameBytes?: number) => Transport;
  endpoint: () => string;
  raw: (endpoint: string) => Socket;
}

const kinds: Kind[] = [
  {
    name: 'unix',
    make: (onError, maxFrameBytes) =>
      new UnixSocketTransport({
        ...(onError ? { onError } : {}),
        ...(maxFrameBytes ? { maxFrameBytes } : {}),
      }),
    endpoint: sockPath,
    raw: (endpoint) => createConnection({ path: endpoint }),
  },
  {
    name: 'tcp',
    make: (onError, maxFrameBytes) =>
      new TcpTransport({
        ...(onError ? { onError } : {}),
        ...(maxFrameBytes ? { maxFrameBytes } : {}),
      }),
    endpoint: () => '127.0.0.1:0',
    raw: (endpoint) => {
      const port = Number(endpoint.split(':')[1]);
      return createConnection({ host: '127.0.0.1', port });
    },
  },
];

async function serve(transport: Transport, endpoint: string) {
  const accepted: Connection[] = [];
  const waiters: ((c: Connection) => void)[] = [];
  const listener: Listener = await transport.listen(endpoint, (c) => {
    accepted.push(c);
    waiters.shift()?.(c);
  });
  const next = (): Promise<Connection> =>
    accepted.length > 0 ? Promise.resolve(accepted.shift()!) : new Promise((r) => waiters.push(r));
  return { listener, next };
}

function frame(body: Buffer | string, length?: number): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  const h = Buffer.alloc(4);
  h.writeUInt32BE(length ?? b.byteLength, 0);
  return Buffer.concat([h, b]);
}

async function drain(conn: Connection): Promise<{ items: TransportMessage[]; error?: unknown }> {
  const items: TransportMessage[] = [];
  try {
    for await (const m of conn.incoming()) items.push(m);
  } catch (error) {
    return { items, error };
  }
  return { items };
}

for (const kind of kinds) {
  describe(`${kind.name} transport`, () => {
    it('carries ordered messages both ways; 100 concurrent sends arrive intact', async () => {
      const transport = kind.make();
      const { listener, next } = await serve(transport, kind.endpoint());
      const client = await transport.connect(listener.endpoint);
      const server = await next();
      await Promise.all(
        Array.from({ length: 100 }, (_, i) => client.send({ i, pad: 'x'.repeat(i * 10) })),
      );
      const it = server.incoming()[Symbol.asyncIterator]();
      for (let i = 0; i < 100; i++) expect(((await it.next()).value as { i: number }).i).toBe(i);
      await server.send('back');
      expect((await client.incoming()[Symbol.asyncIterator]().next()).value).toBe('back');
      await client.close();
      expect((await it.next()).done).toBe(true);
      expect(server.isConnected).toBe(false);
      await expect(client.send(1)).rejects.toMatchObject({
        code: 'ERR_TRANSPORT_CONNECTION_CLOSED',
      });
      await listener.close();
    });

    it('reassembles frames written a byte at a time and coalesced frames', async () => {
      const transport = kind.make();
      const { listener, next } = await serve(transport, kind.endpoint());
      const raw = kind.raw(listener.endpoint);
      const server = await next();
      const bytes = Buffer.concat([frame('{"a":1}'), frame('[2]'), frame('"three"')]);
      for (const byte of bytes.subarray(0, 12)) {
        raw.write(Buffer.from([byte]));
        await new Promise((r) => setImmediate(r));
      }
      raw.end(bytes.subarray(12));
      const { items, error } = await drain(server);
      expect(error).toBeUndefined();
      expect(items).toEqual([{ a: 1 }, [2], 'three']);
      await listener.close();
    });

    it('an oversized header breaks the stream with ERR_IPC_FRAME_TOO_LARGE and closes it', async () => {
      const transport = kind.make(undefined, 1024);
      const { listener, next } = await serve(transport, kind.endpoint());
      const raw = kind.raw(listener.endpoint);
      const server = await next();
      raw.write(frame('"ok"'));
      raw.write(Buffer.from([0x01, 0x00, 0x00, 0x01])); // 16 MiB + 1
      const { items, error } = await drain(server);
      expect(items).toEqual(['ok']);
      expect(error).toMatchObject({ code: 'ERR_IPC_FRAME_TOO_LARGE' });
      expect(server.isConnected).toBe(false);
      await new Promise<void>((r) => (raw.destroyed ? r() : raw.once('close', () => r())));
      await listener.close();
    });

    it('a stream ending mid-frame fails with ERR_IPC_FRAME_TRUNCATED', async () => {
      const transport = kind.make();
      const { listener, next } = await serve(transport, kind.endpoint());
      const raw = kind.raw(listener.endpoint);
      const server = await next();
      raw.end(frame('{"never":"finished"}').subarray(0, 10));
      const { error } = await drain(server);
      expect(error).toMatchObject({ code: 'ERR_IPC_FRAME_TRUNCATED' });
      await listener.close();
    });

    it('garbage JSON and empty frames are skipped and reported; the stream stays in sync', async () => {
      const errors: Error[] = [];
      const transport = kind.make((e) => errors.push(e));
      const { listener, next } = await serve(transport, kind.endpoint());
      const raw = kind.raw(listener.endpoint);
      const server = await next();
      raw.end(
        Buffer.concat([frame('{oops'), frame(''), frame(Buffer.from([0xff, 0xfe])), frame('42')]),
      );
      const { items, error } = await drain(server);
      expect(error).toBeUndefined();
      expect(items).toEqual([42]);
      expect(errors.map((e) => (e as { code?: string }).code)).toEqual([
        'ERR_CODEC_MALFORMED',
        'ERR_CODEC_MALFORMED',
        'ERR_CODEC_MALFORMED',
      ]);
      await listener.close();
    });

    it('refuses to send a message over the cap; the connection stays usable', async () => {
      const transport = kind.make(undefined, 64);
      const { listener, next } = await serve(transport, kind.endpoint());
      const client = await transport.connect(listener.endpoint);
      const server = await next();
      await expect(client.send('y'.repeat(100))).rejects.toMatchObject({
        code: 'ERR_IPC_FRAME_TOO_LARGE',
      });
      await client.send('fits');
      expect((await server.incoming()[Symbol.asyncIterator]().next()).value).toBe('fits');
      await client.close();
      await listener.close();
    });

    it('carries bytes as tagged frames, interleaved with JSON; the cap counts the tag', async () => {
      const transport = kind.make(undefined, 64);
      const { listener, next } = await serve(transport, kind.endpoint());
      const client = await transport.connect(listener.endpoint);
      const server = await next();
      const bytes = Buffer.from([0x7b, 0x00, 0xff, 0x22]); // not JSON, not UTF-8
      await client.send(bytes);
      bytes[0] = 0; // the sender's buffer is not shared with the frame
      await client.send({ json: true });
      await client.send(new Uint8Array(0));
      await expect(client.send(new Uint8Array(64))).rejects.toMatchObject({
        code: 'ERR_IPC_FRAME_TOO_LARGE',
      });
      await client.send(new Uint8Array(63));
      await client.close();
      const { items, error } = await drain(server);
      expect(error).toBeUndefined();
      expect(items.map((m) => (m instanceof Uint8Array ? [...m] : m))).toEqual([
        [0x7b, 0x00, 0xff, 0x22],
        { json: true },
        [],
        Array.from({ length: 63 }, () => 0),
      ]);
      // On the wire: length, tag 0x00, then the bytes.
      const raw = kind.raw(listener.endpoint);
      const peer = await next();
      raw.end(Buffer.concat([frame(Buffer.from([0x00, 0x01, 0x02])), frame('7')]));
      expect((await drain(peer)).items.map((m) => (m instanceof Uint8Array ? [...m] : m))).toEqual([
        [0x01, 0x02],
        7,
      ]);
      await listener.close();
    });

    it("sendEncoded() writes the encoder's bytes into the frame, received like send(bytes)", async () => {
      const transport = kind.make(undefined, 64);
      const { listener, next } = await serve(transport, kind.endpoint());
      const client = await transport.connect(listener.endpoint);
      const server = await next();
      const encoder = (bytes: number[], maxBytes = bytes.length) => ({
        maxBytes,
        encodeInto(target: Buffer, offset: number): number {
          target.set(bytes, offset);
          return bytes.length;
        },
      });
      await client.sendEncoded!(encoder([1, 2, 3], 60)); // a worst case larger than written
      await client.sendEncoded!(encoder([]));
      // The cap counts the tag and the bytes actually written, not the worst case.
      await client.sendEncoded!(
        encoder(
          Array.from({ length: 63 }, () => 9),
          200,
        ),
      );
      await expect(
        client.sendEncoded!(encoder(Array.from({ length: 64 }, () => 9))),
      ).rejects.toMatchObject({
        code: 'ERR_IPC_FRAME_TOO_LARGE',
      });
      const liar = { maxBytes: 2, encodeInto: () => 3 };
      await expect(client.sendEncoded!(liar)).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
      });
      await expect(
        client.sendEncoded!({ maxBytes: -1, encodeInto: () => 0 }),
      ).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
      });
      await client.send(Buffer.from([4]));
      await client.close();
      const { items, error } = await drain(server);
      expect(error).toBeUndefined();
      expect(items.map((m) => (m instanceof Uint8Array ? [...m] : m))).toEqual([
        [1, 2, 3],
        [],
        Array.from({ length: 63 }, () => 9),
        [4],
      ]);
      await expect(client.sendEncoded!(encoder([1]))).rejects.toMatchObject({
        code: 'ERR_TRANSPORT_CONNECTION_CLOSED',
      });
      await listener.close();
    });

    it('consume() hands messages over as they are decoded and settles like incoming()', async () => {
      const transport = kind.make(undefined, 1024);
      const { listener, next } = await serve(transport, kind.endpoint());
      const client = await transport.connect(listener.endpoint);
      const server = await next();
      await expect(server.consume!(42 as never)).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
      });
      const seen: unknown[] = [];
      const done = server.consume!((m) => seen.push(m instanceof Uint8Array ? [...m] : m));
      await client.send({ a: 1 });
      await client.send(Buffer.from([7]));
      await expect.poll(() => seen.length).toBe(2);
      await client.close();
      await expect(done).resolves.toBeUndefined();
      expect(seen).toEqual([{ a: 1 }, [7]]);
      // A broken stream rejects with the framing error.
      const raw = kind.raw(listener.endpoint);
      const broken = await next();
      const failed = broken.consume!(() => undefined);
      raw.write(Buffer.from([0x01, 0x00, 0x00, 0x01]));
      await expect(failed).rejects.toMatchObject({ code: 'ERR_IPC_FRAME_TOO_LARGE' });
      raw.destroy();
      await listener.close();
    });

    it('unknown and malformed endpoints are typed errors', async () => {
      const transport = kind.make();
      const dead = kind.name === 'unix' ? join(dir, 'nobody.sock') : '127.0.0.1:1';
      await expect(transport.connect(dead)).rejects.toMatchObject({
        code: 'ERR_TRANSPORT_UNKNOWN_ENDPOINT',
      });
      for (const bad of [
        '',
        kind.name === 'unix' ? 'x'.repeat(200) : 'no-port',
        '127.0.0.1:99999',
      ]) {
        if (kind.name === 'unix' && bad === '127.0.0.1:99999') continue;
        await expect(transport.connect(bad)).rejects.toMatchObject({
          code: 'ERR_INVALID_ARGUMENT',
        });
      }
      const controller = new AbortController();
      controller.abort();
      await expect(transport.connect(dead, { signal: controller.signal })).rejects.toMatchObject({
        code: 'ERR_ABORTED',
      });
    });
  });
}

describe('unix transport specifics', () => {
  it('takes over a stale socket file left by a dead process, but not a live one', async () => {
    const path = sockPath();
    // Leave a stale socket file behind: a server whose handle is gone without unlinking.
    const stale = createServer();
    await new Promise<void>((r) => stale.listen(path, r));
    const transport = new UnixSocketTransport();
    await expect(transport.listen(path, () => undefined)).rejects.toMatchObject({
      code: 'ERR_INVALID_STATE',
    });
    // A process that exits without closing its server leaves a dead socket file.
    execFileSync(process.execPath, [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(path + '.dead')}, () => process.exit(0))`,
    ]);
    await new Promise<void>((r) => stale.close(() => r()));
    const deadPath = path + '.dead';
    const listener = await transport.listen(deadPath, () => undefined);
    const conn = await transport.connect(deadPath);
    expect(conn.isConnected).toBe(true);
    await conn.close();
    await listener.close();
  });
});

describe('tcp transport over TLS', () => {
  const certDir = join(dir, 'tls');
  let key = '';
  let cert = '';
  beforeAll(() => {
    execFileSync('mkdir', ['-p', certDir]);
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        join(certDir, 'key.pem'),
        '-out',
        join(certDir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    key = readFileSync(join(certDir, 'key.pem'), 'utf8');
    cert = readFileSync(join(certDir, 'cert.pem'), 'utf8');
  });

  it('round-trips over TLS with a trusted certificate', async () => {
    const transport = new TcpTransport({ tls: { server: { key, cert }, client: { ca: cert } } });
    const { listener, next } = await serve(transport, '127.0.0.1:0');
    const client = await transport.connect(listener.endpoint);
    const server = await next();
    await client.send({ secret: 1 });
    expect((await server.incoming()[Symbol.asyncIterator]().next()).value).toEqual({ secret: 1 });
    await client.close();
    await listener.close();
  });

  it('an untrusted certificate fails the dial with ERR_TRANSPORT_CONNECT_FAILED', async () => {
    const server = new TcpTransport({ tls: { server: { key, cert } } });
    const { listener } = await serve(server, '127.0.0.1:0');
    const client = new TcpTransport({ tls: { client: {} } });
    await expect(client.connect(listener.endpoint)).rejects.toMatchObject({
      code: 'ERR_TRANSPORT_CONNECT_FAILED',
    });
    await listener.close();
  });
});
