// IPC and relay traffic with a child process (soak/peer.ts) over real Unix sockets:
// a plain and an encrypted IpcConnection (rekeyed periodically) with a window of echoes in
// flight, each echo checked in order; relay requests checked against their replies; and
// relay sends counted exactly-once by the child.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IpcConnection } from '../../src/ipc/connection.js';
import { EncryptedIpcConnection } from '../../src/ipc/encrypted.js';
import { PeerRouter } from '../../src/relay/peer-router.js';
import { Relay } from '../../src/relay/relay.js';
import { ConnectionPool } from '../../src/transport/connection-pool.js';
import { UnixSocketTransport } from '../../src/transport/unix.js';
import { describe, paced, pause, Window, type SoakContext, type Workload } from '../lib.js';

const PEER = fileURLToPath(new URL('../peer.ts', import.meta.url));

interface EchoStream {
  sent: number;
  received: number;
  outOfOrder: number;
  readonly done: Promise<void>;
  readonly pump: Promise<void>;
}

function echoStream(
  ctx: SoakContext,
  name: string,
  conn: IpcConnection | EncryptedIpcConnection,
  perSecond: number,
): EchoStream {
  const window = new Window(64);
  const stream = { sent: 0, received: 0, outOfOrder: 0 } as EchoStream;
  const padding = 'x'.repeat(96);
  (stream as { done: Promise<void> }).done = (async () => {
    try {
      for (;;) {
        const message = await conn.recv<{ n: number }>();
        if (message.n !== stream.received) stream.outOfOrder++;
        stream.received++;
        window.release();
        ctx.retain(message);
      }
    } catch (error) {
      if (!ctx.signal.aborted || stream.received < stream.sent) {
        ctx.fail(`${name}: receive failed: ${describe(error)}`);
      }
    }
  })();
  (stream as { pump: Promise<void> }).pump = paced(ctx.signal, perSecond, async () => {
    await window.acquire();
    await conn.send({ n: stream.sent++, padding });
  });
  return stream;
}

async function startPeer(dir: string, key: Buffer): Promise<ChildProcess> {
  const child = fork(
    PEER,
    [join(dir, 'ipc.sock'), join(dir, 'peer.sock'), join(dir, 'parent.sock')],
    {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, MAJRA_SOAK_KEY: key.toString('hex') },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`soak peer exited early (${code})`)));
  });
  return child;
}

export async function startIpc(ctx: SoakContext): Promise<Workload> {
  const dir = mkdtempSync(join(tmpdir(), 'majra-soak-'));
  const key = randomBytes(32);
  const child = await startPeer(dir, key);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const plain = await IpcConnection.connect(join(dir, 'ipc.sock'));
  const encrypted = await EncryptedIpcConnection.connect(join(dir, 'ipc.sock'), key);
  const transport = new UnixSocketTransport();
  const pool = new ConnectionPool(transport);
  const relay = new Relay('parent', {
    router: new PeerRouter(pool, { peers: { peer: join(dir, 'peer.sock') } }),
    onError: (error) => ctx.fail(`relay: ${describe(error)}`),
  });
  const listener = await relay.listen(transport, join(dir, 'parent.sock'));

  const streams = [
    { name: 'ipc plain', stream: echoStream(ctx, 'ipc plain', plain, 2000) },
    { name: 'ipc encrypted', stream: echoStream(ctx, 'ipc encrypted', encrypted, 1000) },
  ];
  let rekeys = 0;
  const rekeying = (async () => {
    while (!ctx.signal.aborted) {
      await pause(3000, ctx.signal);
      if (ctx.signal.aborted) break;
      try {
        await encrypted.rekey();
        rekeys++;
      } catch (error) {
        ctx.fail(`ipc encrypted: rekey failed: ${describe(error)}`);
      }
    }
  })();

  const requests = new Window(16);
  let requested = 0;
  let replied = 0;
  const requesting = paced(ctx.signal, 600, async () => {
    await requests.acquire();
    const n = requested++;
    void relay
      .request('peer', 'echo', { n }, { timeoutMs: 20_000 })
      .then((reply) => {
        if ((reply.payload as { n?: number } | null)?.n !== n) {
          ctx.fail(`relay: request ${n} answered with ${JSON.stringify(reply.payload)}`);
        } else replied++;
        ctx.retain(reply);
      })
      .catch((error: unknown) => ctx.fail(`relay: request ${n} failed: ${describe(error)}`))
      .finally(() => requests.release());
  });
  let ticks = 0;
  const ticking = paced(ctx.signal, 800, async () => {
    try {
      await relay.send('peer', 'tick', { n: ticks });
      ticks++;
    } catch (error) {
      ctx.fail(`relay: send failed: ${describe(error)}`);
    }
  });

  return {
    name: 'ipc+relay',
    async stop() {
      await Promise.all([...streams.map((s) => s.stream.pump), rekeying, requesting, ticking]);
      const failures: string[] = [];
      if (!(await requests.drained(20_000))) failures.push('relay: requests still pending');
      const deadline = performance.now() + 20_000;
      while (
        streams.some((s) => s.stream.received < s.stream.sent) &&
        performance.now() < deadline
      ) {
        await pause(10);
      }
      for (const { name, stream } of streams) {
        if (stream.received !== stream.sent) {
          failures.push(`${name}: ${stream.received} echoes for ${stream.sent} sent (lost)`);
        }
        if (stream.outOfOrder > 0)
          failures.push(`${name}: ${stream.outOfOrder} echoes out of order`);
      }
      if (replied !== requested)
        failures.push(`relay: ${replied} replies for ${requested} requests`);
      // Ticks are fire-and-forget: give the child a moment, then compare counts.
      let peerStats:
        { ticks: number; duplicates: number; contiguous: number; lagged: number } | undefined;
      for (let i = 0; i < 50; i++) {
        try {
          const reply = await relay.request('peer', 'stats', null, { timeoutMs: 10_000 });
          peerStats = reply.payload as typeof peerStats;
        } catch (error) {
          failures.push(`relay: stats request failed: ${describe(error)}`);
          break;
        }
        if (peerStats !== undefined && peerStats.ticks >= ticks) break;
        await pause(100);
      }
      if (peerStats !== undefined) {
        if (peerStats.ticks !== ticks || peerStats.contiguous !== ticks) {
          failures.push(
            `relay: peer counted ${peerStats.ticks} ticks (contiguous ${peerStats.contiguous}, lagged ${peerStats.lagged}) for ${ticks} sent`,
          );
        }
        if (peerStats.duplicates > 0)
          failures.push(`relay: peer saw ${peerStats.duplicates} duplicate ticks`);
      }
      const stats = relay.stats();
      if (stats.duplicatesDropped > 0 || stats.invalidMessages > 0) {
        failures.push(
          `relay: ${stats.duplicatesDropped} duplicates, ${stats.invalidMessages} invalid`,
        );
      }
      await plain.close();
      await encrypted.close();
      await Promise.all(streams.map((s) => s.stream.done));
      await relay.close();
      await pool.close();
      await listener.close();
      child.disconnect();
      const code = await exited;
      if (code !== 0) failures.push(`ipc: peer process exited with ${code}`);
      rmSync(dir, { recursive: true, force: true });
      const echoed = streams.reduce((n, s) => n + s.stream.received, 0);
      return {
        ops: echoed + replied + ticks,
        unit: 'msg',
        counts: {
          plainEchoes: streams[0]!.stream.received,
          encryptedEchoes: streams[1]!.stream.received,
          rekeys,
          relayRequests: replied,
          relayTicks: ticks,
        },
        failures,
      };
    },
  };
}
