// The exchange both processes run in the IPC process tests: send `count` numbered
// frames while receiving the peer's, checking order; optionally rekey at given points.
import type { IpcConnection } from '../../src/ipc/connection.js';
import type { EncryptedIpcConnection } from '../../src/ipc/encrypted.js';

export interface ExchangeResult {
  received: number;
  epoch: number;
}

export async function exchange(
  conn: IpcConnection | EncryptedIpcConnection,
  count: number,
  rekeyAt: readonly number[],
): Promise<ExchangeResult> {
  const receiving = (async () => {
    let expected = 0;
    while (expected < count) {
      const message = await conn.recv<{ i: number; pad: string }>();
      if (message.i !== expected) throw new Error(`expected frame ${expected}, got ${message.i}`);
      expected++;
    }
    return expected;
  })();
  let batch: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    if (rekeyAt.includes(i) && 'rekey' in conn) {
      await Promise.all(batch);
      batch = [];
      await conn.rekey();
    }
    batch.push(conn.send({ i, pad: 'x'.repeat(i % 64) }));
    if (batch.length >= 256) {
      await Promise.all(batch);
      batch = [];
    }
  }
  await Promise.all(batch);
  const received = await receiving;
  return { received, epoch: 'epoch' in conn ? conn.epoch : 0 };
}
