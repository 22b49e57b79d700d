import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.js';
import { MemoryMetricsSink } from '../testing/memory-metrics.js';
import { outcome, turns } from '../../test/support/ipc.js';
import { KEY, code, useEncryptedHarness } from '../../test/support/ipc-encrypted.js';
import * as peer from '../../test/support/ipc-peer.js';
import { EncryptedIpcConnection, keyMaterialOf } from './encrypted.js';

const { plainPair, encPair, againstDocPeer, cleanup, socketDir } = useEncryptedHarness();

describe('EncryptedIpcConnection', () => {
  it('carries JSON and bytes both ways over a real socket (§2.5.6)', async () => {
    const { dialer, acceptor } = await encPair();
    for (let i = 0; i < 5; i++) {
      await dialer.send({ i, text: 'to acceptor' });
      await acceptor.send({ i, text: 'to dialer' });
    }
    for (let i = 0; i < 5; i++) {
      expect(await acceptor.recv()).toEqual({ i, text: 'to acceptor' });
      expect(await dialer.recv()).toEqual({ i, text: 'to dialer' });
    }
    await dialer.sendBytes(new Uint8Array([9, 8, 7]));
    expect([...(await acceptor.recvBytes())]).toEqual([9, 8, 7]);
  });

  it('matches docs/ipc.md byte for byte: an independent peer interoperates (§2.5.7)', async () => {
    const { dialer, raw, d2a, a2d } = await againstDocPeer();
    await dialer.send({ n: 0 });
    await dialer.send({ n: 1 });
    for (const n of [0, 1]) {
      const frame = await raw.recvBytes();
      expect(frame.length).toBe(10 + `{"n":${n}}`.length + 16);
      expect(frame[0]).toBe(1);
      expect(frame[1]).toBe(peer.TYPE.data);
      expect(frame.readBigUInt64BE(2)).toBe(BigInt(n));
      const opened = peer.openRecord(d2a, 'dialer', frame);
      expect(JSON.parse(opened.plaintext.toString())).toEqual({ n });
    }
    await raw.sendBytes(peer.record(a2d, 'acceptor', peer.TYPE.data, 0, Buffer.from('"hi"')));
    expect(await dialer.recv()).toBe('hi');
  });

  it('the reference flaws are absent: directions use different keys and nonces (§2.5.15)', async () => {
    const { dialer, raw, d2a, a2d } = await againstDocPeer();
    expect(d2a.equals(a2d)).toBe(false);
    expect(peer.nonce('dialer', 0).equals(peer.nonce('acceptor', 0))).toBe(false);
    // The same plaintext sent first in each direction gives unrelated ciphertexts.
    await dialer.send('same');
    const fromDialer = await raw.recvBytes();
    const fromAcceptor = peer.record(a2d, 'acceptor', peer.TYPE.data, 0, Buffer.from('"same"'));
    expect(fromDialer.subarray(10).equals(fromAcceptor.subarray(10))).toBe(false);
    await raw.sendBytes(fromAcceptor);
    expect(await dialer.recv()).toBe('same');
  });

  it('two connections with the same key use fresh keys (salts are per connection)', async () => {
    const a = await againstDocPeer();
    await a.dialer.send(1);
    const first = await a.raw.recvBytes();
    const b = await againstDocPeer();
    expect(a.d2a.equals(b.d2a)).toBe(false);
    await b.dialer.send(1);
    expect((await b.raw.recvBytes()).equals(first)).toBe(false);
  });

  it('rejects a replayed frame and closes the channel (§2.5.14)', async () => {
    const { dialer, raw, a2d } = await againstDocPeer();
    const frame = peer.record(a2d, 'acceptor', peer.TYPE.data, 0, Buffer.from('1'));
    await raw.sendBytes(frame);
    await raw.sendBytes(frame);
    expect(await dialer.recv()).toBe(1);
    const error = await outcome(dialer.recv());
    expect(code(error)).toBe('ERR_IPC_UNEXPECTED_COUNTER');
    expect((error as { details: unknown }).details).toEqual({ expected: 1, got: 0 });
    expect(code(await outcome(dialer.send(1)))).toBe('ERR_IPC_UNEXPECTED_COUNTER');
    expect(code(await outcome(raw.recvBytes()))).toBe('ERR_IPC_CONNECTION_CLOSED');
  });

  it('rejects reordered and dropped frames', async () => {
    for (const counters of [
      [1, 0],
      [0, 2],
    ]) {
      const { dialer, raw, a2d } = await againstDocPeer();
      for (const c of counters) {
        await raw.sendBytes(
          peer.record(a2d, 'acceptor', peer.TYPE.data, c, Buffer.from(String(c))),
        );
      }
      const results = [await outcome(dialer.recv()), await outcome(dialer.recv())];
      expect(results.some((r) => code(r) === 'ERR_IPC_UNEXPECTED_COUNTER')).toBe(true);
    }
  });

  it('tampered ciphertext, tag, counter or type: typed error, no plaintext (§2.5.10)', async () => {
    const mutations: [string, (f: Buffer) => void, string][] = [
      ['ciphertext', (f) => (f[12]! ^= 1), 'ERR_IPC_AUTH_FAILED'],
      ['tag', (f) => (f[f.length - 1]! ^= 0x80), 'ERR_IPC_AUTH_FAILED'],
      ['type', (f) => (f[1] = peer.TYPE.rekey), 'ERR_IPC_AUTH_FAILED'],
      ['counter', (f) => (f[9] = 1), 'ERR_IPC_UNEXPECTED_COUNTER'],
      ['version', (f) => (f[0] = 2), 'ERR_IPC_BAD_FRAME'],
      ['unknown type', (f) => (f[1] = 9), 'ERR_IPC_BAD_FRAME'],
      ['truncated to 25 bytes', () => undefined, 'ERR_IPC_BAD_FRAME'],
    ];
    for (const [name, mutate, expected] of mutations) {
      const metrics = new MemoryMetricsSink();
      const { dialer, raw, a2d } = await againstDocPeer({ metrics });
      let frame = peer.record(a2d, 'acceptor', peer.TYPE.data, 0, Buffer.from('"secret"'));
      if (name.startsWith('truncated')) frame = frame.subarray(0, 25);
      else mutate(frame);
      await raw.sendBytes(frame);
      const result = await outcome(dialer.recv());
      expect(code(result), name).toBe(expected);
      expect(
        metrics.counter('majra_ipc_errors_total', { kind: expected.slice(8).toLowerCase() }),
      ).toBe(1);
    }
  });

  it('a 26-byte record (empty plaintext) is valid bytes but not JSON (§2.5.11)', async () => {
    const { dialer, raw, a2d } = await againstDocPeer();
    await raw.sendBytes(peer.record(a2d, 'acceptor', peer.TYPE.data, 0, Buffer.alloc(0)));
    await raw.sendBytes(peer.record(a2d, 'acceptor', peer.TYPE.data, 1, Buffer.alloc(0)));
    expect((await dialer.recvBytes()).length).toBe(0);
    expect(code(await outcome(dialer.recv()))).toBe('ERR_CODEC_MALFORMED');
    await raw.sendBytes(peer.record(a2d, 'acceptor', peer.TYPE.data, 2, Buffer.from('3')));
    expect(await dialer.recv()).toBe(3);
  });

  it('a second hello after the handshake is a bad frame', async () => {
    const { dialer, raw } = await againstDocPeer();
    await raw.sendBytes(peer.hello(KEY, 'acceptor', peer.salt()));
    expect(code(await outcome(dialer.recv()))).toBe('ERR_IPC_BAD_FRAME');
  });

  it('wrong key: both ends fail the handshake with a typed error (§2.5.9)', async () => {
    const { client, peer: accepted } = await plainPair();
    const other = Buffer.alloc(32, 0x2b);
    const [a, b] = await Promise.all([
      outcome(EncryptedIpcConnection.establish(client, KEY, 'dialer')),
      outcome(EncryptedIpcConnection.establish(accepted, other, 'acceptor')),
    ]);
    expect(code(a)).toBe('ERR_IPC_HANDSHAKE_FAILED');
    expect(code(b)).toBe('ERR_IPC_HANDSHAKE_FAILED');
    expect((a as Error).message).toMatch(/different key/);
  });

  it('two dialers (a reflected hello) fail the handshake', async () => {
    const { client, peer: accepted } = await plainPair();
    const [a, b] = await Promise.all([
      outcome(EncryptedIpcConnection.establish(client, KEY, 'dialer')),
      outcome(EncryptedIpcConnection.establish(accepted, KEY, 'dialer')),
    ]);
    expect(code(a)).toBe('ERR_IPC_HANDSHAKE_FAILED');
    expect(code(b)).toBe('ERR_IPC_HANDSHAKE_FAILED');
  });

  it('a peer that stops mid-handshake: timeout or truncated hello fails it, inner closed', async () => {
    const clock = new ManualClock();
    const silent = await plainPair();
    const pending = outcome(
      EncryptedIpcConnection.establish(silent.client, KEY, 'dialer', {
        clock,
        handshakeTimeoutMs: 500,
      }),
    );
    await silent.peer.recvBytes(); // the dialer's hello arrived; the peer never answers
    await clock.advanceAsync(500);
    const error = await pending;
    expect(code(error)).toBe('ERR_IPC_HANDSHAKE_FAILED');
    expect(code((error as Error).cause)).toBe('ERR_TIMEOUT');
    expect(code(await outcome(silent.peer.recv()))).toBe('ERR_IPC_CONNECTION_CLOSED');

    const quitter = await plainPair();
    const second = outcome(EncryptedIpcConnection.establish(quitter.client, KEY, 'dialer'));
    await quitter.peer.recvBytes();
    await quitter.peer.sendBytes(peer.hello(KEY, 'acceptor', peer.salt()).subarray(0, 30));
    expect(code(await second)).toBe('ERR_IPC_HANDSHAKE_FAILED');

    const leaver = await plainPair();
    const third = outcome(EncryptedIpcConnection.establish(leaver.client, KEY, 'dialer'));
    await leaver.peer.close();
    const e3 = await third;
    expect(code(e3)).toBe('ERR_IPC_HANDSHAKE_FAILED');
  });

  it('aborting the handshake rejects with ERR_ABORTED', async () => {
    const { client } = await plainPair();
    const controller = new AbortController();
    const pending = outcome(
      EncryptedIpcConnection.establish(client, KEY, 'dialer', { signal: controller.signal }),
    );
    await turns(2);
    controller.abort();
    expect(code(await pending)).toBe('ERR_ABORTED');
  });

  it('keys of the wrong length or type are refused (§2.5.18)', async () => {
    const { client } = await plainPair();
    for (const bad of [
      Buffer.alloc(31),
      Buffer.alloc(33),
      'k'.repeat(32),
      null,
      new Uint16Array(16),
    ]) {
      expect(
        code(await outcome(EncryptedIpcConnection.establish(client, bad as Uint8Array, 'dialer'))),
      ).toBe('ERR_IPC_INVALID_KEY');
    }
    expect(
      code(await outcome(EncryptedIpcConnection.connect(socketDir().path(), Buffer.alloc(16)))),
    ).toBe('ERR_IPC_INVALID_KEY');
  });

  it('refuses an oversize plaintext without consuming a counter (§2.5.19)', async () => {
    const { client, peer: accepted } = await plainPair({
      server: { maxFrameBytes: 1024 },
      client: { maxFrameBytes: 1024 },
    });
    const [dialer, acceptor] = await Promise.all([
      EncryptedIpcConnection.establish(client, KEY, 'dialer'),
      EncryptedIpcConnection.establish(accepted, KEY, 'acceptor'),
    ]);
    cleanup.push(
      () => dialer.close(),
      () => acceptor.close(),
    );
    expect(dialer.maxPlaintextBytes).toBe(1024 - 26);
    expect(code(await outcome(dialer.sendBytes(new Uint8Array(999))))).toBe(
      'ERR_IPC_FRAME_TOO_LARGE',
    );
    expect(dialer.messagesSent).toBe(0);
    await dialer.sendBytes(new Uint8Array(998));
    expect((await acceptor.recvBytes()).length).toBe(998);
  });

  it('concurrent sends take distinct counters and arrive in order (§2.5.20)', async () => {
    const { dialer, acceptor } = await encPair();
    await Promise.all(Array.from({ length: 200 }, (_, i) => dialer.send(i)));
    expect(dialer.messagesSent).toBe(200);
    for (let i = 0; i < 200; i++) expect(await acceptor.recv()).toBe(i);
  });

  it('one failing encrypted connection does not disturb another on the same server', async () => {
    const { server, client, peer: accepted } = await plainPair();
    const [goodDialer, goodAcceptor] = await Promise.all([
      EncryptedIpcConnection.establish(client, KEY, 'dialer'),
      EncryptedIpcConnection.establish(accepted, KEY, 'acceptor'),
    ]);
    cleanup.push(
      () => goodDialer.close(),
      () => goodAcceptor.close(),
    );
    const { IpcConnection } = await import('./connection.js');
    const bad = await IpcConnection.connect(server.path);
    cleanup.push(() => bad.destroy());
    const badAccepted = await server.accept();
    const badHandshake = outcome(EncryptedIpcConnection.accept(badAccepted, KEY));
    await bad.sendBytes(randomBytes(67));
    expect(code(await badHandshake)).toBe('ERR_IPC_HANDSHAKE_FAILED');
    await goodDialer.send('still fine');
    expect(await goodAcceptor.recv()).toBe('still fine');
  });

  it('zeroes key material on close; later calls reject', async () => {
    const { dialer, acceptor } = await encPair();
    const material = keyMaterialOf(dialer);
    expect(material.length).toBe(3);
    expect(material.every((b) => b.length === 32 && b.some((x) => x !== 0))).toBe(true);
    await dialer.close();
    expect(material.every((b) => b.every((x) => x === 0))).toBe(true);
    expect(code(await outcome(dialer.send(1)))).toBe('ERR_CLOSED');
    expect(code(await outcome(dialer.recv()))).toBe('ERR_CLOSED');
    expect(code(await outcome(acceptor.recv()))).toBe('ERR_IPC_CONNECTION_CLOSED');
    const seen: unknown[] = [];
    for await (const m of acceptor) seen.push(m);
    expect(seen).toEqual([]);
    // The caller's key is theirs: not modified.
    expect(KEY.every((x) => x === 0x2a)).toBe(true);
  });

  it('connect() dials and handshakes; random keys work', async () => {
    const key = randomBytes(32);
    const { server } = await plainPair();
    const [dialer, acceptor] = await Promise.all([
      EncryptedIpcConnection.connect(server.path, key),
      server.accept().then((c) => EncryptedIpcConnection.accept(c, key)),
    ]);
    cleanup.push(
      () => dialer.close(),
      () => acceptor.close(),
    );
    await dialer.send('x');
    expect(await acceptor.recv()).toBe('x');
    expect(dialer.role).toBe('dialer');
    expect(acceptor.role).toBe('acceptor');
  });
});
