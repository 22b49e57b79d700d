// Child process for test/integration/ipc-processes.test.ts and bench/ipc.bench.ts:
// dials the parent's socket and runs the numbered exchange.
// argv: <plain|encrypted> <path> <count> <rekeyAt,comma,separated>; env MAJRA_TEST_KEY (hex).
import { IpcConnection } from '../../src/ipc/connection.js';
import { EncryptedIpcConnection } from '../../src/ipc/encrypted.js';
import { exchange } from './ipc-exchange.js';

const [mode, path, countText, rekeyText] = process.argv.slice(2);
if (path === undefined || countText === undefined)
  throw new Error('usage: mode path count rekeyAt');
const count = Number(countText);
const rekeyAt = (rekeyText ?? '').split(',').filter(Boolean).map(Number);
const key = Buffer.from(process.env['MAJRA_TEST_KEY'] ?? '', 'hex');

const conn =
  mode === 'encrypted'
    ? await EncryptedIpcConnection.connect(path, key)
    : await IpcConnection.connect(path);
const result = await exchange(conn, count, rekeyAt);
await conn.send({ done: true, ...result });
// Wait for the parent's goodbye so nothing in flight is cut off.
await conn.recv();
await conn.close();
