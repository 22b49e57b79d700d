import { describe, expect, it } from 'vitest';
import { isMajraError } from '../../core/errors.js';
import { quoteIdentifier, validateSchemaName } from './identifier.js';
import { backoffDelay, encodeValue, validateJobId, validateQueueName } from './job-codec.js';
import { bundledMigrations } from './migrate.js';
import { parseNamedStatements, substituteSchema } from './sql-file.js';

const INJECTIONS = [
  'x"; DROP TABLE majra_jobs; --',
  "x'; DROP SCHEMA public CASCADE; --",
  'pg_catalog',
  'a b',
  '1abc',
  '',
  'a'.repeat(64),
  'ünïcode',
  'x\0y',
  '$1',
];

describe('schema names and identifier quoting', () => {
  it.each(INJECTIONS)('refuses %j as a schema name with ERR_POSTGRES_INVALID_SCHEMA', (name) => {
    let caught: unknown;
    try {
      validateSchemaName(name);
    } catch (error) {
      caught = error;
    }
    expect(isMajraError(caught, 'ERR_POSTGRES_INVALID_SCHEMA')).toBe(true);
  });

  it('accepts plain identifiers, including mixed case and 63 bytes', () => {
    expect(validateSchemaName('majra')).toBe('majra');
    expect(validateSchemaName('Jobs_2')).toBe('Jobs_2');
    expect(validateSchemaName('_'.repeat(63))).toBe('_'.repeat(63));
  });

  it('quotes identifiers by doubling embedded quotes and refuses NUL', () => {
    expect(quoteIdentifier('a"b')).toBe('"a""b"');
    expect(quoteIdentifier('x"; DROP TABLE t; --')).toBe('"x""; DROP TABLE t; --"');
    expect(() => quoteIdentifier('a\0b')).toThrow();
    expect(() => quoteIdentifier('')).toThrow();
  });

  it('substitutes only {{schema}} and refuses unknown placeholders', () => {
    expect(substituteSchema('SELECT * FROM {{schema}}.t', 'My"S', 'f')).toBe(
      'SELECT * FROM "My""S".t',
    );
    expect(() => substituteSchema('SELECT {{payload}}', 's', 'f')).toThrow(/unknown placeholder/);
  });
});

describe('SQL assets', () => {
  it('parses named statement blocks without their comment lines', () => {
    const parsed = parseNamedStatements(
      '-- header\n-- name: a\n-- $1 x\nSELECT 1\n\n-- name: b\nSELECT 2\n',
      'f',
    );
    expect([...parsed.entries()]).toEqual([
      ['a', 'SELECT 1'],
      ['b', 'SELECT 2'],
    ]);
    expect(() => parseNamedStatements('SELECT 1', 'f')).toThrow();
  });

  it('bundles contiguous numbered migrations with documented headers', () => {
    const files = bundledMigrations();
    expect(files.length).toBeGreaterThanOrEqual(1);
    files.forEach((file, index) => {
      expect(file.version).toBe(index + 1);
      expect(file.sql.startsWith(`-- Migration ${String(file.version).padStart(4, '0')}`)).toBe(
        true,
      );
      expect(file.checksum).toMatch(/^[0-9a-f]{64}$/);
    });
  });
});

describe('job value validation', () => {
  it('refuses non-serialisable and oversize payloads with codec codes', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    const codeOf = (fn: () => unknown): unknown => {
      try {
        fn();
      } catch (error) {
        return (error as { code?: unknown }).code;
      }
      return undefined;
    };
    expect(codeOf(() => encodeValue(cyclic, 1000, 'payload'))).toBe('ERR_CODEC_NOT_SERIALIZABLE');
    expect(codeOf(() => encodeValue(10n, 1000, 'payload'))).toBe('ERR_CODEC_NOT_SERIALIZABLE');
    expect(codeOf(() => encodeValue(undefined, 1000, 'payload'))).toBe(
      'ERR_CODEC_NOT_SERIALIZABLE',
    );
    expect(codeOf(() => encodeValue('é'.repeat(600), 1000, 'payload'))).toBe('ERR_CODEC_TOO_LARGE');
    expect(encodeValue({ "'; DROP": 1 }, 1000, 'payload')).toBe('{"\'; DROP":1}');
  });

  it('validates queue names and job ids', () => {
    expect(validateQueueName("q'; DROP TABLE x; --")).toBe("q'; DROP TABLE x; --");
    expect(() => validateQueueName('')).toThrow(/queue/);
    expect(() => validateQueueName('a\nb')).toThrow(/queue/);
    expect(() => validateQueueName('x'.repeat(201))).toThrow(/queue/);
    expect(validateJobId('42')).toBe('42');
    for (const bad of ['0', '-1', '1 OR 1=1', '01', '99999999999999999999', 1]) {
      expect(() => validateJobId(bad)).toThrow(/id/);
    }
  });

  it('computes exponential and fixed backoff with caps and jitter', () => {
    const policy = { type: 'exponential' as const, delayMs: 100, maxDelayMs: 1000, jitter: 0 };
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(policy, a))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffDelay({ ...policy, type: 'fixed' }, 7)).toBe(100);
    expect(backoffDelay({ ...policy, jitter: 0.5 }, 1, () => 1)).toBe(50);
  });
});
