import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { wrapRedisError } from './connection.js';

/** A value passed to a script as a binary-safe bulk string argument. */
export type ScriptArg = string | number | Buffer;

/**
 * A Lua script from `lua/<name>.lua`, read on first use and run with EVALSHA. On
 * NOSCRIPT (script cache flushed, failover, new server) it falls back to EVAL once,
 * which also reloads the cache. Keys and values are always passed as arguments, so no
 * caller-supplied text ever becomes part of a command or of the script source.
 *
 * @internal
 */
export class LuaScript {
  readonly name: string;
  #source: string | undefined;
  #sha: string | undefined;

  constructor(name: string) {
    this.name = name;
  }

  /** The script source (read lazily, relative to this module). */
  get source(): string {
    return this.#read().source;
  }

  /** SHA1 of the source, as the server computes it. */
  get sha(): string {
    return this.#read().sha;
  }

  #read(): { source: string; sha: string } {
    if (this.#source === undefined || this.#sha === undefined) {
      this.#source = readFileSync(new URL(`./lua/${this.name}.lua`, import.meta.url), 'utf8');
      this.#sha = createHash('sha1').update(this.#source).digest('hex');
    }
    return { source: this.#source, sha: this.#sha };
  }

  /** Runs the script: one round trip when cached, two after a NOSCRIPT. */
  async run(client: Redis, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown> {
    const sha = this.sha;
    try {
      return await client.evalsha(sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.eval(this.source, keys.length, ...keys, ...args);
    }
  }

  /** Loads the script into the server cache (so the first real call is one round trip). */
  async load(client: Redis): Promise<void> {
    await client.script('LOAD', this.source);
  }
}

/**
 * Loads `scripts` into the server's script cache (done by every `ready()`, so the first
 * call of each script is a plain EVALSHA); a failure is a typed `ERR_REDIS_*` error.
 *
 * @internal
 */
export async function loadScripts(client: Redis, scripts: readonly LuaScript[]): Promise<void> {
  try {
    await Promise.all(scripts.map((script) => script.load(client)));
  } catch (error) {
    throw wrapRedisError(error, 'SCRIPT LOAD');
  }
}
