// The metrics audit: every public resource in src/ reports through the MetricsSink it is
// given (or is listed below with the reason it has nothing of its own to report), each
// observation uses a declared definition with its declared labels, and the in-memory
// capabilities are exercised here with a recording sink. Backends: test/integration.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { MetricDefinition, MetricLabels, MetricsSink } from '../../src/core/metrics.js';
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
import { MemoryMetricsSink } from '../../src/testing/index.js';
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
import { connectedPair, tempSocketDir } from '../support/ipc.js';
import { metricCatalog } from '../../scripts/metrics-doc.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Public classes with no metrics of their own, and why. Every other exported class must
 * appear in {@link PROVEN} with where its reporting is tested.
 */
const EXEMPT: Readonly<Record<string, string>> = {
  // Pure computation or data, no resource and nothing that happens over time.
  DagScheduler: 'pure: orders a graph',
  ResourceLedger: 'data: the ManagedQueue reports what it admits',
  FrameDecoder: 'pure: IpcConnection / the transports report frames and errors',
  TopicHash: 'value type',
  // Views and parts of a reporting primitive, which does the counting.
  HubScope: 'a namespaced view; the hub it wraps reports',
  RelaySubscription: 'part of Relay, which reports',
  WorkflowEventStream: 'part of WorkflowEngine, which counts dropped events',
  LocalFleetNode: 'adapts a ManagedQueue, which reports',
  RemoteFleetNode: 'talks through a Relay, which reports',
  PeerRouter: 'routes through a ConnectionPool, which reports',
  MemoryQueueStore: 'in memory, cannot fail on I/O; ManagedQueue counts store errors',
  MemoryWorkflowStore: 'in memory, cannot fail on I/O; WorkflowEngine counts store errors',
  // The sink itself, test helpers, and core building blocks.
  PrometheusSink: 'is the sink',
  ManualClock: 'test helper',
  MemoryMetricsSink: 'test helper',
  Lifecycle: 'core building block',
  Namespace: 'value type',
  RingBuffer: 'core building block; its owners report lag',
};

const INTEGRATION = 'test/integration/metrics-backends.test.ts';

/** Where each reporting class is exercised with a recording sink. */
const PROVEN: Readonly<Record<string, string>> = {
  BarrierSet: 'unit',
  WsBridge: 'unit',
  FleetQueue: 'unit',
  HeartbeatTracker: 'unit',
  ConcurrentHeartbeatTracker: 'unit',
  IpcConnection: 'unit',
  IpcServer: 'unit',
  EncryptedIpcConnection: 'unit',
  DirectChannel: 'unit',
  HashedChannel: 'unit',
  TypedPubSub: 'unit',
  PubSub: 'unit',
  ManagedQueue: 'unit',
  PriorityQueue: 'unit',
  ConcurrentPriorityQueue: 'unit',
  RateLimiter: 'unit',
  SlidingWindowLimiter: 'unit',
  Relay: 'unit',
  CircuitBreaker: 'unit',
  ConnectionPool: 'unit',
  MemoryTransport: 'unit',
  UnixSocketTransport: 'unit',
  TcpTransport: 'unit',
  WorkflowEngine: 'unit',
  SqliteQueueStore: INTEGRATION,
  SqliteWorkflowStore: INTEGRATION,
  PostgresJobQueue: INTEGRATION,
  JobWorker: INTEGRATION,
  PostgresQueueStore: INTEGRATION,
  PostgresWorkflowStore: INTEGRATION,
  RedisQueue: INTEGRATION,
  RedisRateLimiter: INTEGRATION,
  RedisSlidingWindowLimiter: INTEGRATION,
  RedisHeartbeatTracker: INTEGRATION,
  RedisPubSub: INTEGRATION,
  RedisStreamPubSub: INTEGRATION,
};

function indexFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) indexFiles(path, out);
    else if (name === 'index.ts') out.push(path);
  }
  return out;
}

function isClass(value: unknown): boolean {
  return typeof value === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(value));
}

/**
 * A recording sink that also checks each observation against the declarations: the
 * definition is in the catalog, the call matches its type, and the label names are
 * exactly the declared ones (prom-client refuses anything else).
 */
class AuditSink implements MetricsSink {
  readonly memory = new MemoryMetricsSink();
  readonly names = new Set<string>();
  readonly problems: string[] = [];
  static readonly #catalog = new Map(metricCatalog().map((m) => [m.name, m]));

  increment(metric: MetricDefinition, value?: number, labels?: MetricLabels): void {
    this.#check(metric, 'counter', labels);
    this.memory.increment(metric, value, labels);
  }

  set(metric: MetricDefinition, value: number, labels?: MetricLabels): void {
    this.#check(metric, 'gauge', labels);
    this.memory.set(metric, value, labels);
  }

  observe(metric: MetricDefinition, value: number, labels?: MetricLabels): void {
    this.#check(metric, 'histogram', labels);
    this.memory.observe(metric, value, labels);
  }

  /** Asserts every expected name was observed and nothing was reported wrongly. */
  expectReported(...names: string[]): void {
    expect(this.problems).toEqual([]);
    for (const name of names) expect([...this.names], name).toContain(name);
  }

  #check(metric: MetricDefinition, type: string, labels: MetricLabels | undefined): void {
    this.names.add(metric.name);
    const declared = AuditSink.#catalog.get(metric.name);
    if (declared !== metric) this.problems.push(`${metric.name}: not a catalogued definition`);
    if (metric.type !== type)
      this.problems.push(`${metric.name}: ${type} call on a ${metric.type}`);
    const got = Object.keys(labels ?? {}).sort();
    const want = [...(metric.labelNames ?? [])].sort();
    if (got.join() !== want.join()) {
      this.problems.push(`${metric.name}: labels [${got.join()}], declared [${want.join()}]`);
    }
  }
}

const cleanup: (() => Promise<unknown> | undefined)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('metrics audit: coverage', () => {
  it('every exported class reports through MetricsSink or is exempt with a reason', async () => {
    const found = new Set<string>();
    for (const file of indexFiles(join(ROOT, 'src'))) {
      const module = (await import(file)) as Record<string, unknown>;
      for (const [name, value] of Object.entries(module)) {
        const isError = (value as { prototype?: unknown }).prototype instanceof Error;
        if (isClass(value) && !isError) found.add(name);
      }
    }
    const unaccounted = [...found].filter((name) => !(name in EXEMPT) && !(name in PROVEN));
    expect(unaccounted).toEqual([]);
    const stale = [...Object.keys(EXEMPT), ...Object.keys(PROVEN)].filter((n) => !found.has(n));
    expect(stale).toEqual([]);
  });

  it('every backend class proven in the integration suite is exercised there', () => {
    const text = readFileSync(join(ROOT, INTEGRATION), 'utf8');
    const missing = Object.entries(PROVEN)
      .filter(([name, where]) => where === INTEGRATION && !text.includes(name))
      .map(([name]) => name);
    expect(missing).toEqual([]);
  });
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
