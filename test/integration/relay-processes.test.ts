import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const script = new URL('./fixtures/relay-node.ts', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'majra-relay-'));
const children = new Set<ChildProcess>();

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface Reply {
  id: number;
  ok: boolean;
  payload?: unknown;
  code?: string;
}

class Node {
  readonly child: ChildProcess;
  readonly broadcasts: unknown[] = [];
  readonly circuits: { endpoint: string; to: string }[] = [];
  endpoint = '';
  epoch = 0;
  #next = 0;
  readonly #waiting = new Map<number, (r: Reply) => void>();
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;

  constructor(
    readonly id: string,
    kind: string,
    listenAt: string,
  ) {
    this.child = fork(script, [id, kind, listenAt], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.add(this.child);
    this.exited = new Promise((r) => this.child.once('exit', () => r()));
    this.ready = new Promise((resolve, reject) => {
      this.child.once('exit', (code) => reject(new Error(`${id} exited early (${code})`)));
      this.child.on('message', (raw) => {
        const m = raw as Reply & {
          event?: string;
          endpoint?: string;
          epoch?: number;
          to?: string;
          payload?: unknown;
        };
        if (m.event === 'ready') {
          this.endpoint = m.endpoint!;
          this.epoch = m.epoch!;
          resolve();
        } else if (m.event === 'broadcast') this.broadcasts.push(m.payload);
        else if (m.event === 'circuit') this.circuits.push({ endpoint: m.endpoint!, to: m.to! });
        else this.#waiting.get(m.id)?.(m);
      });
    });
  }

  call(command: Record<string, unknown>): Promise<Reply> {
    const id = this.#next++;
    return new Promise((resolve) => {
      this.#waiting.set(id, (r) => {
        this.#waiting.delete(id);
        resolve(r);
      });
      this.child.send({ ...command, id });
    });
  }

  request(to: string, timeoutMs = 3000): Promise<Reply> {
    return this.call({ cmd: 'request', to, type: 'whoami', payload: null, timeoutMs });
  }

  async circuit(node: string): Promise<string> {
    return (await this.call({ cmd: 'circuit', node })).payload as string;
  }

  kill(): Promise<void> {
    this.child.kill('SIGKILL');
    return this.exited;
  }
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, tries = 200): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const value = await fn();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}

for (const kind of ['unix', 'tcp'] as const) {
  describe(`three relay processes over ${kind}`, () => {
    it('requests and broadcasts flow; a killed node opens its breaker, the rest keep working, it comes back and the breaker closes', async () => {
      const listenAt = (id: string): string =>
        kind === 'unix' ? join(dir, `${id}.sock`) : '127.0.0.1:0';
      const nodes = new Map<string, Node>();
      for (const id of ['a', 'b', 'c']) nodes.set(id, new Node(id, kind, listenAt(id)));
      await Promise.all([...nodes.values()].map((n) => n.ready));
      const peers = Object.fromEntries([...nodes].map(([id, n]) => [id, n.endpoint]));
      await Promise.all([...nodes.values()].map((n) => n.call({ cmd: 'peers', peers })));
      const a = nodes.get('a')!;
      const b = nodes.get('b')!;
      let c = nodes.get('c')!;

      // Requests flow both ways between every pair.
      expect((await a.request('b')).payload).toMatchObject({ node: 'b' });
      expect((await a.request('c')).payload).toMatchObject({ node: 'c' });
      expect((await c.request('a')).payload).toMatchObject({ node: 'a' });
      expect((await b.request('c')).payload).toMatchObject({ node: 'c' });

      // Broadcasts reach every other node.
      expect((await a.call({ cmd: 'broadcast', type: 'news', payload: { n: 1 } })).ok).toBe(true);
      await until('broadcast at b and c', async () =>
        b.broadcasts.length > 0 && c.broadcasts.length > 0 ? true : undefined,
      );
      expect(b.broadcasts).toEqual([{ n: 1 }]);
      expect(c.broadcasts).toEqual([{ n: 1 }]);

      // Kill c: a's requests to c fail, then its breaker for c opens.
      const oldPid = ((await a.request('c')).payload as { pid: number }).pid;
      await c.kill();
      const failures: string[] = [];
      await until('breaker open', async () => {
        const r = await a.request('c', 500);
        if (!r.ok) failures.push(r.code!);
        return (await a.circuit('c')) === 'open' ? true : undefined;
      });
      expect(failures.length).toBeGreaterThanOrEqual(1);
      const refused = await a.request('c');
      expect(refused).toMatchObject({ ok: false });
      expect(['ERR_TRANSPORT_CIRCUIT_OPEN', 'ERR_TRANSPORT_UNKNOWN_ENDPOINT']).toContain(
        refused.code,
      );

      // The others keep working meanwhile, including broadcasts (c's failure is contained).
      expect((await a.request('b')).payload).toMatchObject({ node: 'b' });
      expect((await b.request('a')).payload).toMatchObject({ node: 'a' });
      expect((await a.call({ cmd: 'broadcast', type: 'news', payload: { n: 2 } })).ok).toBe(true);
      await until('second broadcast at b', async () =>
        b.broadcasts.length === 2 ? true : undefined,
      );

      // c comes back on the same endpoint (new process, new epoch).
      c = new Node('c', kind, peers['c']!);
      nodes.set('c', c);
      await c.ready;
      await c.call({ cmd: 'peers', peers });
      const back = await until('c answers again', async () => {
        const r = await a.request('c', 1000);
        return r.ok ? r : undefined;
      });
      expect((back.payload as { pid: number }).pid).not.toBe(oldPid);
      expect(await a.circuit('c')).toBe('closed');
      const transitions = a.circuits.filter((t) => t.endpoint === peers['c']).map((t) => t.to);
      expect(transitions).toEqual(expect.arrayContaining(['open', 'half-open', 'closed']));
      expect(transitions.at(-1)).toBe('closed');
      // The restarted c's messages are accepted by b too (its new epoch resets dedup).
      expect((await c.request('b')).payload).toMatchObject({ node: 'b' });
      expect((await b.request('c')).payload).toMatchObject({ node: 'c' });

      for (const node of nodes.values()) {
        node.child.disconnect();
        await node.exited;
      }
    });
  });
}
