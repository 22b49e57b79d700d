import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../core/codec.js';
import { ManualClock } from '../testing/manual-clock.js';
import { ConnectionPool } from '../transport/connection-pool.js';
import { MemoryTransport } from '../transport/memory.js';
import { relayMessageFromJson, relayMessageToJson, type RelayMessage } from './message.js';
import { PeerRouter } from './peer-router.js';
import { Relay } from './relay.js';

async function cluster(ids: string[], net = new MemoryTransport()) {
  const errors: Error[] = [];
  const relays = new Map<string, Relay>();
  const pools: ConnectionPool[] = [];
  for (const id of ids) {
    const pool = new ConnectionPool(net, { breaker: { failureThreshold: 2, cooldownMs: 1000 } });
    pools.push(pool);
    const peers = Object.fromEntries(ids.filter((p) => p !== id).map((p) => [p, `mem:${p}`]));
    const relay = new Relay(id, {
      router: new PeerRouter(pool, { peers, onError: (e) => errors.push(e) }),
      onError: (e) => errors.push(e),
    });
    await relay.listen(net, `mem:${id}`);
    relays.set(id, relay);
  }
  const close = async () => {
    for (const r of relays.values()) await r.close();
    for (const p of pools) await p.close();
  };
  return { net, relays, pools, errors, close };
}

describe('Relay over a Transport (MemoryTransport + PeerRouter)', () => {
  it('requests, replies and broadcasts flow between three nodes', async () => {
    const { relays, close } = await cluster(['a', 'b', 'c']);
    const a = relays.get('a')!;
    for (const id of ['b', 'c']) relays.get(id)!.handle('whoami', () => id);
    expect((await a.request('b', 'whoami', null, { timeoutMs: 5000 })).payload).toBe('b');
    expect((await a.request('c', 'whoami', null, { timeoutMs: 5000 })).payload).toBe('c');
    const subB = relays.get('b')!.subscribe();
    const subC = relays.get('c')!.subscribe();
    await a.broadcast('news', { n: 1 });
    const [gotB, gotC] = await Promise.all([subB.recv(), subC.recv()]);
    expect(gotB.isBroadcast && gotC.isBroadcast).toBe(true);
    expect(gotB.message.payload).toEqual({ n: 1 });
    await close();
  });

  it('a broadcast with a dead peer still reaches the others and reports the failure', async () => {
    const { relays, errors, close } = await cluster(['a', 'b', 'c']);
    await relays.get('c')!.close();
    const sub = relays.get('b')!.subscribe();
    await relays.get('a')!.broadcast('news', 1);
    expect((await sub.recv()).message.payload).toBe(1);
    expect(
      errors.some((e) => (e as { code?: string }).code === 'ERR_TRANSPORT_UNKNOWN_ENDPOINT'),
    ).toBe(true);
    await expect(relays.get('a')!.send('zed', 't', 1)).rejects.toMatchObject({
      code: 'ERR_RELAY_NO_ROUTE',
    });
    await close();
  });

  it('garbage on a link is counted and reported; the link keeps working', async () => {
    const { net, relays, errors, close } = await cluster(['a']);
    const conn = await net.connect('mem:a');
    const sub = relays.get('a')!.subscribe();
    const good = (seq: number): JsonValue =>
      relayMessageToJson({
        seq,
        epoch: 1,
        from: 'x',
        to: 'a',
        type: 't',
        payload: seq,
        timestamp: 0,
        isReply: false,
      });
    await conn.send({ garbage: true });
    await conn.send({ ...(good(1) as object), seq: -4 });
    await conn.send({ ...(good(1) as object), from: '' });
    await conn.send('not even an object');
    await conn.send(good(1));
    expect((await sub.recv()).message.payload).toBe(1);
    expect(relays.get('a')!.stats().invalidMessages).toBe(4);
    expect(
      errors.filter((e) => (e as { code?: string }).code === 'ERR_RELAY_INVALID_MESSAGE'),
    ).toHaveLength(4);
    await conn.close();
    await close();
  });
});

describe('relay wire codec', () => {
  const base: RelayMessage = {
    seq: 1,
    epoch: 5,
    from: 'node-1',
    to: 'node-2',
    type: 'rpc/ping',
    payload: null,
    timestamp: Date.UTC(2026, 0, 1),
    isReply: false,
  };

  it('round-trips, with the reference field names', () => {
    const wire = relayMessageToJson({ ...base, correlationId: 'abc' });
    expect(wire).toEqual({
      seq: 1,
      epoch: 5,
      from: 'node-1',
      to: 'node-2',
      topic: 'rpc/ping',
      payload: null,
      timestamp: '2026-01-01T00:00:00.000Z',
      correlation_id: 'abc',
      is_reply: false,
    });
    expect(relayMessageFromJson(JSON.parse(JSON.stringify(wire)))).toEqual({
      ...base,
      correlationId: 'abc',
    });
  });

  it('accepts the Rust reference shape (no epoch, no is_reply, nanosecond timestamp)', () => {
    const rust = {
      seq: 3,
      from: 'n1',
      to: '',
      topic: 't',
      payload: { a: 1 },
      timestamp: '2026-01-01T00:00:00.123456789+00:00',
    };
    expect(relayMessageFromJson(rust)).toMatchObject({ seq: 3, epoch: 0, isReply: false, to: '' });
  });

  it('rejects bad messages with ERR_RELAY_INVALID_MESSAGE', () => {
    const wire = relayMessageToJson(base) as Record<string, unknown>;
    for (const bad of [
      null,
      [],
      { ...wire, seq: 0 },
      { ...wire, seq: 2 ** 53 },
      { ...wire, seq: '1' },
      { ...wire, epoch: -1 },
      { ...wire, from: undefined },
      { ...wire, to: 5 },
      { ...wire, topic: '' },
      { ...wire, timestamp: 'yesterday' },
      { ...wire, timestamp: '2026-13-45T99:00:00Z' },
      { ...wire, is_reply: 'yes' },
      { ...wire, correlation_id: 7 },
      { ...wire, error: 'x' },
      Object.fromEntries(Object.entries(wire).filter(([k]) => k !== 'payload')),
    ]) {
      expect(() => relayMessageFromJson(bad)).toThrow(
        expect.objectContaining({ code: 'ERR_RELAY_INVALID_MESSAGE' }),
      );
    }
  });
});

describe('ManualClock request timeout over a transport', () => {
  it('a request to a node that never answers times out and leaves nothing behind', async () => {
    const clock = new ManualClock();
    const net = new MemoryTransport();
    await net.listen('mem:silent', () => undefined);
    const pool = new ConnectionPool(net, { clock });
    const relay = new Relay('a', {
      clock,
      router: new PeerRouter(pool, { peers: { s: 'mem:silent' } }),
    });
    const response = relay.request('s', 'q', null, { timeoutMs: 50 });
    await new Promise((r) => setImmediate(r));
    clock.advance(50);
    await expect(response).rejects.toMatchObject({ code: 'ERR_RELAY_REQUEST_TIMEOUT' });
    expect(relay.pendingRequests).toBe(0);
    await relay.close();
    await pool.close();
  });
});
