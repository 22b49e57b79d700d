// Local IPC over a Unix socket: length-prefixed JSON frames, then the same exchange
// encrypted with AES-256-GCM (per-direction keys derived from a pre-shared key, replay
// protection, in-band rekey). Server and client would normally be separate processes;
// they share one here so the example is self-contained.
// Run: npm run build && node --import tsx examples/ipc.ts
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EncryptedIpcConnection, IpcConnection, IpcServer } from 'majra/ipc';

const dir = mkdtempSync(join(tmpdir(), 'majra-ipc-'));

// --- plain framing ---------------------------------------------------------------
{
  const path = join(dir, 'plain.sock');
  await using server = await IpcServer.listen(path); // socket file mode 0600
  const serving = (async () => {
    await using conn = await server.accept();
    const request = await conn.recv<{ hello: string }>();
    await conn.send({ echo: request });
  })();

  await using client = await IpcConnection.connect(path);
  await client.send({ hello: 'world' });
  console.log('plain reply:', JSON.stringify(await client.recv()));
  await serving;
}

// --- encrypted channel -------------------------------------------------------------
{
  const path = join(dir, 'secure.sock');
  const key = randomBytes(32); // in practice: shared out of band, e.g. from a secret store
  await using server = await IpcServer.listen(path);
  const serving = (async () => {
    await using secure = await EncryptedIpcConnection.accept(await server.accept(), key);
    for (let i = 0; i < 2; i++) {
      const message = await secure.recv<{ secret: number }>();
      await secure.send({ doubled: message.secret * 2 });
    }
  })();

  await using client = await EncryptedIpcConnection.connect(path, key);
  await client.send({ secret: 21 });
  console.log('encrypted reply:', JSON.stringify(await client.recv()));
  await client.rekey(); // both ends switch to fresh keys; the stream continues
  await client.send({ secret: 50 });
  console.log('after rekey:', JSON.stringify(await client.recv()));
  await serving;
}

rmSync(dir, { recursive: true, force: true });
console.log('ipc example done');
