import { InvalidArgumentError } from '../../core/errors.js';
import { describeValue } from '../../core/validate.js';

/**
 * SQL identifiers for the PostgreSQL backend. Schema names cannot be bound as `$n`
 * parameters, so they are validated to plain identifiers AND quoted with
 * {@link quoteIdentifier}; everything else a caller supplies travels as a parameter.
 *
 * @internal
 */

const PLAIN_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The schema majra uses when none is configured. */
export const DEFAULT_SCHEMA = 'majra';

/**
 * Returns `name` when it is a plain identifier PostgreSQL accepts as a schema name:
 * ASCII letters, digits and `_`, not starting with a digit, at most 63 bytes, and not
 * starting with the reserved `pg_` prefix. Anything else throws
 * `ERR_POSTGRES_INVALID_SCHEMA`.
 */
export function validateSchemaName(name: unknown): string {
  if (
    typeof name !== 'string' ||
    name.length > 63 ||
    !PLAIN_IDENTIFIER.test(name) ||
    name.toLowerCase().startsWith('pg_')
  ) {
    throw new InvalidArgumentError(
      `schema: expected a plain identifier ([A-Za-z_][A-Za-z0-9_]*, at most 63 bytes, not pg_*), got ${describeValue(name)}`,
      { code: 'ERR_POSTGRES_INVALID_SCHEMA', details: { option: 'schema' } },
    );
  }
  return name;
}

/**
 * Quotes an identifier for PostgreSQL: wraps it in double quotes and doubles every
 * embedded double quote. NUL cannot appear in an identifier and is refused.
 */
export function quoteIdentifier(name: string): string {
  if (name.length === 0 || name.includes('\0')) {
    throw new InvalidArgumentError(
      `identifier: expected a non-empty string without NUL, got ${describeValue(name)}`,
    );
  }
  return `"${name.replaceAll('"', '""')}"`;
}
