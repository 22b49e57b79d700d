import type { Redis } from 'ioredis';
import { sleep, waitFor } from '../../core/abort.js';
import type { Clock } from '../../core/clock.js';
import { decodeJson } from '../../core/codec.js';
import { BackendError, ProtocolError, toError } from '../../core/errors.js';
import type { ReceiverSource } from '../../pubsub/receiver.js';
import { matchValidated, validateTopic } from '../../pubsub/topic.js';
import type { TypedMessage } from '../../pubsub/types.js';
import { quitQuietly, replyUnless, wrapRedisError } from './connection.js';

/** A message of a durable (Redis Streams) subscription; acknowledge it once handled. */
export interface RedisStreamMessage<T> extends TypedMessage<T> {
  /** The stream entry id (`<ms>-<seq>`), unique within the bus. */
  readonly id: string;
  /** The consumer group (durable subscription) it was delivered to. */
  readonly group: string;
  /**
   * True when it may have been delivered before: read back from this consumer's pending
   * list after a reconnect or restart, or claimed from a consumer that stopped acking.
   */
  readonly redelivered: boolean;
}

/** What a reader needs from its bus. @internal */
export interface StreamReaderHost {
  readonly key: string;
  /** The shared command connection (acks of skipped entries). */
  readonly client: Redis;
  readonly clock: Clock;
  readonly maxBytes: number;
  report(error: Error, component: string): void;
  count(event: string, n: number): void;
  bind(message: object, reader: StreamReader<unknown>): void;
  /** Called once when the reader ended by itself: the bus forgets and stops it. */
  release(reader: StreamReader<unknown>): void;
}

/** Settings of one durable subscription. @internal */
export interface StreamReaderConfig {
  readonly pattern: string;
  readonly group: string;
  readonly consumer: string;
  readonly capacity: number;
  readonly maxUnacked: number;
  readonly claimIdleMs: number;
  readonly blockMs: number;
  readonly consumerIdleMs: number;
}

type RawEntry = readonly [id: string, fields: readonly string[] | null];

const RETRY_MAX_MS = 1000;

function isEntry(value: unknown): value is RawEntry {
  return (
    Array.isArray(value) &&
    typeof value[0] === 'string' &&
    (value[1] === null || Array.isArray(value[1]))
  );
}

function entriesOf(list: unknown): RawEntry[] {
  if (!Array.isArray(list)) return [];
  return list.filter(isEntry);
}

/**
 * XREADGROUP reply (one stream) -> entries; null (timeout) -> []. RESP2 answers
 * `[[key, entries]]`; RESP3 (ioredis 6 negotiates it) a map that ioredis flattens to
 * `[key, entries]`.
 */
function parseRead(reply: unknown): RawEntry[] {
  if (!Array.isArray(reply)) return [];
  const first: unknown = reply[0];
  if (typeof first === 'string') return entriesOf(reply[1]);
  return Array.isArray(first) ? entriesOf(first[1]) : [];
}

/**
 * The loop of one durable subscription, on its own connection (XREADGROUP BLOCK holds it).
 * Each turn it first re-reads this consumer's pending entries when the connection may
 * have dropped (a reply lost on the wire leaves entries pending), claims entries idle
 * longer than `claimIdleMs` from any consumer of the group (XAUTOCLAIM: dead consumers'
 * entries), then blocks for new ones. It only asks for as many entries as the receiver
 * and the unacked budget have room for, so a slow consumer slows the reads instead of
 * losing messages.
 *
 * @internal
 */
export class StreamReader<T> {
  readonly config: StreamReaderConfig;
  /** Ids delivered to the receiver and not acknowledged yet (bounded by maxUnacked). */
  readonly unacked = new Set<string>();
  readonly #host: StreamReaderHost;
  readonly #source: ReceiverSource<RedisStreamMessage<T>>;
  readonly #conn: Redis;
  readonly #stop = new AbortController();
  #needHistory = true;
  #historyFrom = '0';
  #claimCursor = '0-0';
  #nextClaimAt = 0;
  #nextReapAt = 0;
  #ackWake: (() => void) | undefined;
  #done: Promise<void> = Promise.resolve();

  constructor(
    host: StreamReaderHost,
    config: StreamReaderConfig,
    source: ReceiverSource<RedisStreamMessage<T>>,
  ) {
    this.#host = host;
    this.config = config;
    this.#source = source;
    this.#conn = host.client.duplicate({ commandTimeout: undefined });
    this.#conn.on('error', () => undefined); // surfaced through the failing reads
    // A reply in flight when the connection drops is lost, but its entries are already
    // in this consumer's pending list: read them back before anything new.
    this.#conn.on('close', () => this.#rereadHistory());
  }

  /** Starts the read loop (once). */
  start(): void {
    this.#done = this.#loop();
  }

  /** True once `stop()` was called. */
  get stopped(): boolean {
    return this.#stop.signal.aborted;
  }

  #isStopped(): boolean {
    return this.#stop.signal.aborted;
  }

  /** Notes acknowledged ids and wakes a read paused on the unacked budget. */
  acked(ids: readonly string[]): void {
    for (const id of ids) this.unacked.delete(id);
    const wake = this.#ackWake;
    this.#ackWake = undefined;
    wake?.();
  }

  /**
   * An XACK of these ids failed: whether Redis applied it is unknown, so they are no longer
   * counted as held by the receiver, and this consumer's pending list is read again. One
   * still pending is delivered again (at least once); without this it would be skipped as
   * "still with the receiver" forever and hold a slot of the unacked budget.
   */
  ackFailed(ids: readonly string[]): void {
    this.acked(ids);
    this.#rereadHistory();
  }

  #rereadHistory(): void {
    this.#needHistory = true;
    this.#historyFrom = '0';
  }

  /** A command on the reading connection that stop() does not wait for (see replyUnless). */
  #call(command: string, ...args: (string | number)[]): Promise<unknown> {
    return replyUnless(this.#conn.call(command, ...args), command, this.#stop.signal);
  }

  /**
   * Stops reading and ends the receiver (it drains what it holds). Unacknowledged entries
   * stay pending in the group; the consumer is removed when it holds none.
   */
  async stop(): Promise<void> {
    if (this.stopped) return this.#done;
    this.#stop.abort();
    this.#source.end();
    this.#conn.disconnect(); // interrupts a blocked XREADGROUP
    await this.#done;
    await quitQuietly(this.#conn);
    const { key } = this.#host;
    const { group, consumer } = this.config;
    try {
      const pending = await this.#host.client.call('XPENDING', key, group, '-', '+', 1, consumer);
      if (Array.isArray(pending) && pending.length === 0) {
        await this.#host.client.call('XGROUP', 'DELCONSUMER', key, group, consumer);
      }
    } catch (error) {
      // NOGROUP: the group is gone, and this consumer with it.
      if (error instanceof Error && error.message.startsWith('NOGROUP')) return;
      this.#host.report(wrapRedisError(error, 'XGROUP DELCONSUMER'), 'stream_close');
    }
  }

  async #loop(): Promise<void> {
    let failures = 0;
    while (!this.stopped && !this.#source.isClosed) {
      try {
        const room = await this.#waitRoom();
        if (room === 0) continue;
        if (this.#needHistory) await this.#readHistory(room);
        else if (this.#host.clock.monotonic() >= this.#nextClaimAt) await this.#claim(room);
        else await this.#readNew(room);
        failures = 0;
      } catch (error) {
        // A method call, not the narrowed getter: stop() may have run during the await.
        if (this.#isStopped()) return;
        if (error instanceof Error && error.message.startsWith('NOGROUP')) {
          // The group (or the stream) was deleted: this subscription is over. The bus
          // then stops this reader (closing its connection) once the loop has returned.
          this.#source.fail(wrapRedisError(error, 'XREADGROUP'));
          this.#host.release(this);
          return;
        }
        failures++;
        this.#rereadHistory();
        this.#host.report(wrapRedisError(error, 'stream read'), 'stream_read');
        const delay = Math.min(RETRY_MAX_MS, 25 * 2 ** failures);
        await sleep(delay, { signal: this.#stop.signal, clock: this.#host.clock }).catch(
          () => undefined,
        );
      }
    }
  }

  /** Free slots: receiver space and unacked budget. Waits while both are used up. */
  async #waitRoom(): Promise<number> {
    const { capacity, maxUnacked } = this.config;
    const room = Math.min(capacity - this.#source.pending, maxUnacked - this.unacked.size);
    if (room > 0) return room;
    const signal = this.#stop.signal;
    if (this.unacked.size >= maxUnacked) {
      await waitFor<undefined>(
        (resolve) => {
          this.#ackWake = () => resolve(undefined);
          return () => (this.#ackWake = undefined);
        },
        { signal, what: 'stream ack' },
      );
    } else {
      await this.#source.waitForSpace({ signal });
    }
    return 0;
  }

  async #readHistory(room: number): Promise<void> {
    const { group, consumer } = this.config;
    const reply = await this.#call(
      'XREADGROUP',
      'GROUP',
      group,
      consumer,
      'COUNT',
      room,
      'STREAMS',
      this.#host.key,
      this.#historyFrom,
    );
    const entries = parseRead(reply);
    const last = entries.at(-1);
    if (last === undefined) {
      this.#needHistory = false;
      this.#historyFrom = '0';
      return;
    }
    this.#historyFrom = last[0];
    await this.#deliver(entries, true);
  }

  async #readNew(room: number): Promise<void> {
    const { group, consumer, blockMs } = this.config;
    const untilClaim = this.#nextClaimAt - this.#host.clock.monotonic();
    const block = Math.max(1, Math.min(blockMs, Math.ceil(untilClaim)));
    const reply = await this.#call(
      'XREADGROUP',
      'GROUP',
      group,
      consumer,
      'COUNT',
      room,
      'BLOCK',
      block,
      'STREAMS',
      this.#host.key,
      '>',
    );
    await this.#deliver(parseRead(reply), false);
  }

  /** One XAUTOCLAIM step; a finished sweep schedules the next one half a claimIdleMs later. */
  async #claim(room: number): Promise<void> {
    const { group, consumer, claimIdleMs } = this.config;
    const reply = await this.#call(
      'XAUTOCLAIM',
      this.#host.key,
      group,
      consumer,
      claimIdleMs,
      this.#claimCursor,
      'COUNT',
      room,
    );
    const [cursor, claimed, deleted] = Array.isArray(reply) ? (reply as unknown[]) : [];
    this.#claimCursor = typeof cursor === 'string' ? cursor : '0-0';
    const gone = Array.isArray(deleted) ? deleted.filter((d) => typeof d === 'string') : [];
    if (gone.length > 0) this.#lost(gone.length); // XAUTOCLAIM already dropped them
    await this.#deliver(entriesOf(claimed), true);
    if (this.#claimCursor !== '0-0') return;
    const now = this.#host.clock.monotonic();
    this.#nextClaimAt = now + Math.max(10, claimIdleMs / 2);
    if (now >= this.#nextReapAt) {
      this.#nextReapAt = now + this.config.consumerIdleMs;
      await this.#reap();
    }
  }

  /**
   * Deletes consumers of the group that hold nothing and were idle for consumerIdleMs
   * (processes that died after their entries were claimed), so the consumer list stays
   * bounded. A live consumer re-reads at least every blockMs, so it is never idle that
   * long, and one deleted anyway is recreated by its next read with nothing lost.
   */
  async #reap(): Promise<void> {
    const { group, consumer, consumerIdleMs } = this.config;
    const info = await this.#call('XINFO', 'CONSUMERS', this.#host.key, group);
    if (!Array.isArray(info)) return;
    for (const row of info as unknown[]) {
      if (!Array.isArray(row)) continue;
      const fields = new Map<string, unknown>();
      for (let i = 0; i + 1 < row.length; i += 2) fields.set(String(row[i]), row[i + 1]);
      const name = fields.get('name');
      if (typeof name !== 'string' || name === consumer) continue;
      if (Number(fields.get('pending')) !== 0 || Number(fields.get('idle')) < consumerIdleMs) {
        continue;
      }
      await this.#call('XGROUP', 'DELCONSUMER', this.#host.key, group, name);
    }
  }

  async #deliver(entries: readonly RawEntry[], redelivered: boolean): Promise<void> {
    const settle: string[] = [];
    let trimmed = 0;
    for (const [id, fields] of entries) {
      if (this.unacked.has(id)) continue; // still with our receiver
      if (fields === null) {
        // Pending, but trimmed from the stream (maxLength) before it was acknowledged.
        trimmed++;
        settle.push(id);
        continue;
      }
      const message = this.#decode(id, fields, redelivered);
      if (message === undefined || !matchValidated(this.config.pattern, message.topic)) {
        settle.push(id); // not for this subscription (or not ours): acknowledge and move on
        continue;
      }
      this.unacked.add(id);
      this.#host.bind(message, this);
      this.#source.push(message);
      this.#host.count(redelivered ? 'redelivered' : 'delivered', 1);
    }
    if (trimmed > 0) this.#lost(trimmed);
    if (settle.length === 0) return;
    await this.#host.client.call('XACK', this.#host.key, this.config.group, ...settle);
    this.#host.count('skipped', settle.length - trimmed);
  }

  #decode(
    id: string,
    fields: readonly string[],
    redelivered: boolean,
  ): RedisStreamMessage<T> | undefined {
    let topic: string | undefined;
    let body: string | undefined;
    let timestamp = 0;
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const value = fields[i + 1];
      if (fields[i] === 't') topic = value;
      else if (fields[i] === 'p') body = value;
      else if (fields[i] === 'ts') timestamp = Number(value);
    }
    try {
      if (topic === undefined || body === undefined) {
        throw new ProtocolError(`stream entry ${id} is not a majra pub/sub entry`, {
          code: 'ERR_REDIS_MALFORMED_REPLY',
        });
      }
      validateTopic(topic);
      const payload = decodeJson(body, this.#host.maxBytes) as T;
      const { group } = this.config;
      return { id, group, topic, payload, timestamp, redelivered };
    } catch (error) {
      this.#host.report(toError(error), 'stream_decode');
      return undefined;
    }
  }

  #lost(count: number): void {
    this.#host.count('lost', count);
    this.#host.report(
      new BackendError(
        `redis: ${count} pending entr${count === 1 ? 'y' : 'ies'} of group "${this.config.group}" trimmed from the stream before acknowledgement (raise maxLength)`,
        { code: 'ERR_REDIS_STREAM_TRIMMED', details: { count } },
      ),
      'stream_trimmed',
    );
  }
}
