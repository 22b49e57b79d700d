// The soak's second process. It answers over real Unix sockets:
//  - an IpcServer at <ipc path>: the first connection is plain, the second encrypted
//    (key in MAJRA_SOAK_KEY, hex); both echo every message back;
//  - a Relay node 'peer' at <relay path> routing to the parent's relay at <parent path>:
//    it answers 'echo' requests and counts 'tick' messages exactly (reported by 'stats').
// It tells the parent 'ready' over the fork channel and exits when the channel closes.
// argv: <ipc path> <relay path> <parent relay path>
import { EncryptedIpcConnection } from '../src/ipc/encrypted.js';
import type { IpcConnection } from '../src/ipc/connection.js';
import { IpcServer } from '../src/ipc/server.js';
import { PeerRouter } from '../src/relay/peer-router.js';
import { Relay } from '../src/relay/relay.js';
import { ConnectionPool } from '../src/transport/connection-pool.js';
import { UnixSocketTransport } from '../src/transport/unix.js';

const [ipcPath = '', relayPath = '', parentPath = ''] = process.argv.slice(2);
const key = Buffer.from(process.env['MAJRA_SOAK_KEY'] ?? '', 'hex');

const server = await IpcServer.listen(ipcPath);
const transport = new UnixSocketTransport();
const pool = new ConnectionPool(transport);
const relay = new Relay('peer', {
  router: new PeerRouter(pool, { peers: { parent: parentPath } }),
});
const listener = await relay.listen(transport, relayPath);

// Ticks carry consecutive numbers from 0: a set above the contiguous prefix proves
// exactly-once in bounded memory.
let ticks = 0;
let duplicates = 0;
let low = 0;
const above = new Set<number>();
relay.handle('echo', (message) => message.payload);
relay.handle('stats', () => ({ ticks, duplicates, contiguous: low, lagged: subscription.lagged }));
const subscription = relay.subscribe({ capacity: 4096 });
const ticking = (async () => {
  for await (const { message } of subscription) {
    if (message.type !== 'tick') continue;
    const n = (message.payload as { n: number }).n;
    if (n < low || above.has(n)) {
      duplicates++;
      continue;
    }
    ticks++;
    above.add(n);
    while (above.delete(low)) low++;
  }
})();

async function echo(conn: IpcConnection | EncryptedIpcConnection): Promise<void> {
  try {
    for await (const message of conn) await conn.send(message);
  } catch (error) {
    process.stderr.write(`soak peer: echo failed: ${String(error)}\n`);
    process.exitCode = 1;
  }
}

process.send?.('ready');
const plain = await server.accept();
const encrypted = await EncryptedIpcConnection.accept(await server.accept(), key);
const echoes = Promise.all([echo(plain), echo(encrypted)]);

process.on('disconnect', () => {
  void (async () => {
    await relay.close();
    await pool.close();
    await listener.close();
    await server.close();
    await plain.close();
    await encrypted.close();
    await Promise.all([echoes, ticking]);
  })().finally(() => process.exit());
});
