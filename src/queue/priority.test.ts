import { describe, expect, it } from 'vitest';
import { isMajraError } from '../core/errors.js';
import { isPriority, parsePriority, Priority, priorityName, PRIORITY_NAMES } from './priority.js';

describe('Priority', () => {
  it('has five tiers, background lowest', () => {
    expect(Object.values(Priority)).toEqual([0, 1, 2, 3, 4]);
    expect(PRIORITY_NAMES).toEqual(['background', 'low', 'normal', 'high', 'critical']);
    expect(priorityName(Priority.Critical)).toBe('critical');
  });

  it('parses tier numbers and names', () => {
    expect(parsePriority(0)).toBe(0);
    expect(parsePriority(4)).toBe(4);
    expect(parsePriority('high')).toBe(3);
    expect(isPriority(2)).toBe(true);
  });

  it.each([5, -1, 1.5, Number.NaN, Infinity, '2', 'High', null, undefined, {}])(
    'refuses %s with ERR_QUEUE_INVALID_PRIORITY',
    (value) => {
      expect(isPriority(value)).toBe(false);
      let caught: unknown;
      try {
        parsePriority(value);
      } catch (error) {
        caught = error;
      }
      expect(isMajraError(caught, 'ERR_QUEUE_INVALID_PRIORITY')).toBe(true);
    },
  );
});
