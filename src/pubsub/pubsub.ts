import { decodeJson, encodeJson, type JsonValue } from '../core/codec.js';
import type { WaitOptions } from '../core/abort.js';
import { InvalidArgumentError, toError } from '../core/errors.js';
import { isFunction, positiveInteger } from '../core/validate.js';
import { TypedPubSub, type TypedPubSubOptions } from './typed-pubsub.js';
import type { TypedMessage } from './types.js';

/** A message of the untyped JSON hub. */
export type TopicMessage = TypedMessage<JsonValue>;

/** Options of {@link PubSub}. */
export interface PubSubOptions extends TypedPubSubOptions {
  /**
   * When set, every payload is encoded once at publish and refused (typed codec error,
   * nothing delivered) when it is not JSON or larger than this many bytes. Off by default:
   * the `JsonValue` type is then the only check.
   */
  readonly maxPayloadBytes?: number | undefined;
}

/**
 * The untyped JSON hub of the reference: `TypedPubSub<JsonValue>` with the `json` metrics
 * label and optional payload checking. The WebSocket bridge and Redis pub/sub carry its
 * {@link TopicMessage}s. Use `hub.namespace(ns)` to give each tenant an isolated view.
 *
 * @example
 * ```ts
 * const hub = new PubSub();
 * const tenant = hub.namespace(new Namespace('acme'));
 * const rx = tenant.subscribe('#');
 * tenant.publish('jobs/1/done', { ok: true });
 * hub.publish('other/jobs/1/done', { ok: false }); // not seen by rx
 * (await rx.recv()).topic; // 'jobs/1/done'
 * ```
 */
export class PubSub extends TypedPubSub<JsonValue> {
  readonly #maxPayloadBytes: number | undefined;

  /** @throws InvalidArgumentError for an invalid option. */
  constructor(options: PubSubOptions = {}) {
    super(options, 'json');
    this.#maxPayloadBytes =
      options.maxPayloadBytes === undefined
        ? undefined
        : positiveInteger('maxPayloadBytes', options.maxPayloadBytes);
  }

  /**
   * Publishes synchronously; see {@link TypedPubSub.publish}.
   *
   * @throws also `ERR_CODEC_NOT_SERIALIZABLE` / `ERR_CODEC_TOO_LARGE` with `maxPayloadBytes`.
   */
  override publish(topic: string, payload: JsonValue): number {
    if (this.#maxPayloadBytes !== undefined) encodeJson(payload, this.#maxPayloadBytes);
    return super.publish(topic, payload);
  }

  /** Publishes, waiting for `'block'` subscribers; see {@link TypedPubSub.publishAsync}. */
  override publishAsync(
    topic: string,
    payload: JsonValue,
    options: WaitOptions = {},
  ): Promise<number> {
    if (this.#maxPayloadBytes !== undefined) {
      try {
        encodeJson(payload, this.#maxPayloadBytes);
      } catch (error) {
        return Promise.reject(toError(error));
      }
    }
    return super.publishAsync(topic, payload, options);
  }
}

/**
 * Converts a typed message to a JSON one by a JSON round trip of its payload.
 *
 * @throws InvalidArgumentError (`ERR_CODEC_NOT_SERIALIZABLE`) for BigInt, cycles, functions.
 */
export function toUntyped<T>(message: TypedMessage<T>): TopicMessage {
  const payload = decodeJson(encodeJson(message.payload)) as JsonValue;
  return { topic: message.topic, payload, timestamp: message.timestamp };
}

/**
 * Converts a JSON message to a typed one with `parse` (for example a schema's `parse`);
 * a throwing `parse` becomes an InvalidArgumentError with the parser's error as `cause`.
 */
export function fromUntyped<T>(
  message: TopicMessage,
  parse: (payload: JsonValue) => T,
): TypedMessage<T> {
  isFunction('parse', parse);
  let payload: T;
  try {
    payload = parse(message.payload);
  } catch (error) {
    throw new InvalidArgumentError(`payload of ${JSON.stringify(message.topic)} did not parse`, {
      cause: error,
    });
  }
  return { topic: message.topic, payload, timestamp: message.timestamp };
}
