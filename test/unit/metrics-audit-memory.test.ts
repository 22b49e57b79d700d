// The metrics audit of the in-memory capabilities (the coverage rules are in
// metrics-audit.test.ts): each one, built with an AuditSink and exercised, reports the
// metrics it declares, with their declared labels.
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { BarrierSet } from '../../src/barrier/index.js';
import { WsBridge } from '../../src/bridges/ws/index.js';
import { FleetQueue, LocalFleetNode, type FleetJobPayload } from '../../src/fleet/index.js';
import { HeartbeatTracker } from '../../src/heartbeat/index.js';
import { EncryptedIpcConnection } from '../../src/ipc/index.js';
import {
  DirectChannel,
  HashedChannel,
  PubSub,
  TypedPubSub,
  type Receiver,
} from '../../src/pubsub/index.js';
import {
  ConcurrentPriorityQueue,
  ManagedQueue,
  Priority,
  PriorityQueue,
  createQueueItem,
} from '../../src/queue/index.js';
import { RateLimiter, SlidingWindowLimiter } from '../../src/ratelimit/index.js';
import { Relay } from '../../src/relay/index.js';
import {
  CircuitBreaker,
  ConnectionPool,
  MemoryTransport,
  TcpTransport,
  UnixSocketTransport,
  type Connection,
  type Transport,
} from '../../src/transport/index.js';
import { WorkflowEngine } from '../../src/workflow/index.js';
import { AuditSink } from '../support/audit-sink.js';
import { connectedPair, tempSocketDir } from '../support/ipc.js';

const cleanup: (() => Promise<unknown> | undefined)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('metrics audit: in-memory capabilities report', () => {
  it('barrier', () => {
    const sink = new AuditSink();
    const barriers = new BarrierSet({ metrics: sink });
    cleanup.push(() => barriers.close());
    barriers.create('b', ['x', 'y']);
    barriers.arrive('b', 'x');
    barriers.arrive('b', 'y');
    sink.expectReported('majra_barrier_arrivals_total', 'majra_barrier_releases_total');
  });

  it('fleet', async () => {
    const sink = new AuditSink();
    const fleet = new FleetQueue<{ n: number }>({ metrics: sink });
    const queue = new ManagedQueue<FleetJobPayload<{ n: number }>>({ name: 'n1' });
    cleanup.push(() => queue.close());
    fleet.addNode(new LocalFleetNode<{ n: number }>('n1', queue));
    await fleet.submit(Priority.Normal, { n: 1 });
    sink.expectReported('majra_fleet_jobs_submitted_total', 'majra_fleet_tracked_jobs');
  });

  it('heartbeat', async () => {
    const sink = new AuditSink();
    const tracker = new HeartbeatTracker({ metrics: sink });
    cleanup.push(() => tracker.close());
    tracker.register('n1');
    tracker.beat('n1');
    tracker.sweep();
    sink.expectReported('majra_heartbeat_beats_total', 'majra_heartbeat_nodes');
    await tracker.close();
  });

  it('ipc: plain connection, server, encrypted connection', async () => {
    const dir = tempSocketDir();
    cleanup.push(() => Promise.resolve(dir.remove()));
    const sink = new AuditSink();
    const { server, client, peer } = await connectedPair(dir.path(), {
      server: { metrics: sink },
      client: { metrics: sink },
    });
    cleanup.push(
      () => server.close(),
      () => client.close(),
      () => peer.close(),
    );
    const key = Buffer.alloc(32, 7);
    const [dialer, acceptor] = await Promise.all([
      EncryptedIpcConnection.establish(client, key, 'dialer', { metrics: sink }),
      EncryptedIpcConnection.establish(peer, key, 'acceptor', { metrics: sink }),
    ]);
    cleanup.push(
      () => dialer.close(),
      () => acceptor.close(),
    );
    await dialer.send({ hello: 1 });
    expect(await acceptor.recv()).toEqual({ hello: 1 });
    sink.expectReported(
      'majra_ipc_connections_total',
      'majra_ipc_frames_sent_total',
      'majra_ipc_frames_received_total',
      'majra_ipc_bytes_sent_total',
    );
    expect(sink.memory.counter('majra_ipc_frames_sent_total', { layer: 'encrypted' })).toBe(1);
  });

  it('pubsub: typed, json, direct and hashed hubs', () => {
    const sink = new AuditSink();
    const typed = new TypedPubSub<number>({ metrics: sink });
    const json = new PubSub({ metrics: sink });
    const direct = new DirectChannel<number>(1, { metrics: sink });
    const hashed = new HashedChannel<number>(1, { metrics: sink });
    cleanup.push(
      () => typed.close(),
      () => json.close(),
      () => direct.close(),
      () => hashed.close(),
    );
    const receivers: Receiver<unknown>[] = [
      typed.subscribe('a/#', { capacity: 1 }),
      json.subscribe('a/#'),
      direct.subscribe(),
      hashed.subscribe('a'),
    ];
    expect(receivers).toHaveLength(4);
    for (let i = 0; i < 2; i++) {
      typed.publish('a/b', i);
      json.publish('a/b', i);
      direct.publish(i);
      hashed.publish('a', i);
    }
    sink.expectReported(
      'majra_pubsub_published_total',
      'majra_pubsub_delivered_total',
      'majra_pubsub_lagged_total',
      'majra_pubsub_subscriptions',
    );
    for (const hub of ['typed', 'json', 'direct', 'hashed']) {
      expect(sink.memory.counter('majra_pubsub_published_total', { hub }), hub).toBe(2);
    }
  });

  it('queue: ManagedQueue, PriorityQueue, ConcurrentPriorityQueue', async () => {
    const sink = new AuditSink();
    const managed = new ManagedQueue<string>({ name: 'managed', metrics: sink });
    cleanup.push(() => managed.close());
    await managed.enqueue(Priority.High, 'job');
    const plain = new PriorityQueue<string>({ name: 'plain', metrics: sink });
    plain.enqueue(createQueueItem(Priority.Low, 'a'));
    plain.enqueue(createQueueItem(Priority.Critical, 'b'));
    expect(plain.dequeue()?.payload).toBe('b');
    const awaited = new ConcurrentPriorityQueue<string>({ name: 'awaited', metrics: sink });
    cleanup.push(() => awaited.close());
    const next = awaited.dequeueWait();
    awaited.enqueue(createQueueItem(Priority.Normal, 'c'));
    expect((await next).payload).toBe('c');
    sink.expectReported('majra_queue_enqueued_total', 'majra_queue_depth');
    const m = sink.memory;
    expect(m.counter('majra_queue_enqueued_total', { queue: 'managed', priority: 'high' })).toBe(1);
    expect(m.counter('majra_queue_enqueued_total', { queue: 'plain', priority: 'low' })).toBe(1);
    expect(m.counter('majra_queue_dequeued_total', { queue: 'plain', priority: 'critical' })).toBe(
      1,
    );
    expect(m.gauge('majra_queue_depth', { queue: 'plain' })).toBe(1);
    expect(m.counter('majra_queue_dequeued_total', { queue: 'awaited', priority: 'normal' })).toBe(
      1,
    );
    expect(m.gauge('majra_queue_depth', { queue: 'awaited' })).toBe(0);
  });

  it('ratelimit: token bucket and sliding window', () => {
    const sink = new AuditSink();
    const bucket = new RateLimiter({ ratePerSecond: 1, burst: 1, metrics: sink });
    const window = new SlidingWindowLimiter({ maxRequests: 1, windowMs: 1000, metrics: sink });
    cleanup.push(
      () => bucket.close(),
      () => window.close(),
    );
    for (const limiter of [bucket, window]) {
      expect(limiter.check('k').allowed).toBe(true);
      expect(limiter.check('k').allowed).toBe(false);
    }
    sink.expectReported('majra_ratelimit_checks_total', 'majra_ratelimit_keys');
    for (const limiter of ['token_bucket', 'sliding_window']) {
      const checks = (result: string) =>
        sink.memory.counter('majra_ratelimit_checks_total', { limiter, result });
      expect([checks('allowed'), checks('rejected')], limiter).toEqual([1, 1]);
    }
  });

  it('relay', async () => {
    const sink = new AuditSink();
    const relay = new Relay('me', {
      metrics: sink,
      router: { deliver: () => Promise.resolve() },
    });
    cleanup.push(() => relay.close());
    await relay.send('peer', 'greeting', { hi: 1 });
    sink.expectReported('majra_relay_messages_sent_total');
  });

  it('transport: circuit breaker, connection pool, memory/unix/tcp transports', async () => {
    const sink = new AuditSink();
    const breaker = new CircuitBreaker({ failureThreshold: 1, metrics: sink });
    await expect(breaker.execute(() => Promise.reject(new Error('boom')))).rejects.toThrow();
    await expect(breaker.execute(() => Promise.resolve(1))).rejects.toMatchObject({
      code: 'ERR_TRANSPORT_CIRCUIT_OPEN',
    });
    const dir = tempSocketDir();
    cleanup.push(() => Promise.resolve(dir.remove()));
    const transports: [string, Transport, string][] = [
      ['memory', new MemoryTransport({ metrics: sink }), 'node-b'],
      ['unix', new UnixSocketTransport({ metrics: sink }), dir.path('t.sock')],
      ['tcp', new TcpTransport({ metrics: sink }), '127.0.0.1:0'],
    ];
    for (const [kind, transport, endpoint] of transports) {
      const accepted: Connection[] = [];
      const received = new Promise<unknown>((resolve) => {
        void transport
          .listen(endpoint, (conn) => {
            accepted.push(conn);
            void (async () => {
              for await (const message of conn.incoming()) resolve(message);
            })();
          })
          .then((listener) => {
            cleanup.push(() => listener.close());
            const pool = new ConnectionPool(transport, { metrics: sink });
            cleanup.push(() => pool.close());
            return pool.acquire(listener.endpoint).then((conn) => conn.send({ kind }));
          });
      });
      expect(await received).toEqual({ kind });
      for (const conn of accepted) cleanup.push(() => conn.close());
      const labels = { transport: kind };
      expect(sink.memory.counter('majra_transport_messages_sent_total', labels), kind).toBe(1);
      expect(sink.memory.counter('majra_transport_messages_received_total', labels), kind).toBe(1);
      expect(
        sink.memory.counter('majra_transport_connections_total', { ...labels, side: 'accepted' }),
        kind,
      ).toBe(1);
    }
    sink.expectReported(
      'majra_transport_circuit_transitions_total',
      'majra_transport_circuit_rejected_total',
      'majra_transport_pool_dials_total',
      'majra_transport_pool_connections',
      'majra_transport_connections_total',
    );
  });

  it('workflow: runs, steps, and events dropped from a slow stream', async () => {
    const sink = new AuditSink();
    const engine = new WorkflowEngine({ metrics: sink });
    cleanup.push(() => engine.close());
    const stream = engine.events({ capacity: 1 });
    engine.register(
      { id: 'wf', steps: [{ id: 'a' }, { id: 'b', dependsOn: ['a'] }] },
      {
        a: () => 1,
        b: () => 2,
      },
    );
    await engine.wait(await engine.start('wf'));
    expect(stream.lag).toBeGreaterThan(0);
    sink.expectReported(
      'majra_workflow_runs_total',
      'majra_workflow_steps_total',
      'majra_workflow_run_duration_seconds',
      'majra_workflow_events_dropped_total',
    );
    expect(sink.memory.counter('majra_workflow_events_dropped_total')).toBe(stream.lag);
  });

  it('ws bridge', async () => {
    const sink = new AuditSink();
    const hub = new PubSub();
    const bridge = new WsBridge({ hub, metrics: sink });
    cleanup.push(
      () => bridge.close(),
      () => hub.close(),
    );
    const { port } = await bridge.listen({ port: 0, host: '127.0.0.1' });
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    cleanup.push(() => Promise.resolve(ws.terminate()));
    const frames: { type: string }[] = [];
    const next = (type: string) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (frames.some((f) => f.type === type)) resolve();
          else ws.once('message', check);
        };
        check();
      });
    ws.on('message', (data) =>
      frames.push(JSON.parse((data as Buffer).toString('utf8')) as { type: string }),
    );
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ v: 1, op: 'subscribe', pattern: 'a/#', id: 's' }));
    await next('subscribed');
    hub.publish('a/b', 1);
    await next('message');
    sink.expectReported('majra_ws_connections', 'majra_ws_messages_sent_total');
  });
});
