/**
 * The terminal view of the demo. On a TTY: bars per workflow run, queue and node,
 * redrawn in place by moving the cursor up over the previous frame and rewriting each
 * line (no screen clear, so no flicker). Elsewhere (a pipe, a log file): one plain line
 * per event, no escape codes.
 *
 * @module
 */
import type { WorkflowEvent } from '../workflow/events.js';
import type { Snapshot } from './snapshot.js';

const ESC = '\u001b[';

function bar(done: number, total: number, width: number): string {
  const filled = total <= 0 ? 0 : Math.round((Math.min(done, total) / total) * width);
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

function pad(text: string, width: number): string {
  return text.length >= width ? text.slice(0, width) : text + ' '.repeat(width - text.length);
}

/** A writable the view draws on. */
export interface ViewStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** Renders snapshots and events to a terminal or a plain stream. */
export class ProgressView {
  readonly #out: ViewStream;
  readonly #tty: boolean;
  readonly #color: boolean;
  #lines = 0;
  #header: string[] = [];

  constructor(out: ViewStream, options: { readonly color?: boolean } = {}) {
    this.#out = out;
    this.#tty = out.isTTY === true;
    this.#color = this.#tty && (options.color ?? process.env['NO_COLOR'] === undefined);
  }

  /** Whether frames are drawn in place. */
  get live(): boolean {
    return this.#tty;
  }

  /** Lines printed once above the live frame (or once, in plain mode). */
  header(lines: string[]): void {
    if (this.#tty) this.#header = lines;
    else for (const line of lines) this.#out.write(`${line}\n`);
  }

  /** A one-off message (printed above the live frame on a TTY). */
  log(line: string): void {
    if (this.#tty) {
      this.#erase();
      this.#out.write(`${line}\n`);
      this.#lines = 0;
    } else {
      this.#out.write(`${line}\n`);
    }
  }

  /** Plain mode: one line per engine event. */
  event(event: WorkflowEvent): void {
    if (this.#tty) return;
    const run = event.runId;
    if (event.type === 'run') {
      const how = event.resumed && event.status === 'running' ? 'resumed' : event.status;
      this.#out.write(`run ${run} ${how}${event.error === null ? '' : `: ${event.error}`}\n`);
    } else if (event.status !== 'pending' || event.retryInMs !== null) {
      const retry = event.retryInMs === null ? '' : ` retry in ${event.retryInMs} ms`;
      const error = event.error === null ? '' : ` (${event.error})`;
      this.#out.write(
        `step ${run} ${event.stepId} ${event.status} attempt=${event.attempt}${retry}${error}\n`,
      );
    }
  }

  /** TTY mode: redraws the frame for `snapshot`. */
  frame(snapshot: Snapshot): void {
    if (!this.#tty) return;
    const width = Math.max(40, (this.#out.columns ?? 100) - 1);
    const lines = [...this.#header, ...this.#render(snapshot)].map((l) => this.#fit(l, width));
    let text = this.#lines > 0 ? `${ESC}${this.#lines}F` : '';
    for (const line of lines) text += `${ESC}2K${line}\n`;
    if (lines.length < this.#lines) text += `${ESC}0J`;
    this.#out.write(`${ESC}?25l${text}`);
    this.#lines = lines.length;
  }

  /** Restores the cursor and leaves the last frame on screen (later lines go below it). */
  stop(): void {
    if (this.#tty) this.#out.write(`${ESC}?25h`);
    this.#lines = 0;
  }

  #erase(): void {
    if (this.#lines > 0) this.#out.write(`${ESC}${this.#lines}F${ESC}0J`);
  }

  #fit(line: string, width: number): string {
    // Escape sequences take no columns: count only printable characters.
    let visible = 0;
    let out = '';
    for (let i = 0; i < line.length; i++) {
      if (line[i] === '\u001b') {
        const end = line.indexOf('m', i);
        out += line.slice(i, end + 1);
        i = end;
        continue;
      }
      if (visible >= width) continue;
      out += line.charAt(i);
      visible++;
    }
    return this.#color ? `${out}${ESC}0m` : out;
  }

  #paint(code: number, text: string): string {
    return this.#color ? `${ESC}${code}m${text}${ESC}0m` : text;
  }

  #status(status: string): string {
    const code =
      status === 'completed' || status === 'online'
        ? 32
        : status === 'failed' || status === 'offline'
          ? 31
          : status === 'running' || status === 'suspect'
            ? 33
            : 90;
    return this.#paint(code, status);
  }

  #render(s: Snapshot): string[] {
    const lines: string[] = [this.#paint(1, 'workflows')];
    for (const run of s.runs) {
      const finished = run.steps.filter((st) =>
        ['completed', 'skipped', 'failed'].includes(st.status),
      ).length;
      const running = run.steps.filter((st) => st.status === 'running').map((st) => st.id);
      lines.push(
        `  ${pad(run.runId, 14)} ${bar(finished, run.steps.length, 24)} ${String(finished).padStart(2)}/${run.steps.length} ${this.#status(run.status)}${run.resumed ? ' (resumed)' : ''} ${running.join(' ')}`,
      );
    }
    lines.push(this.#paint(1, 'queues'));
    for (const q of s.queues) {
      const total = q.queued + q.running + q.completed + q.failed + q.cancelled;
      lines.push(
        `  ${pad(q.name, 14)} ${bar(q.completed + q.failed + q.cancelled, total, 24)} queued ${q.queued} running ${q.running} done ${q.completed} failed ${q.failed} · ${q.finishedPerSec}/s`,
      );
    }
    lines.push(this.#paint(1, 'nodes'));
    for (const n of s.nodes) {
      const util = n.gpus.map((g) => `${Math.round(g.utilizationPct)}%`).join(' ');
      lines.push(
        `  ${pad(n.nodeId, 14)} ${pad(this.#status(n.status), this.#color ? 17 : 8)} running ${n.running} queued ${n.queued} gpu ${util}`,
      );
    }
    for (const l of s.limiters) {
      lines.push(
        `${this.#paint(1, 'rate limit')} ${l.name}: allowed ${l.allowed} rejected ${l.rejected}`,
      );
    }
    return lines;
  }
}
