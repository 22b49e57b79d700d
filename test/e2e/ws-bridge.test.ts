// WsBridge against real `ws` clients over loopback.
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Namespace } from '../../src/core/namespace.js';
import { PubSub } from '../../src/pubsub/pubsub.js';
import { ManualClock, flushMicrotasks } from '../../src/testing/manual-clock.js';
import { WsBridge, type WsBridgeOptions } from '../../src/bridges/ws/index.js';

interface Frame {
  type: string;
  [key: string]: unknown;
}

/** A client that records every frame and lets a test await the next of a type. */
class TestClient {
  readonly frames: Frame[] = [];
  readonly ws: WebSocket;
  readonly #consumed = new Set<Frame>();
  #waiters: { type: string; resolve: (f: Frame) => void }[] = [];

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on('message', (data) => {
      const frame = JSON.parse((data as Buffer).toString('utf8')) as Frame;
      this.frames.push(frame);
      this.#waiters = this.#waiters.filter((w) => {
        if (w.type !== frame.type) return true;
        w.resolve(frame);
        return false;
      });
    });
    this.ws.on('error', () => undefined);
  }

  async open(): Promise<void> {
    await once(this.ws, 'open');
  }

  next(type: string): Promise<Frame> {
    const seen = this.frames.find((f) => f.type === type && !this.#consumed.has(f));
    if (seen !== undefined) {
      this.#consumed.add(seen);
      return Promise.resolve(seen);
    }
    return new Promise((resolve) =>
      this.#waiters.push({
        type,
        resolve: (f) => {
          this.#consumed.add(f);
          resolve(f);
        },
      }),
    );
  }

  send(value: unknown): void {
    this.ws.send(typeof value === 'string' ? value : JSON.stringify(value));
  }

  async subscribe(pattern: string): Promise<void> {
    this.send({ v: 1, op: 'subscribe', pattern, id: pattern });
    const reply = await this.next('subscribed');
    expect(reply).toMatchObject({ pattern, id: pattern });
  }

  messages(): Frame[] {
    return this.frames.filter((f) => f.type === 'message');
  }

  async closed(): Promise<number> {
    if (this.ws.readyState === WebSocket.CLOSED) return -1;
    const [code] = (await once(this.ws, 'close')) as [number];
    return code;
  }
}

/** Resolves with the HTTP status when the upgrade is refused. */
async function refusedStatus(url: string): Promise<number> {
  const ws = new WebSocket(url);
  ws.on('error', () => undefined);
  const [, response] = (await once(ws, 'unexpected-response')) as [unknown, { statusCode: number }];
  ws.terminate();
  return response.statusCode;
}

async function until(predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !predicate(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(predicate()).toBe(true);
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

async function start(options: Partial<WsBridgeOptions> = {}) {
  const hub = new PubSub({ capacity: 4096 });
  const bridge = new WsBridge({ hub, ...options });
  const { port } = await bridge.listen({ port: 0 });
  const clients: TestClient[] = [];
  cleanup.push(async () => {
    for (const c of clients) c.ws.terminate();
    await bridge.close();
    await hub.close();
  });
  const connect = async (path = '/'): Promise<TestClient> => {
    const client = new TestClient(`ws://127.0.0.1:${port}${path}`);
    clients.push(client);
    await client.open();
    await client.next('hello');
    return client;
  };
  return { hub, bridge, port, connect, url: (path = '/') => `ws://127.0.0.1:${port}${path}` };
}

describe('WsBridge', () => {
  it('says hello, subscribes, delivers matching messages in order, unsubscribes', async () => {
    const { hub, connect } = await start();
    const client = await connect();
    expect(client.frames[0]).toEqual({ type: 'hello', v: 1, canPublish: false });
    await client.subscribe('jobs/+/done');
    hub.publish('jobs/1/done', { ok: true });
    hub.publish('jobs/1/started', { ok: true });
    hub.publish('jobs/2/done', { ok: false });
    await until(() => client.messages().length === 2);
    expect(client.messages().map((m) => [m['topic'], m['payload']])).toEqual([
      ['jobs/1/done', { ok: true }],
      ['jobs/2/done', { ok: false }],
    ]);
    client.send({ op: 'unsubscribe', pattern: 'jobs/+/done', id: 'u1' });
    expect(await client.next('unsubscribed')).toEqual({
      type: 'unsubscribed',
      pattern: 'jobs/+/done',
      id: 'u1',
    });
    hub.publish('jobs/3/done', {});
    client.send({ op: 'unsubscribe', pattern: 'jobs/+/done' });
    expect(await client.next('error')).toMatchObject({ code: 'ERR_WS_NOT_SUBSCRIBED' });
    expect(client.messages()).toHaveLength(2);
  });

  it('enforces maxConnections before the upgrade completes, and frees slots on disconnect', async () => {
    const { bridge, connect, url } = await start({ maxConnections: 3 });
    const clients = await Promise.all([connect(), connect(), connect()]);
    expect(await refusedStatus(url())).toBe(503);
    expect(bridge.stats().rejected).toBe(1);
    clients[0].ws.close();
    await until(() => bridge.connections === 2);
    await connect();
    expect(bridge.connections).toBe(3);
  });

  it('refuses unauthenticated clients with 401 and isolates tenants even with #', async () => {
    const { hub, connect, url } = await start({
      authenticate: (request) => {
        const tenant = new URL(request.url ?? '/', 'http://x').searchParams.get('tenant');
        return tenant === null ? false : { namespace: new Namespace(tenant) };
      },
    });
    expect(await refusedStatus(url('/'))).toBe(401);
    const a = await connect('/?tenant=acme');
    const b = await connect('/?tenant=acme-2');
    await a.subscribe('#');
    await b.subscribe('#');
    hub.publish('acme/orders/1', 'for a');
    hub.publish('acme-2/orders/1', 'for b');
    hub.publish('orders/1', 'for nobody');
    hub.publish('acme', 'bare prefix');
    await until(() => a.messages().length === 1 && b.messages().length === 1);
    hub.publish('acme/last', 'end');
    await until(() => a.messages().length === 2);
    expect(a.messages().map((m) => [m['topic'], m['payload']])).toEqual([
      ['orders/1', 'for a'],
      ['last', 'end'],
    ]);
    expect(b.messages().map((m) => m['payload'])).toEqual(['for b']);
  });

  it('answers bad frames with typed errors and keeps serving other clients', async () => {
    const { hub, connect, bridge } = await start({ maxProtocolErrors: 5 });
    const good = await connect();
    await good.subscribe('t');
    const bad = await connect();
    bad.send('{not json');
    expect(await bad.next('error')).toMatchObject({ code: 'ERR_WS_BAD_FRAME' });
    bad.send({ op: 'explode', id: 'x1' });
    expect(await bad.next('error')).toMatchObject({ code: 'ERR_WS_UNKNOWN_OP', id: 'x1' });
    bad.send({ op: 'subscribe', pattern: 'a/#/b' });
    expect((await bad.next('error'))['code']).toMatch(/^ERR_PUBSUB_/);
    bad.send({ op: 'subscribe' });
    expect(await bad.next('error')).toMatchObject({ code: 'ERR_WS_BAD_FRAME' });
    bad.send({ v: 2, op: 'subscribe', pattern: 'x' });
    expect(await bad.next('error')).toMatchObject({ code: 'ERR_WS_BAD_FRAME' });
    expect(await bad.closed()).toBe(4002);
    hub.publish('t', 'still here');
    await until(() => good.messages().length === 1);
    expect(bridge.stats().protocolErrors).toBe(5);
  });

  it('closes on binary frames (1003) and oversize frames (1009)', async () => {
    const { connect } = await start({ maxFrameBytes: 1024 });
    const binary = await connect();
    binary.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await binary.closed()).toBe(1003);
    const big = await connect();
    big.send({ op: 'subscribe', pattern: 'x'.repeat(2000) });
    expect(await big.closed()).toBe(1009);
  });

  it('refuses publishing unless allowed, then scopes it to the tenant', async () => {
    const closed = await start();
    const c = await closed.connect();
    c.send({ op: 'publish', topic: 'a', payload: 1 });
    expect(await c.next('error')).toMatchObject({ code: 'ERR_WS_PUBLISH_FORBIDDEN' });

    const open = await start({
      allowPublish: true,
      authenticate: () => ({ namespace: new Namespace('t1') }),
    });
    const rx = open.hub.subscribe('#');
    const p = await open.connect();
    p.send({ op: 'publish', topic: 'news/1', payload: { n: 1 }, id: 'p' });
    expect(await p.next('published')).toEqual({ type: 'published', topic: 'news/1', id: 'p' });
    expect((await rx.recv()).topic).toBe('t1/news/1');
    p.send({ op: 'publish', topic: 'bad/+', payload: 1 });
    expect((await p.next('error'))['code']).toMatch(/^ERR_PUBSUB_/);
    rx.close();
  });

  it('caps subscriptions per client (subscribe floods)', async () => {
    const { connect } = await start({ maxSubscriptionsPerClient: 3, maxProtocolErrors: 1000 });
    const c = await connect();
    for (let i = 0; i < 3; i++) await c.subscribe(`s/${i}`);
    for (let i = 3; i < 50; i++) c.send({ op: 'subscribe', pattern: `s/${i}` });
    await until(() => c.frames.filter((f) => f.type === 'error').length === 47);
    expect(
      c.frames
        .filter((f) => f.type === 'error')
        .every((f) => f['code'] === 'ERR_WS_TOO_MANY_SUBSCRIPTIONS'),
    ).toBe(true);
  });

  it('closes clients that never subscribe (4008)', async () => {
    const { connect } = await start({ firstSubscribeTimeoutMs: 50 });
    const idle = await connect();
    expect(await idle.closed()).toBe(4008);
  });

  it('drops messages for a client that never reads, or disconnects it, per policy', async () => {
    const payload = 'x'.repeat(64 * 1024);
    for (const policy of ['drop', 'disconnect'] as const) {
      const { hub, connect, bridge } = await start({
        sendHighWaterMarkBytes: 256 * 1024,
        slowClientPolicy: policy,
        receiverCapacity: 100_000,
      });
      const fast = await connect();
      await fast.subscribe('big');
      const slow = await connect();
      await slow.subscribe('big');
      // Stop reading: the kernel buffers fill and the server's queue grows.
      (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      // Publish at the pace the fast client reads, so only the paused one falls behind.
      for (let i = 1; i <= 200; i++) {
        hub.publish('big', payload);
        await until(() => fast.messages().length === i || bridge.stats().slowDisconnects > 0);
        if (policy === 'disconnect' && bridge.stats().slowDisconnects > 0) break;
      }
      if (policy === 'drop') {
        await until(() => bridge.stats().dropped > 0);
      } else {
        await until(() => bridge.stats().slowDisconnects === 1);
        expect(bridge.connections).toBe(1);
      }
    }
  });

  it('terminates clients that stop answering pings', async () => {
    const clock = new ManualClock();
    const { connect, bridge } = await start({ clock, pingIntervalMs: 1000 });
    const live = await connect();
    await live.subscribe('x');
    const dead = await connect();
    await dead.subscribe('x');
    (dead.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    clock.advance(1000); // ping both
    await new Promise((r) => setTimeout(r, 50)); // let the live client's pong arrive
    clock.advance(1000); // dead has not answered: terminated; live pinged again
    await flushMicrotasks();
    await until(() => bridge.connections === 1);
  });

  it('fans out to 2,000 concurrent clients without loss', async () => {
    const { hub, connect, bridge } = await start({ maxConnections: 2500 });
    const clients: TestClient[] = [];
    for (let i = 0; i < 2000; i += 100) {
      const batch = await Promise.all(Array.from({ length: 100 }, () => connect()));
      await Promise.all(batch.map((c) => c.subscribe('fan/#')));
      clients.push(...batch);
    }
    expect(bridge.connections).toBe(2000);
    for (let i = 0; i < 10; i++) hub.publish(`fan/${i}`, i);
    await until(() => clients.every((c) => c.messages().length === 10));
    for (const c of clients)
      expect(c.messages().map((m) => m['payload'])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  }, 120_000);

  it('close() sends 1001 to every client and refuses new ones', async () => {
    const { connect, bridge } = await start();
    const a = await connect();
    const code = a.closed();
    await bridge.close();
    await bridge.close();
    expect(await code).toBe(1001);
    expect(bridge.isClosed).toBe(true);
  });

  it('validates options', () => {
    const hub = new PubSub();
    expect(() => new WsBridge({ hub, maxConnections: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => new WsBridge({ hub, slowClientPolicy: 'maybe' as 'drop' })).toThrow(
      /slowClientPolicy/,
    );
    expect(() => new WsBridge({ hub: {} as never })).toThrow(/hub.subscribe/);
  });
});
