import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { BackendError } from '../../core/errors.js';
import { quoteIdentifier } from './identifier.js';

/**
 * Loading of `.sql` assets (read lazily, relative to this module, so they ship beside
 * the compiled code) and the one placeholder they may contain: `{{schema}}`, replaced
 * by the quoted schema identifier. Values are never substituted into SQL text; they are
 * `$n` parameters.
 *
 * @internal
 */

const PLACEHOLDER = /\{\{([^}]*)\}\}/g;

/**
 * Replaces `{{schema}}` with the quoted identifier. Any other `{{...}}` token is an
 * error, so a typo can never leave raw template text (or a half-substituted name) in SQL.
 */
export function substituteSchema(sql: string, schema: string, source: string): string {
  const quoted = quoteIdentifier(schema);
  return sql.replace(PLACEHOLDER, (_match, name: string) => {
    if (name !== 'schema') {
      throw new BackendError(`${source}: unknown placeholder {{${name}}}`, {
        code: 'ERR_POSTGRES_MIGRATION',
      });
    }
    return quoted;
  });
}

/** Reads a text asset next to this module. */
export function readAsset(relativePath: string): string {
  return readFileSync(new URL(relativePath, import.meta.url), 'utf8');
}

/** One numbered migration file. */
export interface MigrationFile {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

const MIGRATION_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** Lists `migrations/NNNN_name.sql` in version order; versions must be 1..n without gaps. */
export function loadMigrations(directory: URL): MigrationFile[] {
  const files: MigrationFile[] = [];
  for (const entry of readdirSync(directory).sort()) {
    const match = MIGRATION_NAME.exec(entry);
    if (match === null) continue;
    const sql = readFileSync(new URL(entry, directory), 'utf8');
    files.push({
      version: Number(match[1]),
      name: match[2] ?? entry,
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
    });
  }
  files.forEach((file, index) => {
    if (file.version !== index + 1) {
      throw new BackendError(
        `migrations: expected version ${index + 1}, found ${file.version} (${file.name}); versions must be contiguous`,
        { code: 'ERR_POSTGRES_MIGRATION' },
      );
    }
  });
  return files;
}

/**
 * Parses a statements file made of blocks introduced by `-- name: <id>` lines. The
 * comment lines after each name document its parameters.
 */
export function parseNamedStatements(text: string, source: string): Map<string, string> {
  const out = new Map<string, string>();
  let current: string | undefined;
  let lines: string[] = [];
  const flush = (): void => {
    if (current !== undefined) out.set(current, lines.join('\n').trim());
  };
  for (const line of text.split('\n')) {
    const match = /^--\s*name:\s*([a-zA-Z0-9_]+)\s*$/.exec(line);
    if (match !== null) {
      flush();
      current = match[1];
      lines = [];
    } else if (current !== undefined && !line.startsWith('--')) {
      lines.push(line);
    }
  }
  flush();
  if (out.size === 0) {
    throw new BackendError(`${source}: no named statements`, { code: 'ERR_POSTGRES_MIGRATION' });
  }
  return out;
}

/** Named statements of one file with the schema substituted, read on first use. */
export class StatementSet {
  readonly #file: string;
  readonly #schema: string;
  #statements: Map<string, { readonly name: string; readonly text: string }> | undefined;

  constructor(file: string, schema: string) {
    this.#file = file;
    this.#schema = schema;
  }

  /**
   * The statement called `name`, with a stable prepared-statement name derived from its
   * text, so each connection parses and plans it once instead of on every call.
   */
  get(name: string): { readonly name: string; readonly text: string } {
    if (this.#statements === undefined) {
      const parsed = parseNamedStatements(readAsset(this.#file), this.#file);
      const substituted = new Map<string, { name: string; text: string }>();
      for (const [key, sql] of parsed) {
        const text = substituteSchema(sql, this.#schema, this.#file);
        const hash = createHash('sha256').update(text).digest('hex').slice(0, 24);
        substituted.set(key, { name: `majra_${key}_${hash}`, text });
      }
      this.#statements = substituted;
    }
    const sql = this.#statements.get(name);
    if (sql === undefined) {
      throw new BackendError(`${this.#file}: no statement named ${name}`, {
        code: 'ERR_POSTGRES_MIGRATION',
      });
    }
    return sql;
  }
}
