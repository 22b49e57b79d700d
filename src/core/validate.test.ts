import { describe, expect, it } from 'vitest';
import {
  describeValue,
  hasControlCharacter,
  integerInRange,
  isFunction,
  nonEmptyString,
  nonNegativeInteger,
  nonNegativeNumber,
  optionalSignal,
  positiveInteger,
  positiveNumber,
} from './validate.js';

const badNumbers = [Number.NaN, Infinity, -Infinity, -1, 0.5, '1', null, undefined, 1n];

describe('validate', () => {
  it.each(badNumbers)('positiveInteger refuses %o', (v) => {
    expect(() => positiveInteger('capacity', v)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });

  it('positiveInteger accepts in range and refuses 0 and above max', () => {
    expect(positiveInteger('n', 1)).toBe(1);
    expect(() => positiveInteger('n', 0)).toThrow(/n: expected an integer from 1 to/);
    expect(() => positiveInteger('n', 11, 10)).toThrow(/got 11/);
  });

  it('nonNegativeInteger and integerInRange', () => {
    expect(nonNegativeInteger('n', 0)).toBe(0);
    expect(() => nonNegativeInteger('n', -1)).toThrow();
    expect(integerInRange('n', 5, 5, 5)).toBe(5);
    expect(() => integerInRange('n', 4, 5, 6)).toThrow();
  });

  it('positiveNumber refuses NaN, infinities, zero and negatives', () => {
    for (const v of [Number.NaN, Infinity, 0, -0.1, '2']) {
      expect(() => positiveNumber('rate', v)).toThrow(
        /rate: expected a finite number greater than 0/,
      );
    }
    expect(positiveNumber('rate', 0.001)).toBe(0.001);
    expect(nonNegativeNumber('n', 0)).toBe(0);
    expect(() => nonNegativeNumber('n', Number.NaN)).toThrow();
  });

  it('strings, functions and signals', () => {
    expect(() => nonEmptyString('id', '')).toThrow();
    expect(() => nonEmptyString('id', 'abc', 2)).toThrow();
    expect(nonEmptyString('id', 'ab', 2)).toBe('ab');
    expect(() => isFunction('filter', 'x')).toThrow(/filter: expected a function, got "x"/);
    expect(() => optionalSignal('signal', {})).toThrow();
    expect(optionalSignal('signal', undefined)).toBeUndefined();
  });

  it('describeValue keeps messages short', () => {
    expect(describeValue('x'.repeat(1000)).length).toBeLessThan(80);
    expect(describeValue([1, 2])).toBe('an array of length 2');
    expect(describeValue(() => 1)).toBe('a function');
  });

  it('hasControlCharacter', () => {
    expect(hasControlCharacter('a\u0000b')).toBe(true);
    expect(hasControlCharacter('a\u007fb')).toBe(true);
    expect(hasControlCharacter('a\nb')).toBe(true);
    expect(hasControlCharacter('plain-text é')).toBe(false);
  });
});
