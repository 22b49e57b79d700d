// The metrics audit: every public resource in src/ reports through the MetricsSink it is
// given (or is listed below with the reason it has nothing of its own to report), each
// observation uses a declared definition with its declared labels, and the in-memory
// capabilities are exercised with a recording sink (AuditSink, test/support/audit-sink.ts)
// in metrics-audit-memory.test.ts. Backends: test/integration.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

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
