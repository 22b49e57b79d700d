import { InvalidArgumentError } from '../core/errors.js';
import { describeValue } from '../core/validate.js';

/**
 * The five priority tiers, lowest to highest. A higher number is served first; within a
 * tier, jobs are served in arrival order.
 *
 * @example
 * ```ts
 * queue.enqueue(Priority.High, payload);
 * ```
 */
export const Priority = Object.freeze({
  Background: 0,
  Low: 1,
  Normal: 2,
  High: 3,
  Critical: 4,
} as const);

/** A priority tier: `0` (background) to `4` (critical). */
export type Priority = 0 | 1 | 2 | 3 | 4;

/** Lower-case tier names, indexed by tier number. */
export const PRIORITY_NAMES = Object.freeze([
  'background',
  'low',
  'normal',
  'high',
  'critical',
] as const);

/** A tier's lower-case name. */
export type PriorityName = (typeof PRIORITY_NAMES)[number];

/** Number of tiers (5). */
export const PRIORITY_COUNT = 5;

/** The tiers from highest to lowest: the order in which queues are scanned. */
export const PRIORITIES_DESCENDING: readonly Priority[] = Object.freeze([4, 3, 2, 1, 0]);

/** True when `value` is an integer tier 0..4. */
export function isPriority(value: unknown): value is Priority {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 4;
}

/**
 * Converts a tier number (0..4) or a lower-case tier name to a {@link Priority}.
 *
 * @throws InvalidArgumentError `ERR_QUEUE_INVALID_PRIORITY` for anything else: numbers out
 *   of range, fractions, NaN, unknown names, other types.
 */
export function parsePriority(value: unknown, name = 'priority'): Priority {
  if (isPriority(value)) return value;
  if (typeof value === 'string') {
    const index = (PRIORITY_NAMES as readonly string[]).indexOf(value);
    if (index >= 0) return index as Priority;
  }
  throw new InvalidArgumentError(
    `${name}: expected an integer from 0 to 4 or one of ${PRIORITY_NAMES.join(', ')}, got ${describeValue(value)}`,
    { code: 'ERR_QUEUE_INVALID_PRIORITY', details: { option: name } },
  );
}

/** The lower-case name of a tier (`priorityName(4) === 'critical'`). */
export function priorityName(priority: Priority): PriorityName {
  return PRIORITY_NAMES[parsePriority(priority)];
}
