/**
 * The demo's data directory: an exclusive lock (one demo per directory), a stable
 * engine id (so a restarted demo reclaims its own leases at once, even after SIGKILL),
 * the session file naming the runs being worked on (so a restart resumes them instead
 * of starting new ones), and the execution journal.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { CliError, EXIT } from '../errors.js';

/** The runs one demo session works on. */
export interface SessionFile {
  readonly runIds: readonly string[];
  readonly shards: number;
  readonly startedAt: number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

/** An opened, locked data directory. */
export class DataDir {
  readonly path: string;
  readonly engineId: string;
  #locked = false;

  private constructor(path: string, engineId: string) {
    this.path = path;
    this.engineId = engineId;
  }

  /** Creates the directory if needed and takes its lock. */
  static open(dir: string): DataDir {
    const path = resolve(dir);
    try {
      mkdirSync(path, { recursive: true });
    } catch (error) {
      throw new CliError(
        `cannot create data directory ${path}: ${(error as Error).message}`,
        EXIT.unavailable,
      );
    }
    DataDir.#lock(path);
    const idFile = join(path, 'engine-id');
    let engineId: string;
    try {
      engineId = readFileSync(idFile, 'utf8').trim();
    } catch {
      engineId = '';
    }
    if (engineId === '') {
      engineId = `demo-${randomUUID()}`;
      writeFileSync(idFile, `${engineId}\n`);
    }
    const dataDir = new DataDir(path, engineId);
    dataDir.#locked = true;
    return dataDir;
  }

  static #lock(path: string): void {
    const lockFile = join(path, 'demo.pid');
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(lockFile, 'wx');
        writeSync(fd, `${process.pid}\n`);
        closeSync(fd);
        return;
      } catch (error) {
        if ((error as { code?: string }).code !== 'EEXIST') {
          throw new CliError(`cannot lock ${lockFile}: ${(error as Error).message}`, EXIT.failure);
        }
      }
      const pid = Number.parseInt(readFileSync(lockFile, 'utf8'), 10);
      if (Number.isSafeInteger(pid) && pid !== process.pid && alive(pid)) {
        throw new CliError(`another majra demo (pid ${pid}) is using ${path}`, EXIT.busy);
      }
      rmSync(lockFile, { force: true }); // left behind by a killed demo
    }
    throw new CliError(`cannot lock ${lockFile}`, EXIT.busy);
  }

  /** The demo's SQLite file. */
  get databaseFile(): string {
    return join(this.path, 'demo.db');
  }

  /** The session being worked on, if any. */
  readSession(): SessionFile | undefined {
    try {
      const parsed = JSON.parse(readFileSync(join(this.path, 'session.json'), 'utf8')) as unknown;
      const s = parsed as Partial<SessionFile>;
      if (Array.isArray(s.runIds) && typeof s.shards === 'number') return s as SessionFile;
    } catch {
      // none, or unreadable: start a new session
    }
    return undefined;
  }

  /** Records a new session (before its runs start, so a crash cannot lose them). */
  writeSession(session: SessionFile): void {
    const file = join(this.path, 'session.json');
    writeFileSync(`${file}.tmp`, JSON.stringify(session));
    renameSync(`${file}.tmp`, file);
    rmSync(join(this.path, 'executions.log'), { force: true });
  }

  /** Forgets the finished session. */
  clearSession(): void {
    rmSync(join(this.path, 'session.json'), { force: true });
  }

  /** Appends one line to the execution journal (synchronously: it must survive SIGKILL). */
  journal(line: string): void {
    appendFileSync(join(this.path, 'executions.log'), `${line}\n`);
  }

  /** Releases the lock. */
  close(): void {
    if (!this.#locked) return;
    this.#locked = false;
    rmSync(join(this.path, 'demo.pid'), { force: true });
  }
}
