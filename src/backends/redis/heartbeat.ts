import type { Redis } from 'ioredis';
import { DEFAULT_MAX_BYTES, decodeJson, encodeJson } from '../../core/codec.js';
import { Lifecycle, type Closeable } from '../../core/lifecycle.js';
import { noopMetrics, type MetricsSink } from '../../core/metrics.js';
import { invalid, nonEmptyString, positiveInteger } from '../../core/validate.js';
import { validateGpus } from '../../heartbeat/telemetry.js';
import {
  DEFAULT_OFFLINE_AFTER_MS,
  DEFAULT_SUSPECT_AFTER_MS,
  MAX_NODE_ID_LENGTH,
  type FleetStats,
  type GpuTelemetry,
  type HeartbeatTrackerContract,
  type NodeState,
  type NodeStatus,
  type NodeUpdate,
  type StatusTransition,
} from '../../heartbeat/types.js';
import {
  ensureReady,
  releaseClient,
  resolveClient,
  wrapRedisError,
  type RedisConnectionInput,
  type ResolvedClient,
} from './connection.js';
import { baseKey, escapeGlob, type RedisKeyOptions } from './keys.js';
import { redisHeartbeats } from './metrics.js';
import { loadScripts, LuaScript } from './script.js';

/** Options of {@link RedisHeartbeatTracker}. */
export interface RedisHeartbeatTrackerOptions extends RedisKeyOptions {
  /** Silence after which a node is suspect (inclusive). @defaultValue 30000 */
  readonly suspectAfterMs?: number;
  /** Silence after which a node is offline (inclusive). @defaultValue 90000 */
  readonly offlineAfterMs?: number;
  /** How long an offline node stays listed before its key expires. @defaultValue offlineAfterMs */
  readonly retainOfflineMs?: number;
  /** Largest metadata / telemetry JSON. @defaultValue 1 MiB */
  readonly maxMetadataBytes?: number;
  /** Keys per SCAN step and per read script. @defaultValue 500 */
  readonly scanCount?: number;
  /** Metrics sink (`majra_redis_heartbeat_*`). @defaultValue discards */
  readonly metrics?: MetricsSink;
}

const REGISTER = new LuaScript('heartbeat-register');
const BEAT = new LuaScript('heartbeat-beat');
const READ = new LuaScript('heartbeat-read');

/**
 * Node liveness in Redis, shared by every process: one hash per node whose key expires
 * `offlineAfterMs + retainOfflineMs` after its last heartbeat, so the key space is
 * bounded by live nodes. Status (`online` / `suspect` / `offline`) is computed on read
 * from the server's clock, with the same inclusive thresholds as the in-memory tracker.
 * Listing uses SCAN with the escaped prefix (never KEYS).
 *
 * @example
 * ```ts
 * const hb = await connectRedisHeartbeatTracker(redis, 'workers', { suspectAfterMs: 5000, offlineAfterMs: 15000 });
 * await hb.register('gpu-1', { zone: 'a' });
 * await hb.heartbeat('gpu-1');
 * console.log(await hb.fleetStats());
 * ```
 */
export class RedisHeartbeatTracker implements HeartbeatTrackerContract, Closeable {
  /** Base key; node `n` lives at `<key>:node:<n>`. */
  readonly key: string;
  /** Silence after which a node is suspect, ms (from the options). */
  readonly suspectAfterMs: number;
  /** Silence after which a node is offline, ms (from the options). */
  readonly offlineAfterMs: number;
  readonly #ttlMs: number;
  readonly #maxBytes: number;
  readonly #scanCount: number;
  readonly #nodePrefix: string;
  readonly #resolved: ResolvedClient;
  readonly #client: Redis;
  readonly #life = new Lifecycle('RedisHeartbeatTracker');
  readonly #metrics: MetricsSink;
  /** Last status seen per node, for `sweep` transitions; rebuilt (so bounded) by each sweep. */
  #lastStatuses = new Map<string, NodeStatus>();

  /**
   * Creates the tracker without I/O; validates options. `connectRedisHeartbeatTracker` also waits
   * for the server.
   */
  constructor(
    redis: RedisConnectionInput,
    name: string,
    options: RedisHeartbeatTrackerOptions = {},
  ) {
    this.key = baseKey(options, 'heartbeat', name);
    this.suspectAfterMs = positiveInteger(
      'suspectAfterMs',
      options.suspectAfterMs ?? DEFAULT_SUSPECT_AFTER_MS,
    );
    this.offlineAfterMs = positiveInteger(
      'offlineAfterMs',
      options.offlineAfterMs ?? DEFAULT_OFFLINE_AFTER_MS,
    );
    if (this.suspectAfterMs >= this.offlineAfterMs) {
      invalid(
        'suspectAfterMs',
        `less than offlineAfterMs (${this.offlineAfterMs})`,
        this.suspectAfterMs,
      );
    }
    const retain = positiveInteger(
      'retainOfflineMs',
      options.retainOfflineMs ?? this.offlineAfterMs,
    );
    this.#ttlMs = this.offlineAfterMs + retain;
    this.#maxBytes = positiveInteger(
      'maxMetadataBytes',
      options.maxMetadataBytes ?? 1024 * 1024,
      DEFAULT_MAX_BYTES,
    );
    this.#scanCount = positiveInteger('scanCount', options.scanCount ?? 500, 10_000);
    this.#nodePrefix = `${this.key}:node:`;
    this.#metrics = options.metrics ?? noopMetrics;
    this.#resolved = resolveClient(redis);
    this.#client = this.#resolved.client;
  }

  get closed(): Promise<void> {
    return this.#life.closed;
  }

  get isClosed(): boolean {
    return this.#life.isClosed;
  }

  /** Connects (for a URL) and loads the scripts. */
  async ready(): Promise<this> {
    this.#life.assertOpen('connect');
    await ensureReady(this.#resolved);
    await loadScripts(this.#client, [REGISTER, BEAT, READ]);
    return this;
  }

  /** Registers (or re-registers) a node as online; replaces metadata and GPUs (default none). */
  async register(nodeId: string, update: NodeUpdate = {}): Promise<void> {
    this.#life.assertOpen('register');
    const key = this.#nodeKey(nodeId);
    const md = this.#encode(update.metadata ?? null);
    const gpus = this.#encode(validateGpus(update.gpus ?? []));
    await this.#run(REGISTER, [key], [this.#ttlMs, md, gpus], 'register');
    this.#metrics.increment(redisHeartbeats);
  }

  /**
   * Heartbeat of a registered node; replaces metadata / GPUs when given. False (nothing
   * written) for an unknown or expired node: nodes are never registered implicitly.
   */
  async beat(nodeId: string, update: NodeUpdate = {}): Promise<boolean> {
    this.#life.assertOpen('beat');
    const key = this.#nodeKey(nodeId);
    const setMeta = 'metadata' in update;
    const md = setMeta ? this.#encode(update.metadata ?? null) : '';
    const gpus = update.gpus === undefined ? '' : this.#encode(validateGpus(update.gpus));
    const args = [this.#ttlMs, setMeta ? '1' : '', md, gpus === '' ? '' : '1', gpus];
    const reply = await this.#run(BEAT, [key], args, 'beat');
    if (reply === 1) this.#metrics.increment(redisHeartbeats);
    return reply === 1;
  }

  /** Removes a node; false when it was not there. */
  async deregister(nodeId: string): Promise<boolean> {
    this.#life.assertOpen('deregister');
    try {
      return (await this.#client.del(this.#nodeKey(nodeId))) === 1;
    } catch (error) {
      throw wrapRedisError(error, 'deregister');
    }
  }

  /** One node, or undefined when unknown or expired. */
  async get(nodeId: string): Promise<NodeState | undefined> {
    this.#life.assertOpen('get');
    const [state] = await this.#read([this.#nodeKey(nodeId)]);
    return state?.node;
  }

  /** Every listed node (SCAN, in batches), with its status. */
  async nodes(): Promise<NodeState[]> {
    return (await this.#list()).map((n) => n.node);
  }

  async #list(): Promise<ReadNode[]> {
    this.#life.assertOpen('nodes');
    const out: ReadNode[] = [];
    let cursor = '0';
    const match = `${escapeGlob(this.#nodePrefix)}*`;
    try {
      do {
        const [next, keys] = await this.#client.scan(
          cursor,
          'MATCH',
          match,
          'COUNT',
          this.#scanCount,
        );
        cursor = next;
        if (keys.length > 0) out.push(...(await this.#read(keys)));
      } while (cursor !== '0');
    } catch (error) {
      throw wrapRedisError(error, 'scan nodes');
    }
    // SCAN may return a key twice; keep the first. Registration order, like the memory tracker.
    const seen = new Set<string>();
    return out
      .filter((n) => (seen.has(n.node.nodeId) ? false : (seen.add(n.node.nodeId), true)))
      .sort((a, b) => a.registeredAt - b.registeredAt || (a.node.nodeId < b.node.nodeId ? -1 : 1));
  }

  /** Nodes with the given status. */
  async listByStatus(status: NodeStatus): Promise<NodeState[]> {
    return (await this.nodes()).filter((n) => n.status === status);
  }

  /** Online nodes. */
  async online(): Promise<NodeState[]> {
    return await this.listByStatus('online');
  }

  /** Counts by status and GPU totals over every listed node (offline ones included). */
  async fleetStats(): Promise<FleetStats> {
    const nodes = await this.nodes();
    let online = 0;
    let suspect = 0;
    let offline = 0;
    let totalGpus = 0;
    let totalVramMb = 0;
    let availableVramMb = 0;
    let utilization = 0;
    for (const node of nodes) {
      if (node.status === 'online') online++;
      else if (node.status === 'suspect') suspect++;
      else offline++;
      for (const gpu of node.gpus) {
        totalGpus++;
        utilization += gpu.utilizationPct;
        totalVramMb += gpu.memoryTotalMb;
        availableVramMb += Math.max(0, gpu.memoryTotalMb - gpu.memoryUsedMb);
      }
    }
    return {
      totalNodes: nodes.length,
      online,
      suspect,
      offline,
      totalGpus,
      totalVramMb,
      availableVramMb,
      avgGpuUtilizationPct: totalGpus === 0 ? 0 : utilization / totalGpus,
    };
  }

  /**
   * Lists every node and reports the status changes since this object's previous sweep
   * (a node seen for the first time counts as coming from `online`). Statuses themselves
   * are always computed live from the server clock; Redis expiry does the eviction.
   */
  async sweep(): Promise<StatusTransition[]> {
    const listed = await this.#list();
    const next = new Map<string, NodeStatus>();
    const transitions: StatusTransition[] = [];
    for (const { node, observedAt } of listed) {
      const from = this.#lastStatuses.get(node.nodeId) ?? 'online';
      next.set(node.nodeId, node.status);
      if (from !== node.status) {
        transitions.push({ nodeId: node.nodeId, from, to: node.status, at: observedAt });
      }
    }
    this.#lastStatuses = next;
    return transitions;
  }

  /** Closes an owned client. */
  close(): Promise<void> {
    return this.#life.close(() => releaseClient(this.#resolved));
  }

  /** Same as `close()`, so `await using tracker = ...` closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Status for a silence of `elapsedMs` (inclusive thresholds). */
  statusFor(elapsedMs: number): NodeStatus {
    if (elapsedMs >= this.offlineAfterMs) return 'offline';
    if (elapsedMs >= this.suspectAfterMs) return 'suspect';
    return 'online';
  }

  #nodeKey(nodeId: string): string {
    return this.#nodePrefix + nonEmptyString('nodeId', nodeId, MAX_NODE_ID_LENGTH);
  }

  #encode(value: unknown): string {
    return Buffer.from(encodeJson(value, this.#maxBytes)).toString('utf8');
  }

  async #run(script: LuaScript, keys: string[], args: (string | number)[], op: string) {
    try {
      return await script.run(this.#client, keys, args);
    } catch (error) {
      throw wrapRedisError(error, op);
    }
  }

  async #read(keys: readonly string[]): Promise<ReadNode[]> {
    const reply = await this.#run(READ, [...keys], [], 'read nodes');
    const flat = Array.isArray(reply) ? (reply as unknown[]) : [];
    const now = Number(flat[0]);
    const out: ReadNode[] = [];
    keys.forEach((key, i) => {
      const t = text(flat[1 + i * 4]);
      if (t === '') return; // expired between SCAN and read
      const m = text(flat[3 + i * 4]);
      const g = text(flat[4 + i * 4]);
      const lastSeen = Number(t);
      out.push({
        observedAt: now,
        registeredAt: Number(text(flat[2 + i * 4]) || t),
        node: {
          nodeId: key.slice(this.#nodePrefix.length),
          status: this.statusFor(now - lastSeen),
          lastSeen,
          metadata: m === '' ? null : decodeJson(m, this.#maxBytes),
          gpus: g === '' ? [] : (decodeJson(g, this.#maxBytes) as GpuTelemetry[]),
        },
      });
    });
    return out;
  }
}

interface ReadNode {
  /** Server time of the read. */
  readonly observedAt: number;
  readonly registeredAt: number;
  readonly node: NodeState;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

/** Creates a {@link RedisHeartbeatTracker} and resolves once ready. */
export async function connectRedisHeartbeatTracker(
  redis: RedisConnectionInput,
  name: string,
  options: RedisHeartbeatTrackerOptions = {},
): Promise<RedisHeartbeatTracker> {
  const tracker = new RedisHeartbeatTracker(redis, name, options);
  try {
    return await tracker.ready();
  } catch (error) {
    await tracker.close();
    throw error;
  }
}
