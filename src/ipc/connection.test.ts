import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isMajraError } from '../core/errors.js';
import { MemoryMetricsSink } from '../testing/memory-metrics.js';
import { connectedPair, outcome, rawSocket, tempSocketDir, turns } from '../../test/support/ipc.js';
import { IpcConnection } from './connection.js';
import { DEFAULT_MAX_FRAME_BYTES, encodeFrame } from './framing.js';

let dir: ReturnType<typeof tempSocketDir>;
const cleanup: (() => Promise<void>)[] = [];

beforeEach(() => {
  dir = tempSocketDir();
});
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
  dir.remove();
});

async function pair(options: Parameters<typeof connectedPair>[1] = {}) {
  const p = await connectedPair(dir.path(), options);
  cleanup.push(
    () => p.server.close(),
    () => p.client.destroy(),
    () => p.peer.destroy(),
  );
  return p;
}

function code(value: unknown): string | undefined {
  return isMajraError(value) ? value.code : undefined;
}

describe('IpcConnection', () => {
  it('round-trips JSON both ways (§1.5.1) and a 1000-char string (§1.5.3)', async () => {
    const { client, peer } = await pair();
    await client.send({ hello: 'world' });
    const got = await peer.recv<{ hello: string }>();
    expect(got).toEqual({ hello: 'world' });
    await peer.send({ echo: got.hello });
    expect(await client.recv()).toEqual({ echo: 'world' });
    const long = 'x'.repeat(1000);
    await client.send(long);
    expect(await peer.recv()).toBe(long);
  });

  it('carries raw bytes without JSON, including empty frames', async () => {
    const { client, peer } = await pair();
    await client.sendBytes(new Uint8Array([1, 2, 3]));
    await client.sendBytes(new Uint8Array(0));
    expect([...(await peer.recvBytes())]).toEqual([1, 2, 3]);
    expect((await peer.recvBytes()).length).toBe(0);
  });

  it('reports a clean close as ERR_IPC_CONNECTION_CLOSED and ends for-await (§1.5.2)', async () => {
    const { client, peer } = await pair();
    await client.send(1);
    await client.send(2);
    await client.close();
    const seen: unknown[] = [];
    for await (const message of peer) seen.push(message);
    expect(seen).toEqual([1, 2]);
    expect(code(await outcome(peer.recv()))).toBe('ERR_IPC_CONNECTION_CLOSED');
  });

  it('refuses a header announcing 16 MiB + 1 and closes the connection (§1.5.4, §1.5.15)', async () => {
    const { server } = await pair();
    const raw = await rawSocket(dir.path());
    const conn = await server.accept();
    cleanup.push(() => conn.destroy());
    const header = Buffer.alloc(4);
    header.writeUInt32BE(DEFAULT_MAX_FRAME_BYTES + 1);
    raw.write(Buffer.concat([encodeFrame(Buffer.from('"before"')), header, Buffer.alloc(10)]));
    expect(await conn.recv()).toBe('before');
    const error = await outcome(conn.recv());
    expect(code(error)).toBe('ERR_IPC_FRAME_TOO_LARGE');
    expect(code(await outcome(conn.recv()))).toBe('ERR_IPC_FRAME_TOO_LARGE');
    await new Promise<void>((resolve) => raw.once('close', () => resolve()));
  });

  it('refuses an oversize send before writing anything; the next send works (§1.5.6)', async () => {
    const { client, peer } = await pair({ client: { maxFrameBytes: 1024 } });
    const error = await outcome(client.send('x'.repeat(1023)));
    expect(code(error)).toBe('ERR_IPC_FRAME_TOO_LARGE');
    expect((error as { details: unknown }).details).toMatchObject({
      size: 1025,
      maxFrameBytes: 1024,
    });
    expect(code(await outcome(client.sendBytes(new Uint8Array(1025))))).toBe(
      'ERR_IPC_FRAME_TOO_LARGE',
    );
    await client.send('small');
    expect(await peer.recv()).toBe('small');
    expect(peer.queuedFrames).toBe(0);
  });

  it('carries a body of exactly 16 MiB both ways (§1.5.7)', async () => {
    const { client, peer } = await pair();
    const body = Buffer.alloc(DEFAULT_MAX_FRAME_BYTES, 0x5a);
    const [, received] = await Promise.all([client.sendBytes(body), peer.recvBytes()]);
    expect(received.equals(body)).toBe(true);
    const [, back] = await Promise.all([peer.sendBytes(body), client.recvBytes()]);
    expect(back.length).toBe(DEFAULT_MAX_FRAME_BYTES);
  });

  it('keeps the stream in sync after empty, non-UTF-8 and invalid JSON bodies (§1.5.8-9)', async () => {
    const { client, peer } = await pair();
    await client.sendBytes(new Uint8Array(0));
    await client.sendBytes(new Uint8Array([0x22, 0xff, 0xfe, 0x22]));
    await client.sendBytes(Buffer.from('{"a":'));
    await client.send({ ok: true });
    for (let i = 0; i < 3; i++)
      expect(code(await outcome(peer.recv()))).toBe('ERR_CODEC_MALFORMED');
    expect(await peer.recv()).toEqual({ ok: true });
  });

  it('reports a partial header or body at close as truncated, not a clean close (§1.5.10-11)', async () => {
    const { server } = await pair();
    for (const bytes of [
      Buffer.from([0, 0]),
      Buffer.concat([Buffer.from([0, 0, 0, 100]), Buffer.alloc(50)]),
    ]) {
      const raw = await rawSocket(dir.path());
      const conn = await server.accept();
      cleanup.push(() => conn.destroy());
      raw.end(bytes);
      const error = await outcome(conn.recv());
      expect(code(error)).toBe('ERR_IPC_FRAME_TRUNCATED');
    }
  });

  it('reassembles a frame written one byte at a time, and 100 coalesced frames (§1.5.12)', async () => {
    const { server } = await pair();
    const raw = await rawSocket(dir.path());
    const conn = await server.accept();
    cleanup.push(() => conn.destroy());
    for (const byte of encodeFrame(Buffer.from('{"slow":1}'))) {
      raw.write(Buffer.from([byte]));
      await turns(1);
    }
    expect(await conn.recv()).toEqual({ slow: 1 });
    raw.write(
      Buffer.concat(Array.from({ length: 100 }, (_, i) => encodeFrame(Buffer.from(String(i))))),
    );
    for (let i = 0; i < 100; i++) expect(await conn.recv()).toBe(i);
    raw.destroy();
  });

  it('keeps 100 concurrent sends intact and in order (§1.5.13); concurrent recvs in order (§1.5.14)', async () => {
    const { client, peer } = await pair();
    const receives = Array.from({ length: 100 }, () => peer.recv<{ i: number; pad: string }>());
    await Promise.all(
      Array.from({ length: 100 }, (_, i) => client.send({ i, pad: 'p'.repeat(i * 100) })),
    );
    const got = await Promise.all(receives);
    expect(got.map((m) => m.i)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(got.every((m) => m.pad.length === m.i * 100)).toBe(true);
  });

  it('rejects unserialisable payloads before writing (§1.5.19)', async () => {
    const { client, peer } = await pair();
    const cyclic: Record<string, unknown> = {};
    cyclic['me'] = cyclic;
    for (const bad of [undefined, 10n, cyclic, () => 1]) {
      expect(code(await outcome(client.send(bad)))).toBe('ERR_CODEC_NOT_SERIALIZABLE');
    }
    expect(code(await outcome(client.sendBytes('text' as unknown as Uint8Array)))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    await client.send('after');
    expect(await peer.recv()).toBe('after');
  });

  it('aborting a recv consumes nothing; an aborted signal rejects at once (§1.5.18)', async () => {
    const { client, peer } = await pair();
    const controller = new AbortController();
    const pending = outcome(peer.recv({ signal: controller.signal }));
    controller.abort();
    expect(code(await pending)).toBe('ERR_ABORTED');
    await client.send('kept');
    expect(await peer.recv()).toBe('kept');
    expect(code(await outcome(peer.recv({ signal: AbortSignal.abort() })))).toBe('ERR_ABORTED');
    expect(code(await outcome(client.send(1, { signal: AbortSignal.abort() })))).toBe(
      'ERR_ABORTED',
    );
  });

  it('respects backpressure: send stays pending while the peer does not read; memory is bounded', async () => {
    const { client, peer } = await pair({
      server: { maxBufferedBytes: 64 * 1024 },
      client: { maxBufferedBytes: 64 * 1024 },
    });
    const frame = Buffer.alloc(16 * 1024, 1);
    let sent = 0;
    let blocked: Promise<void> | undefined;
    while (blocked === undefined) {
      if (sent > 64 * 1024 * 1024) throw new Error('backpressure never applied');
      let done = false;
      const p = client.sendBytes(frame).then(() => {
        done = true;
      });
      sent += frame.length;
      await turns(3);
      if (!done) blocked = p;
    }
    await turns(20);
    // The reader paused its socket: its queue holds about maxBufferedBytes, not everything sent.
    expect(peer.queuedFrames * frame.length).toBeLessThan(64 * 1024 + 256 * 1024);
    let received = 0;
    const total = sent / frame.length;
    while (received < total) {
      await peer.recvBytes();
      received++;
    }
    await blocked;
  });

  it('closes gracefully: pending recv rejects with ERR_CLOSED, later calls too', async () => {
    const { client } = await pair();
    const pending = outcome(client.recv());
    await client.close();
    await client.close();
    expect(code(await pending)).toBe('ERR_CLOSED');
    expect(code(await outcome(client.recv()))).toBe('ERR_CLOSED');
    expect(code(await outcome(client.send(1)))).toBe('ERR_CLOSED');
    expect(client.isClosed).toBe(true);
    await client.closed;
  });

  it('connect reports ENOENT for a missing path and validates options (§1.5.17)', async () => {
    const error = await outcome(IpcConnection.connect(dir.path('missing.sock')));
    expect(code(error)).toBe('ERR_IPC_IO');
    expect((error as { details: unknown }).details).toEqual({ errno: 'ENOENT' });
    expect(code(await outcome(IpcConnection.connect(`/tmp/${'x'.repeat(120)}`)))).toBe(
      'ERR_IPC_PATH_TOO_LONG',
    );
    expect(code(await outcome(IpcConnection.connect(dir.path(), { maxFrameBytes: 0 })))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(
      code(await outcome(IpcConnection.connect(dir.path(), { signal: AbortSignal.abort() }))),
    ).toBe('ERR_ABORTED');
  });

  it('reports frames, bytes and errors through the metrics sink', async () => {
    const metrics = new MemoryMetricsSink();
    const { client, peer } = await pair({ server: { metrics }, client: { metrics } });
    await client.send('ab');
    await peer.recv();
    expect(metrics.counter('majra_ipc_frames_sent_total', { layer: 'plain' })).toBe(1);
    expect(metrics.counter('majra_ipc_frames_received_total', { layer: 'plain' })).toBe(1);
    expect(metrics.counter('majra_ipc_bytes_sent_total', { layer: 'plain' })).toBe(8);
    expect(metrics.counter('majra_ipc_bytes_received_total', { layer: 'plain' })).toBe(8);
    expect(metrics.counter('majra_ipc_connections_total', { side: 'accepted' })).toBe(1);
    expect(metrics.counter('majra_ipc_connections_total', { side: 'dialed' })).toBe(1);
    await client.sendBytes(new Uint8Array(0));
    await outcome(peer.recv());
    expect(metrics.counter('majra_ipc_errors_total', { kind: 'malformed' })).toBe(1);
  });
});
