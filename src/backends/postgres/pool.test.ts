// A backend terminated in the instant after startup. The driver parses a whole socket
// read synchronously, so when ReadyForQuery and the FATAL termination arrive in one
// chunk, the error is emitted on the new client before a promise-awaiting caller runs.
// A tiny server speaking just enough of the protocol sends exactly that chunk; before
// checkout() this was an unhandled 'error' event (Vitest fails the run on one).
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../core/clock.js';
import { NotificationListener } from './listener.js';
import { withTransaction } from './pool.js';

function message(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

const authOk = message('R', Buffer.from([0, 0, 0, 0]));
const ready = message('Z', Buffer.from('I', 'latin1'));
const fatal = message(
  'E',
  Buffer.from(
    'SFATAL\0VFATAL\0C57P01\0Mterminating connection due to administrator command\0\0',
    'latin1',
  ),
);

let server: Server;
let port: number;
const sockets = new Set<Socket>();

beforeAll(async () => {
  server = createServer((socket) => {
    sockets.add(socket);
    socket.once('data', () => {
      // The startup message: answer with auth ok, ready, and the termination, in one write.
      socket.end(Buffer.concat([authOk, ready, fatal]));
    });
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function pool(): pg.Pool {
  const p = new pg.Pool({ host: '127.0.0.1', port, user: 'x', database: 'x', max: 2 });
  p.on('error', () => undefined); // the idle-client path is not what is tested here
  return p;
}

describe('a backend terminated right after startup', () => {
  it('fails withTransaction with ERR_POSTGRES_UNAVAILABLE and no unhandled error', async () => {
    const p = pool();
    for (let i = 0; i < 5; i++) {
      await expect(withTransaction(p, 'probe', () => Promise.resolve(1))).rejects.toMatchObject({
        code: 'ERR_POSTGRES_UNAVAILABLE',
      });
    }
    await p.end();
  });

  it('fails a LISTEN connection attempt the same way', async () => {
    const p = pool();
    const errors: Error[] = [];
    const listener = new NotificationListener({
      pool: p,
      channel: 'probe',
      clock: systemClock,
      onError: (error) => errors.push(error),
      onMessage: () => undefined,
      onReconnect: () => undefined,
    });
    await expect(listener.start()).rejects.toMatchObject({ code: 'ERR_POSTGRES_UNAVAILABLE' });
    await listener.stop();
    await p.end();
  });
});
