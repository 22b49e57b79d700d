/**
 * Command-line parsing on `node:util` parseArgs: strict (unknown flags and stray
 * positionals are usage errors) and typed number checks with one-line messages.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { usageError } from './errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses `argv` against `options`; every parse failure becomes a usage error (exit 2). */
export function parseFlags<O extends Options>(
  command: string,
  argv: readonly string[],
  options: O,
): ReturnType<typeof parseArgs<{ options: O; strict: true; allowNegative: true }>>['values'] {
  try {
    return parseArgs({
      args: [...argv],
      options,
      strict: true,
      allowPositionals: false,
      allowNegative: true,
    }).values;
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw usageError(`majra ${command}: ${message ?? 'bad arguments'}`);
  }
}

/** An integer flag in [min, max]; `undefined` gives `fallback`. */
export function intFlag(
  command: string,
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw usageError(
      `majra ${command}: --${name} must be an integer from ${min} to ${max}, got '${raw}'`,
    );
  }
  return value;
}

/** A service URL flag with one of `protocols`. */
export function urlFlag(
  command: string,
  name: string,
  raw: string | undefined,
  protocols: readonly string[],
): string | undefined {
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usageError(`majra ${command}: --${name} must be a URL, got '${raw}'`);
  }
  if (!protocols.includes(url.protocol)) {
    throw usageError(
      `majra ${command}: --${name} must start with ${protocols.map((p) => `${p}//`).join(' or ')}, got '${raw}'`,
    );
  }
  return raw;
}
