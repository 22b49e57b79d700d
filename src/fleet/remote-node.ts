import type { JsonValue } from '../core/codec.js';
import { ProtocolError } from '../core/errors.js';
import { nonEmptyString, positiveNumber } from '../core/validate.js';
import { parsePriority } from '../queue/priority.js';
import { parseResourcePool, parseResourceReq } from '../queue/resource-ledger.js';
import type { ResourcePool } from '../queue/types.js';
import type { Relay } from '../relay/relay.js';
import type { RelaySubscription } from '../relay/subscription.js';
import type { FleetNode, FleetNodeLoad, FleetTask } from './types.js';

/** Relay message types of the fleet protocol. */
export const FLEET_MESSAGES = Object.freeze({
  enqueue: 'majra.fleet.enqueue',
  load: 'majra.fleet.load',
  take: 'majra.fleet.take',
  dequeued: 'majra.fleet.dequeued',
});

function bad(what: string): ProtocolError {
  return new ProtocolError(`invalid fleet message: ${what}`, { code: 'ERR_PROTOCOL' });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates a task received over the wire. @internal */
export function taskFromJson<T extends JsonValue>(value: unknown): FleetTask<T> {
  if (!isRecord(value)) throw bad('task is not an object');
  const { id, priority, payload, resources } = value;
  if (typeof id !== 'string' || id.length === 0 || id.length > 128) throw bad('task id');
  if (!('payload' in value)) throw bad('task payload missing');
  return {
    id,
    priority: parsePriority(priority),
    payload: payload as T,
    ...(resources === undefined || resources === null
      ? {}
      : { resources: parseResourceReq(resources) }),
  };
}

function taskToJson<T extends JsonValue>(task: FleetTask<T>): JsonValue {
  const out: Record<string, JsonValue> = {
    id: task.id,
    priority: task.priority,
    payload: task.payload,
  };
  if (task.resources !== undefined) {
    out['resources'] = { gpuCount: task.resources.gpuCount, vramMb: task.resources.vramMb };
  }
  return out;
}

/** Options of {@link RemoteFleetNode}. */
export interface RemoteFleetNodeOptions {
  /** The node's static capacity (for fitting). */
  readonly resources?: ResourcePool;
  /** Timeout of each call to the node. @defaultValue 5000 */
  readonly timeoutMs?: number;
}

/**
 * A fleet node in another process, reached through the coordinator's {@link Relay}. The
 * node runs {@link serveFleetNode} on its own relay.
 */
export class RemoteFleetNode<T extends JsonValue = JsonValue> implements FleetNode<T> {
  readonly nodeId: string;
  readonly resources: ResourcePool | undefined;
  readonly #relay: Relay;
  readonly #timeoutMs: number;
  readonly #listeners = new Set<(jobId: string) => void>();
  #subscription: RelaySubscription | undefined;

  /**
   * The fleet's handle on node `nodeId`, reached through `relay` (the node serves it with
   * `serveFleetNode`).
   */
  constructor(relay: Relay, nodeId: string, options: RemoteFleetNodeOptions = {}) {
    this.#relay = relay;
    this.nodeId = nonEmptyString('nodeId', nodeId, 1024);
    this.resources =
      options.resources === undefined ? undefined : parseResourcePool(options.resources);
    this.#timeoutMs = positiveNumber('timeoutMs', options.timeoutMs ?? 5000);
  }

  async enqueue(task: FleetTask<T>): Promise<void> {
    await this.#call(FLEET_MESSAGES.enqueue, taskToJson(task));
  }

  async load(): Promise<FleetNodeLoad> {
    const reply = await this.#call(FLEET_MESSAGES.load, null);
    if (
      !isRecord(reply) ||
      typeof reply['queued'] !== 'number' ||
      typeof reply['running'] !== 'number'
    ) {
      throw bad('load reply');
    }
    return { queued: reply['queued'], running: reply['running'] };
  }

  async take(jobIds: readonly string[]): Promise<FleetTask<T>[]> {
    const reply = await this.#call(FLEET_MESSAGES.take, [...jobIds]);
    if (!Array.isArray(reply)) throw bad('take reply');
    return reply.map((t) => taskFromJson<T>(t));
  }

  onDequeued(listener: (jobId: string) => void): () => void {
    this.#listeners.add(listener);
    if (this.#subscription === undefined) this.#follow();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) {
        this.#subscription?.close();
        this.#subscription = undefined;
      }
    };
  }

  #follow(): void {
    const subscription = this.#relay.subscribe();
    this.#subscription = subscription;
    void (async () => {
      for await (const { message } of subscription) {
        if (message.from !== this.nodeId || message.type !== FLEET_MESSAGES.dequeued) continue;
        if (typeof message.payload !== 'string') continue;
        for (const listener of [...this.#listeners]) listener(message.payload);
      }
    })();
  }

  async #call(type: string, payload: JsonValue): Promise<JsonValue> {
    const reply = await this.#relay.request(this.nodeId, type, payload, {
      timeoutMs: this.#timeoutMs,
    });
    return reply.payload;
  }
}

/**
 * Serves `node` to a fleet coordinator over `relay`: answers enqueue/load/take
 * requests and tells `coordinator` when a job leaves the queue. Returns a function that
 * stops serving.
 */
export function serveFleetNode<T extends JsonValue>(
  relay: Relay,
  node: FleetNode<T>,
  options: { readonly coordinator: string; readonly onError?: (error: Error) => void },
): () => void {
  const coordinator = nonEmptyString('coordinator', options.coordinator, 1024);
  const stops = [
    relay.handle(FLEET_MESSAGES.enqueue, async (m) => {
      await node.enqueue(taskFromJson<T>(m.payload));
      return null;
    }),
    relay.handle(FLEET_MESSAGES.load, async () => {
      const load = await node.load();
      return { queued: load.queued, running: load.running };
    }),
    relay.handle(FLEET_MESSAGES.take, async (m) => {
      if (!Array.isArray(m.payload) || !m.payload.every((id) => typeof id === 'string')) {
        throw bad('take expects an array of job ids');
      }
      const tasks = await node.take(m.payload);
      return tasks.map((t) => taskToJson(t));
    }),
    node.onDequeued((jobId) => {
      relay.send(coordinator, FLEET_MESSAGES.dequeued, jobId).catch((error: unknown) => {
        options.onError?.(error instanceof Error ? error : new Error(String(error)));
      });
    }),
  ];
  return () => {
    for (const stop of stops) stop();
  };
}
