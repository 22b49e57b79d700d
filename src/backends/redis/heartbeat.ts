import type { Redis } from 'ioredis';
import { DEFAULT_MAX_BYTES, decodeJson, encodeJson } from '../../core/codec.js';
import { InvalidArgumentError } from '../../core/errors.js';
import { Lifecycle, type Closeable } from '../../core/lifecycle.js';
import { noopMetrics, type MetricsSink } from '../../core/metrics.js';
import { invalid, nonEmptyString, positiveInteger } from '../../core/validate.js';
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
import { LuaScript } from './script.js';

/** Liveness of a node, by time since its last heartbeat. */
export type RedisNodeStatus = 'online' | 'suspect' | 'offline';

/** GPU telemetry of one device. */
export interface RedisGpuTelemetry {
  readonly utilizationPct: number;
  readonly memoryUsedMb: number;
  readonly memoryTotalMb: number;
  readonly temperatureC?: number;
}

/** A node as stored in Redis. */
export interface RedisNodeState {
  readonly nodeId: string;
  readonly status: RedisNodeStatus;
  /** Server time (epoch ms) of the last heartbeat. */
  readonly lastSeen: number;
  readonly metadata: unknown;
  readonly telemetry: readonly RedisGpuTelemetry[] | undefined;
}

/** Fleet totals (same shape as the in-memory tracker's). */
export interface RedisFleetStats {
  readonly totalNodes: number;
  readonly online: number;
  readonly suspect: number;
  readonly offline: number;
  readonly totalGpus: number;
  readonly totalVramMb: number;
  readonly availableVramMb: number;
}

/** Options of {@link RedisHeartbeatTracker}. */
export interface RedisHeartbeatTrackerOptions extends RedisKeyOptions {
  /** Silence after which a node is suspect. @defaultValue 30000 */
  readonly suspectAfterMs?: number;
  /** Silence after which a node is offline. @defaultValue 90000 */
  readonly offlineAfterMs?: number;
  /** How long an offline node stays listed before its key expires. @defaultValue offlineAfterMs */
  readonly retainOfflineMs?: number;
  /** Largest metadata / telemetry JSON. @defaultValue 1 MiB */
  readonly maxMetadataBytes?: number;
  /** Keys per SCAN step and per read script. @defaultValue 500 */
  readonly scanCount?: number;
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
export class RedisHeartbeatTracker implements Closeable {
  /** Base key; node `n` lives at `<key>:node:<n>`. */
  readonly key: string;
  readonly suspectAfterMs: number;
  readonly offlineAfterMs: number;
  readonly #ttlMs: number;
  readonly #maxBytes: number;
  readonly #scanCount: number;
  readonly #nodePrefix: string;
  readonly #resolved: ResolvedClient;
  readonly #client: Redis;
  readonly #life = new Lifecycle('RedisHeartbeatTracker');
  readonly #metrics: MetricsSink;

  constructor(
    redis: RedisConnectionInput,
    name: string,
    options: RedisHeartbeatTrackerOptions = {},
  ) {
    this.key = baseKey(options, 'heartbeat', name);
    this.suspectAfterMs = positiveInteger('suspectAfterMs', options.suspectAfterMs ?? 30_000);
    this.offlineAfterMs = positiveInteger('offlineAfterMs', options.offlineAfterMs ?? 90_000);
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
    try {
      await Promise.all([REGISTER, BEAT, READ].map((s) => s.load(this.#client)));
    } catch (error) {
      throw wrapRedisError(error, 'SCRIPT LOAD');
    }
    return this;
  }

  /** Registers (or re-registers) a node as online; replaces metadata, clears telemetry unless given. */
  async register(
    nodeId: string,
    metadata: unknown = null,
    options: { telemetry?: readonly RedisGpuTelemetry[] } = {},
  ): Promise<void> {
    this.#life.assertOpen('register');
    const key = this.#nodeKey(nodeId);
    const md = this.#encode(metadata);
    const tel =
      options.telemetry === undefined ? '' : this.#encode(validateTelemetry(options.telemetry));
    await this.#run(REGISTER, [key], [this.#ttlMs, md, tel], 'register');
    this.#metrics.increment(redisHeartbeats);
  }

  /** Heartbeat of a registered node; false for an unknown (or expired) node. */
  async heartbeat(nodeId: string): Promise<boolean> {
    return await this.#beat(nodeId, '', '');
  }

  /** Heartbeat that replaces the metadata. */
  async heartbeatWithMetadata(nodeId: string, metadata: unknown): Promise<boolean> {
    return await this.#beat(nodeId, 'm', this.#encode(metadata));
  }

  /** Heartbeat that replaces the GPU telemetry. */
  async heartbeatWithTelemetry(
    nodeId: string,
    telemetry: readonly RedisGpuTelemetry[],
  ): Promise<boolean> {
    return await this.#beat(nodeId, 'g', this.#encode(validateTelemetry(telemetry)));
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
  async get(nodeId: string): Promise<RedisNodeState | undefined> {
    this.#life.assertOpen('get');
    const [state] = await this.#read([this.#nodeKey(nodeId)]);
    return state;
  }

  /** Every listed node (SCAN, in batches), with its status. */
  async nodes(): Promise<RedisNodeState[]> {
    this.#life.assertOpen('nodes');
    const out: RedisNodeState[] = [];
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
    // SCAN may return a key twice; keep the first.
    const seen = new Set<string>();
    return out.filter((n) => (seen.has(n.nodeId) ? false : (seen.add(n.nodeId), true)));
  }

  /** Nodes with the given status. */
  async listByStatus(status: RedisNodeStatus): Promise<RedisNodeState[]> {
    return (await this.nodes()).filter((n) => n.status === status);
  }

  /** Online nodes. */
  async online(): Promise<RedisNodeState[]> {
    return await this.listByStatus('online');
  }

  /** Counts by status and GPU totals over every listed node (offline ones included). */
  async fleetStats(): Promise<RedisFleetStats> {
    const nodes = await this.nodes();
    let online = 0;
    let suspect = 0;
    let offline = 0;
    let totalGpus = 0;
    let totalVramMb = 0;
    let availableVramMb = 0;
    for (const node of nodes) {
      if (node.status === 'online') online++;
      else if (node.status === 'suspect') suspect++;
      else offline++;
      for (const gpu of node.telemetry ?? []) {
        totalGpus++;
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
    };
  }

  /** Closes an owned client. */
  close(): Promise<void> {
    return this.#life.close(() => releaseClient(this.#resolved));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Status for a silence of `elapsedMs` (inclusive thresholds). */
  statusFor(elapsedMs: number): RedisNodeStatus {
    if (elapsedMs >= this.offlineAfterMs) return 'offline';
    if (elapsedMs >= this.suspectAfterMs) return 'suspect';
    return 'online';
  }

  #nodeKey(nodeId: string): string {
    return this.#nodePrefix + nonEmptyString('nodeId', nodeId, 65_536);
  }

  #encode(value: unknown): string {
    return Buffer.from(encodeJson(value, this.#maxBytes)).toString('utf8');
  }

  async #beat(nodeId: string, field: string, value: string): Promise<boolean> {
    this.#life.assertOpen('heartbeat');
    const reply = await this.#run(
      BEAT,
      [this.#nodeKey(nodeId)],
      [this.#ttlMs, field, value],
      'heartbeat',
    );
    if (reply === 1) this.#metrics.increment(redisHeartbeats);
    return reply === 1;
  }

  async #run(script: LuaScript, keys: string[], args: (string | number)[], op: string) {
    try {
      return await script.run(this.#client, keys, args);
    } catch (error) {
      throw wrapRedisError(error, op);
    }
  }

  async #read(keys: readonly string[]): Promise<RedisNodeState[]> {
    const reply = await this.#run(READ, [...keys], [], 'read nodes');
    const flat = Array.isArray(reply) ? (reply as unknown[]) : [];
    const now = Number(flat[0]);
    const out: RedisNodeState[] = [];
    keys.forEach((key, i) => {
      const t = text(flat[1 + i * 3]);
      if (t === '') return; // expired between SCAN and read
      const m = text(flat[2 + i * 3]);
      const g = text(flat[3 + i * 3]);
      const lastSeen = Number(t);
      out.push({
        nodeId: key.slice(this.#nodePrefix.length),
        status: this.statusFor(now - lastSeen),
        lastSeen,
        metadata: m === '' ? null : decodeJson(m, this.#maxBytes),
        telemetry: g === '' ? undefined : (decodeJson(g, this.#maxBytes) as RedisGpuTelemetry[]),
      });
    });
    return out;
  }
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

function validateTelemetry(gpus: readonly RedisGpuTelemetry[]): readonly RedisGpuTelemetry[] {
  const list: unknown = gpus;
  if (!Array.isArray(list)) invalid('telemetry', 'an array of GPU telemetry', list);
  for (const gpu of gpus) {
    for (const field of ['utilizationPct', 'memoryUsedMb', 'memoryTotalMb'] as const) {
      const v: unknown = (gpu as Partial<RedisGpuTelemetry> | null)?.[field];
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        throw new InvalidArgumentError(`telemetry.${field}: expected a finite number >= 0`, {
          details: { option: `telemetry.${field}` },
        });
      }
    }
  }
  return gpus;
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
