import { describe, expect, it } from 'vitest';
import { MemoryMetricsSink } from '../testing/memory-metrics.js';
import { outcome, turns } from '../../test/support/ipc.js';
import { KEY, code, useEncryptedHarness } from '../../test/support/ipc-encrypted.js';
import * as peer from '../../test/support/ipc-peer.js';
import { EncryptedIpcConnection, type NonceWarning } from './encrypted.js';

const { plainPair, encPair, againstDocPeer } = useEncryptedHarness();

describe('EncryptedIpcConnection: nonce limits and rekey', () => {
  it('warns once at the threshold, refuses at the limit, rekey restores (§2.5.16, limits injected)', async () => {
    const limits = { warnAfterMessages: 3, maxMessagesPerKey: 5 };
    const metrics = new MemoryMetricsSink();
    const { dialer, acceptor } = await encPair({ limits, metrics });
    const warnings: NonceWarning[] = [];
    dialer.on('warning', (w) => warnings.push(w));
    await dialer.send(0);
    await dialer.send(1);
    expect(dialer.needsRekey).toBe(false);
    await dialer.send(2);
    expect(dialer.needsRekey).toBe(true);
    await dialer.send(3);
    await dialer.send(4);
    await turns(1);
    expect(warnings).toEqual([
      { messagesSent: 3, warnAfterMessages: 3, maxMessagesPerKey: 5, epoch: 0 },
    ]);
    const refused = await outcome(dialer.send(5));
    expect(code(refused)).toBe('ERR_IPC_NONCE_EXHAUSTED');
    expect(dialer.messagesSent).toBe(5);
    expect(code(await outcome(dialer.send(5)))).toBe('ERR_IPC_NONCE_EXHAUSTED');
    // The acceptor reads (and so answers the rekey) while the dialer rekeys.
    const received = (async () => {
      const got: unknown[] = [];
      for (let i = 0; i < 7; i++) got.push(await acceptor.recv());
      return got;
    })();
    await dialer.rekey();
    expect(dialer.epoch).toBe(1);
    expect(dialer.messagesSent).toBe(0);
    expect(dialer.needsRekey).toBe(false);
    await dialer.send(5);
    await dialer.send(6);
    expect(await received).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(acceptor.epoch).toBe(1);
    expect(metrics.counter('majra_ipc_nonce_warnings_total')).toBe(1);
    expect(metrics.counter('majra_ipc_errors_total', { kind: 'nonce_exhausted' })).toBe(2);
  });

  it('the default limits are 2^31 (warn) and 2^32 (refuse)', async () => {
    const { dialer } = await encPair();
    expect(dialer.needsRekey).toBe(false);
    const { NONCE_HARD_LIMIT, NONCE_WARN_THRESHOLD } = await import('./encrypted.js');
    expect([NONCE_WARN_THRESHOLD, NONCE_HARD_LIMIT]).toEqual([2 ** 31, 2 ** 32]);
    const { client } = await plainPair();
    for (const limits of [
      { maxMessagesPerKey: 2 ** 32 + 1 },
      { maxMessagesPerKey: 0 },
      { warnAfterMessages: 6, maxMessagesPerKey: 5 },
    ]) {
      expect(
        code(await outcome(EncryptedIpcConnection.establish(client, KEY, 'dialer', { limits }))),
      ).toBe('ERR_INVALID_ARGUMENT');
    }
  });

  it('the receiver enforces the per-key limit too', async () => {
    const { dialer, acceptor } = await encPair({}, { limits: { maxMessagesPerKey: 2 } });
    for (let i = 0; i < 3; i++) await dialer.send(i);
    expect(await acceptor.recv()).toBe(0);
    expect(await acceptor.recv()).toBe(1);
    expect(code(await outcome(acceptor.recv()))).toBe('ERR_IPC_NONCE_EXHAUSTED');
  });

  it('rekey: both directions switch, in-flight and queued sends survive, order kept', async () => {
    const metrics = new MemoryMetricsSink();
    const { dialer, acceptor } = await encPair({ metrics });
    const toAcceptor = (async () => {
      const got: number[] = [];
      for (let i = 0; i < 300; i++) got.push(await acceptor.recv<number>());
      return got;
    })();
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 100; i++) sends.push(dialer.send(i));
    const rekeyed = dialer.rekey();
    for (let i = 100; i < 200; i++) sends.push(dialer.send(i)); // wait for the ack, then go
    await rekeyed;
    for (let i = 200; i < 300; i++) sends.push(dialer.send(i));
    await Promise.all(sends);
    expect(await toAcceptor).toEqual(Array.from({ length: 300 }, (_, i) => i));
    // And the reverse direction uses the new acceptor key.
    await acceptor.send('back');
    expect(await dialer.recv()).toBe('back');
    expect(dialer.epoch).toBe(1);
    expect(acceptor.epoch).toBe(1);
    expect(metrics.counter('majra_ipc_rekeys_total')).toBe(2);
  });

  it('rekey: the dialer finds the ack by reading ahead, keeping data for recv', async () => {
    const { dialer, acceptor } = await encPair();
    await acceptor.send('early-1');
    await acceptor.send('early-2');
    const acceptorReads = outcome(acceptor.recv());
    await dialer.rekey();
    await dialer.send('after');
    expect(await acceptorReads).toBe('after');
    expect(await dialer.recv()).toBe('early-1');
    expect(await dialer.recv()).toBe('early-2');
  });

  it('rekey: simultaneous requests from both sides converge on one new epoch', async () => {
    const { dialer, acceptor } = await encPair();
    await Promise.all([dialer.rekey(), acceptor.rekey()]);
    expect(dialer.epoch).toBe(1);
    expect(acceptor.epoch).toBe(1);
    await dialer.send('d');
    await acceptor.send('a');
    expect(await acceptor.recv()).toBe('d');
    expect(await dialer.recv()).toBe('a');
    const reading = outcome(acceptor.recv());
    // Two calls join the same rekey.
    await Promise.all([dialer.rekey(), dialer.rekey()]);
    await dialer.send('e2');
    expect(await reading).toBe('e2');
    expect(dialer.epoch).toBe(2);
  });

  it('rekey: an ack nobody asked for is a protocol error', async () => {
    const { dialer, raw, a2d } = await againstDocPeer();
    await raw.sendBytes(peer.record(a2d, 'acceptor', peer.TYPE.rekeyAck, 0, peer.salt()));
    expect(code(await outcome(dialer.recv()))).toBe('ERR_IPC_REKEY_FAILED');
  });

  it('rekey: the documented key schedule for epoch 1 matches', async () => {
    const { dialer, raw, d2a, a2d } = await againstDocPeer();
    const rekeyed = dialer.rekey();
    const request = peer.openRecord(d2a, 'dialer', await raw.recvBytes());
    expect(request.type).toBe(peer.TYPE.rekey);
    expect(request.plaintext.length).toBe(32);
    const acceptorSalt = peer.salt();
    await raw.sendBytes(peer.record(a2d, 'acceptor', peer.TYPE.rekeyAck, 0, acceptorSalt));
    await rekeyed;
    const d2a1 = peer.directionKey(KEY, request.plaintext, acceptorSalt, 'dialer', 1);
    const a2d1 = peer.directionKey(KEY, request.plaintext, acceptorSalt, 'acceptor', 1);
    await dialer.send('epoch1');
    const frame = await raw.recvBytes();
    expect(frame.readBigUInt64BE(2)).toBe(0n);
    expect(peer.openRecord(d2a1, 'dialer', frame).plaintext.toString()).toBe('"epoch1"');
    await raw.sendBytes(peer.record(a2d1, 'acceptor', peer.TYPE.data, 0, Buffer.from('"ok"')));
    expect(await dialer.recv()).toBe('ok');
  });

  it('rekey read-ahead is bounded: the initiator stops reading until the app drains', async () => {
    const { dialer, acceptor } = await encPair({ maxReadAheadBytes: 100 });
    for (let i = 0; i < 20; i++) await acceptor.send('x'.repeat(48));
    const reading = (async () => {
      // The acceptor reads so it can answer the rekey request.
      await acceptor.recv();
    })();
    let done = false;
    const rekeyed = dialer.rekey().then(() => {
      done = true;
    });
    // Wait until the frames reached the dialer's socket queue; a bounded read-ahead pulls
    // in only ~3 of them (100 bytes), so at least 15 stay queued and the ack stays unseen.
    for (let i = 0; i < 2000 && dialer.inner.queuedFrames < 15; i++) await turns(1);
    await turns(10);
    expect(dialer.inner.queuedFrames).toBeGreaterThanOrEqual(15);
    expect(done).toBe(false);
    for (let i = 0; i < 20; i++) expect(await dialer.recv()).toBe('x'.repeat(48));
    await rekeyed;
    expect(dialer.epoch).toBe(1);
    await dialer.send('after');
    await reading;
  });

  it('rekey waits can be aborted; a failed channel rejects the rekey', async () => {
    const { dialer, acceptor } = await encPair();
    const controller = new AbortController();
    const pending = outcome(dialer.rekey({ signal: controller.signal }));
    controller.abort();
    expect(code(await pending)).toBe('ERR_ABORTED');
    const again = outcome(dialer.rekey());
    await acceptor.close();
    expect(code(await again)).toBe('ERR_IPC_CONNECTION_CLOSED');
  });
});
