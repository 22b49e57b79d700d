import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../core/codec.js';
import { isMajraError } from '../core/errors.js';
import { ManualClock } from '../testing/manual-clock.js';
import { MemoryMetricsSink } from '../testing/memory-metrics.js';
import type { RelayMessage } from './message.js';
import { Relay } from './relay.js';
import type { RelayRouter } from './relay-types.js';

/** Captures outbound messages. */
function capture(): RelayRouter & { out: RelayMessage[] } {
  const out: RelayMessage[] = [];
  return { out, deliver: (m) => (out.push(m), Promise.resolve()) };
}

/** Routes directly between relays in this process (no transport). */
function directRouter(nodes: Map<string, Relay>): RelayRouter {
  return {
    deliver: (m) => {
      for (const [id, relay] of nodes) {
        if (id !== m.from && (m.to === '' || m.to === id)) relay.receive(m);
      }
      return Promise.resolve();
    },
  };
}

function msg(from: string, seq: number, extra: Partial<RelayMessage> = {}): RelayMessage {
  return {
    seq,
    epoch: 1,
    from,
    to: 'me',
    type: 't',
    payload: null,
    timestamp: 0,
    isReply: false,
    ...extra,
  };
}

describe('Relay: sequencing and filtering', () => {
  it('one seq counter shared by send, broadcast, request and reply, from 1', async () => {
    const router = capture();
    const relay = new Relay('me', { router, clock: new ManualClock() });
    expect(await relay.send('b', 't', 1)).toBe(1);
    expect(await relay.broadcast('t', 2)).toBe(2);
    void relay.request('b', 't', 3).catch(() => undefined);
    await Promise.resolve();
    expect(await relay.reply(msg('b', 9, { correlationId: 'c1' }), 4)).toBe(4);
    expect(router.out.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    expect(router.out[1]!.to).toBe('');
    expect(router.out[2]!.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(router.out[3]).toMatchObject({ isReply: true, to: 'b', correlationId: 'c1' });
    expect(relay.stats().messagesSent).toBe(4);
    await relay.close();
  });

  it('ignores its own and misaddressed messages without creating state', () => {
    const relay = new Relay('me');
    expect(relay.receive(msg('me', 1))).toBeUndefined();
    expect(relay.receive(msg('b', 1, { to: 'other' }))).toBeUndefined();
    expect(relay.stats()).toMatchObject({
      messagesReceived: 0,
      duplicatesDropped: 0,
      dedupTableSize: 0,
    });
  });

  it('accepts broadcasts and marks them', () => {
    const relay = new Relay('me');
    expect(relay.receive(msg('b', 1, { to: '' }))?.isBroadcast).toBe(true);
    expect(relay.receive(msg('b', 2))?.isBroadcast).toBe(false);
  });

  it('drops exact duplicates, accepts gaps and reordered messages inside the window once', () => {
    const relay = new Relay('me');
    const accepted = (seq: number): boolean => relay.receive(msg('b', seq)) !== undefined;
    expect([5, 5, 7, 6, 6, 3, 3, 100, 69, 68, 50].map(accepted)).toEqual([
      true,
      false,
      true,
      true,
      false,
      true,
      false,
      true,
      true,
      false,
      false,
    ]);
    // 69 is 31 below 100 (inside the 32-wide window); 68 and 50 are older.
    expect(relay.stats()).toMatchObject({ messagesReceived: 6, duplicatesDropped: 5 });
  });

  it('a duplicated and shuffled stream is delivered exactly once per message', () => {
    const relay = new Relay('me');
    const sub = relay.subscribe({ capacity: 1000 });
    const stream: number[] = [];
    for (let base = 1; base <= 200; base += 10) {
      const chunk = Array.from({ length: 10 }, (_, i) => base + i);
      // Reverse each chunk and send every message twice.
      for (const s of chunk.reverse()) stream.push(s, s);
    }
    for (const s of stream) relay.receive(msg('b', s, { payload: s }));
    const got: number[] = [];
    for (let m = sub.tryRecv(); m !== undefined; m = sub.tryRecv())
      got.push(m.message.payload as number);
    expect(got.length).toBe(200);
    expect(new Set(got).size).toBe(200);
    expect(relay.stats().duplicatesDropped).toBe(200);
  });

  it('interleaved senders are independent (4 senders x 10, replayed)', () => {
    const relay = new Relay('me');
    for (let round = 0; round < 2; round++) {
      for (let seq = 1; seq <= 10; seq++) {
        for (const s of ['n1', 'n2', 'n3', 'n4']) relay.receive(msg(s, seq));
      }
    }
    expect(relay.stats()).toMatchObject({
      messagesReceived: 40,
      duplicatesDropped: 40,
      dedupTableSize: 4,
    });
  });

  it('a restarted sender (new epoch, seq back to 1) is accepted; the old epoch is then stale', () => {
    const relay = new Relay('me');
    for (let s = 1; s <= 50; s++) relay.receive(msg('b', s, { epoch: 1000 }));
    expect(relay.receive(msg('b', 1, { epoch: 2000 }))).toBeDefined();
    expect(relay.receive(msg('b', 2, { epoch: 2000 }))).toBeDefined();
    expect(relay.receive(msg('b', 2, { epoch: 2000 }))).toBeUndefined();
    expect(relay.receive(msg('b', 51, { epoch: 1000 }))).toBeUndefined();
    expect(relay.stats().epochResets).toBe(1);
  });

  it('two relays with the same node id get increasing epochs (restart in one process)', async () => {
    const clock = new ManualClock();
    const receiver = new Relay('r', { clock });
    const nodes = new Map<string, Relay>([['r', receiver]]);
    const first = new Relay('s', { clock, router: directRouter(nodes) });
    await first.send('r', 't', 'a');
    await first.send('r', 't', 'b');
    await first.close();
    const second = new Relay('s', { clock, router: directRouter(nodes) });
    expect(second.epoch).toBeGreaterThan(first.epoch);
    const sub = receiver.subscribe();
    await second.send('r', 't', 'after restart');
    expect(sub.tryRecv()?.message.payload).toBe('after restart');
  });

  it('seq 0, negative or non-integer is never accepted and creates no state', () => {
    const relay = new Relay('me', { maxDedupEntries: 2 });
    for (let i = 0; i < 1000; i++) {
      for (const seq of [0, -1, 1.5, Number.NaN, 2 ** 60]) relay.receive(msg(`spoof-${i}`, seq));
      relay.receive(msg(`spoof-${i}`, 1, { epoch: -1 }));
    }
    expect(relay.dedupTableSize).toBe(0);
    expect(relay.stats()).toMatchObject({ messagesReceived: 0, invalidMessages: 6000 });
  });

  it('dedup table stays bounded under 1,000,000 distinct senders', () => {
    const relay = new Relay('me', { maxDedupEntries: 1000 });
    for (let i = 0; i < 1_000_000; i++) relay.receive(msg(`s${i}`, 1));
    const stats = relay.stats();
    expect(stats.dedupTableSize).toBe(1000);
    expect(stats.messagesReceived).toBe(1_000_000);
    expect(stats.dedupEvicted).toBe(999_000);
  }, 180_000);

  it('the default dedup table is bounded too', () => {
    const relay = new Relay('me');
    for (let i = 0; i < 70_000; i++) relay.receive(msg(`s${i}`, 1));
    expect(relay.dedupTableSize).toBe(65_536);
  });

  it('capacity eviction removes the least recently accepted sender', () => {
    const relay = new Relay('me', { maxDedupEntries: 2 });
    relay.receive(msg('a', 1));
    relay.receive(msg('b', 1));
    relay.receive(msg('a', 2)); // a is now most recent
    relay.receive(msg('c', 1)); // evicts b
    expect(relay.receive(msg('a', 2))).toBeUndefined(); // a still tracked
    expect(relay.receive(msg('b', 1))).toBeDefined(); // b forgotten: accepted again
  });

  it('evictStaleDedup removes idle senders; a duplicate does not refresh last-seen', () => {
    const clock = new ManualClock();
    const relay = new Relay('me', { clock });
    relay.receive(msg('a', 1));
    clock.advance(500);
    relay.receive(msg('b', 1));
    relay.receive(msg('a', 1)); // duplicate
    clock.advance(600);
    expect(relay.evictStaleDedup(1000)).toBe(1);
    expect(relay.dedupTableSize).toBe(1);
    expect(relay.evictStaleDedup(0)).toBe(1);
    expect(relay.stats().dedupEvicted).toBe(2);
  });

  it('dedupTtlMs forgets silent senders lazily', () => {
    const clock = new ManualClock();
    const relay = new Relay('me', { clock, dedupTtlMs: 1000 });
    for (let i = 0; i < 10; i++) relay.receive(msg(`s${i}`, 1));
    clock.advance(1001);
    expect(relay.receive(msg('s0', 1))).toBeDefined(); // expired entry: accepted again
    for (let i = 0; i < 5; i++) relay.receive(msg(`new${i}`, 1));
    expect(relay.dedupTableSize).toBeLessThan(11);
    relay.evictStaleDedup(1000);
    expect(relay.dedupTableSize).toBe(6);
  });
});

describe('Relay: request / reply', () => {
  function pair(clock = new ManualClock()) {
    const nodes = new Map<string, Relay>();
    const a = new Relay('a', { clock, router: directRouter(nodes) });
    const b = new Relay('b', { clock, router: directRouter(nodes) });
    nodes.set('a', a).set('b', b);
    return { a, b, clock, nodes };
  }

  it('request resolves with the reply of the addressed node', async () => {
    const { a, b } = pair();
    b.handle('ping', (m) => ({ pong: m.payload }));
    const reply = await a.request('b', 'ping', 7);
    expect(reply).toMatchObject({ from: 'b', isReply: true, payload: { pong: 7 } });
    expect(a.pendingRequests).toBe(0);
  });

  it('subscribers can answer with reply()', async () => {
    const { a, b } = pair();
    const sub = b.subscribe();
    const response = a.request('b', 'q', 'hi');
    const incoming = await sub.recv();
    await b.reply(incoming.message, 'there');
    expect((await response).payload).toBe('there');
  });

  it('a reply from a different node is refused; the right one still resolves', async () => {
    const router = capture();
    const a = new Relay('a', { router, clock: new ManualClock() });
    const response = a.request('b', 'q', null);
    await Promise.resolve();
    const cid = router.out[0]!.correlationId!;
    expect(
      a.receive(msg('mallory', 1, { to: 'a', isReply: true, correlationId: cid })),
    ).toBeUndefined();
    expect(a.stats().misdirectedReplies).toBe(1);
    expect(a.pendingRequests).toBe(1);
    a.receive(msg('b', 1, { to: 'a', isReply: true, correlationId: cid, payload: 'real' }));
    expect((await response).payload).toBe('real');
  });

  it('a duplicate reply does not resolve anything twice', async () => {
    const router = capture();
    const a = new Relay('a', { router, clock: new ManualClock() });
    const response = a.request('b', 'q', null);
    await Promise.resolve();
    const reply = msg('b', 3, {
      to: 'a',
      isReply: true,
      correlationId: router.out[0]!.correlationId!,
    });
    a.receive(reply);
    await response;
    expect(a.receive(reply)).toBeUndefined();
    expect(a.stats().duplicatesDropped).toBe(1);
  });

  it('timeoutMs rejects and removes the pending entry; a late reply flows as a message', async () => {
    const router = capture();
    const clock = new ManualClock();
    const a = new Relay('a', { router, clock });
    const sub = a.subscribe();
    const response = a.request('b', 'q', null, { timeoutMs: 100 });
    await Promise.resolve();
    clock.advance(100);
    await expect(response).rejects.toMatchObject({ code: 'ERR_RELAY_REQUEST_TIMEOUT' });
    expect(a.pendingRequests).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    a.receive(
      msg('b', 1, { to: 'a', isReply: true, correlationId: router.out[0]!.correlationId! }),
    );
    expect(sub.tryRecv()?.message.isReply).toBe(true);
    expect(a.stats().requestsTimedOut).toBe(1);
  });

  it('the default request timeout applies', async () => {
    const clock = new ManualClock();
    const a = new Relay('a', { router: capture(), clock, requestTimeoutMs: 1000 });
    const response = a.request('b', 'q', null);
    clock.advance(1000);
    await expect(response).rejects.toMatchObject({ code: 'ERR_RELAY_REQUEST_TIMEOUT' });
  });

  it('abort via signal rejects and removes the entry', async () => {
    const a = new Relay('a', { router: capture(), clock: new ManualClock() });
    const controller = new AbortController();
    const response = a.request('b', 'q', null, { signal: controller.signal });
    controller.abort();
    await expect(response).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(a.pendingRequests).toBe(0);
    const pre = new AbortController();
    pre.abort();
    await expect(a.request('b', 'q', null, { signal: pre.signal })).rejects.toMatchObject({
      code: 'ERR_ABORTED',
    });
  });

  it('evictStaleRequests rejects old requests only; ignored promises do not crash', async () => {
    const clock = new ManualClock();
    const a = new Relay('a', { router: capture(), clock });
    const old = a.request('b', 'q', null);
    void a.request('b', 'ignored', null).catch(() => undefined);
    clock.advance(500);
    const fresh = a.request('b', 'q', null);
    expect(a.evictStaleRequests(400)).toBe(2);
    await expect(old).rejects.toMatchObject({ code: 'ERR_RELAY_REQUEST_EVICTED' });
    expect(a.pendingRequests).toBe(1);
    await a.close();
    await expect(fresh).rejects.toMatchObject({ code: 'ERR_CLOSED' });
  });

  it('pending requests are bounded', async () => {
    const a = new Relay('a', {
      router: capture(),
      clock: new ManualClock(),
      maxPendingRequests: 3,
    });
    const held = [1, 2, 3].map(() => a.request('b', 'q', null));
    await expect(a.request('b', 'q', null)).rejects.toMatchObject({
      code: 'ERR_RELAY_TOO_MANY_REQUESTS',
    });
    await a.close();
    await Promise.allSettled(held);
  });

  it('a throwing handler rejects the requester with ERR_RELAY_REMOTE_ERROR', async () => {
    const { a, b } = pair();
    b.handle('boom', () => {
      throw new Error('handler exploded');
    });
    const failure = a.request('b', 'boom', null);
    await expect(failure).rejects.toMatchObject({ code: 'ERR_RELAY_REMOTE_ERROR' });
    await expect(failure).rejects.toThrow('handler exploded');
  });

  it('a delivery failure rejects the request and clears the entry', async () => {
    const a = new Relay('a', {
      router: { deliver: () => Promise.reject(new Error('link down')) },
      clock: new ManualClock(),
    });
    await expect(a.request('b', 'q', null)).rejects.toThrow('link down');
    expect(a.pendingRequests).toBe(0);
    const none = new Relay('n');
    await expect(none.send('x', 't', 1)).rejects.toMatchObject({ code: 'ERR_RELAY_NO_ROUTE' });
  });

  it('non-reply messages with a correlation id and unknown replies flow to subscribers', () => {
    const relay = new Relay('me');
    const sub = relay.subscribe();
    relay.receive(msg('b', 1, { correlationId: 'x', isReply: true }));
    relay.receive(msg('b', 2, { correlationId: 'y' }));
    relay.receive(msg('b', 3));
    expect([sub.tryRecv(), sub.tryRecv(), sub.tryRecv()].map((m) => m?.message.seq)).toEqual([
      1, 2, 3,
    ]);
  });
});

describe('Relay: subscriptions, stats, metrics, lifecycle', () => {
  it('a slow subscriber lags (drop-oldest) instead of blocking', () => {
    const relay = new Relay('me');
    const sub = relay.subscribe({ capacity: 4 });
    for (let s = 1; s <= 6; s++) relay.receive(msg('b', s));
    expect(sub.lagged).toBe(2);
    expect(sub.tryRecv()?.message.seq).toBe(3);
  });

  it('async iteration ends when the relay closes', async () => {
    const relay = new Relay('me');
    const sub = relay.subscribe();
    relay.receive(msg('b', 1));
    const seen: number[] = [];
    const loop = (async () => {
      for await (const m of sub) seen.push(m.message.seq);
    })();
    await new Promise((r) => setImmediate(r));
    await relay.close();
    await loop;
    expect(seen).toEqual([1]);
    expect(() => relay.subscribe()).toThrow(/closed/);
    await expect(relay.send('x', 't', 1)).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    expect(relay.receive(msg('b', 2))).toBeUndefined();
  });

  it('reports through the metrics sink', async () => {
    const metrics = new MemoryMetricsSink();
    const relay = new Relay('me', { metrics, router: capture(), maxDedupEntries: 1 });
    await relay.send('b', 't', 1);
    relay.receive(msg('b', 1));
    relay.receive(msg('b', 1));
    relay.receive(msg('c', 1));
    expect(metrics.counter('majra_relay_messages_sent_total', { kind: 'send' })).toBe(1);
    expect(metrics.counter('majra_relay_messages_received_total')).toBe(2);
    expect(metrics.counter('majra_relay_messages_dropped_total', { reason: 'duplicate' })).toBe(1);
    expect(metrics.counter('majra_relay_dedup_evicted_total', { reason: 'capacity' })).toBe(1);
    expect(metrics.gauge('majra_relay_dedup_entries')).toBe(1);
  });

  it('validates arguments and options with typed errors, state unchanged', async () => {
    for (const make of [
      () => new Relay(''),
      () => new Relay('a', { maxDedupEntries: 0 }),
      () => new Relay('a', { dedupTtlMs: -1 }),
      () => new Relay('a', { maxPendingRequests: 1.5 }),
      () => new Relay('a', { requestTimeoutMs: 0 }),
      () => new Relay('a', { epoch: -1 }),
      () => new Relay('a', { router: {} as RelayRouter }),
    ]) {
      let caught: unknown;
      try {
        make();
      } catch (error) {
        caught = error;
      }
      expect(isMajraError(caught, 'ERR_INVALID_ARGUMENT')).toBe(true);
    }
    const relay = new Relay('a', { router: capture() });
    await expect(relay.send('', 't', 1)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(relay.send('b', '', 1)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(relay.request('a', 't', 1)).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    await expect(relay.request('b', 't', 1, { timeoutMs: -1 })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    await expect(relay.reply(msg('b', 1), 1)).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    expect(relay.stats().messagesSent).toBe(0);
    expect(() => relay.handle('t', 5 as unknown as () => JsonValue)).toThrow(/handler/);
  });
});
