import { InvalidArgumentError } from './errors.js';
import { describeValue, hasControlCharacter } from './validate.js';

/** Longest accepted namespace prefix. */
export const MAX_NAMESPACE_PREFIX_LENGTH = 128;

// `/` and `:` are the delimiters; `+ * #` are topic wildcards. Any of them in a prefix
// would let one tenant's pattern reach into another's topics or keys (the reference
// documented that leak for `a` vs `a/b`), so they are refused outright.
const FORBIDDEN = /[/:+*#]/;

/**
 * A tenant scope. Topics become `<prefix>/<topic>`, keys and node ids `<prefix>:<key>`.
 * Prefixes are validated, so no tenant's wildcard can ever reach another tenant's topics.
 *
 * @example
 * ```ts
 * const ns = new Namespace('tenant-42');
 * ns.topic('events/created'); // 'tenant-42/events/created'
 * ns.stripTopic('tenant-42/events/created'); // 'events/created'
 * ```
 */
export class Namespace {
  /** The tenant prefix. */
  readonly prefix: string;
  readonly #topicPrefix: string;
  readonly #keyPrefix: string;

  /** @throws InvalidArgumentError (`ERR_NAMESPACE_INVALID_PREFIX`) for an unsafe prefix. */
  constructor(prefix: string) {
    if (
      typeof prefix !== 'string' ||
      prefix.length === 0 ||
      prefix.length > MAX_NAMESPACE_PREFIX_LENGTH ||
      FORBIDDEN.test(prefix) ||
      hasControlCharacter(prefix)
    ) {
      throw new InvalidArgumentError(
        `namespace prefix: expected 1 to ${MAX_NAMESPACE_PREFIX_LENGTH} characters without '/', ':', '+', '*', '#' or control characters, got ${describeValue(prefix)}`,
        { code: 'ERR_NAMESPACE_INVALID_PREFIX' },
      );
    }
    this.prefix = prefix;
    this.#topicPrefix = `${prefix}/`;
    this.#keyPrefix = `${prefix}:`;
  }

  /** `<prefix>/<topic>`. */
  topic(topic: string): string {
    return this.#topicPrefix + topic;
  }

  /** `<prefix>/<pattern>`: a pattern scoped to this tenant. */
  pattern(pattern: string): string {
    return this.#topicPrefix + pattern;
  }

  /** `<prefix>/#`: every topic of this tenant. */
  wildcard(): string {
    return `${this.#topicPrefix}#`;
  }

  /** `<prefix>:<key>`. */
  key(key: string): string {
    return this.#keyPrefix + key;
  }

  /** `<prefix>:<id>`. */
  nodeId(id: string): string {
    return this.#keyPrefix + id;
  }

  /** True when `topic` belongs to this tenant. */
  ownsTopic(topic: string): boolean {
    return topic.startsWith(this.#topicPrefix);
  }

  /** The topic without this tenant's prefix, or undefined when it belongs to another. */
  stripTopic(topic: string): string | undefined {
    return topic.startsWith(this.#topicPrefix) ? topic.slice(this.#topicPrefix.length) : undefined;
  }

  /** The key without this tenant's prefix, or undefined when it belongs to another. */
  stripKey(key: string): string | undefined {
    return key.startsWith(this.#keyPrefix) ? key.slice(this.#keyPrefix.length) : undefined;
  }

  /** True when both have the same prefix. */
  equals(other: Namespace): boolean {
    return other.prefix === this.prefix;
  }

  /** The prefix. */
  toString(): string {
    return this.prefix;
  }
}
