// Integration tests need the real services. CI sets REQUIRE_SERVICES=1 through
// scripts/test.sh, and a missing URL or an unreachable server FAILS the run: a missing
// service must never turn CI green by skipping.
import { createConnection } from 'node:net';

function probe(url: string): Promise<void> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: hostname, port: Number(port) });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${url} did not accept a connection within 5 s`));
    }, 5000);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.end();
      resolve();
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${url} is unreachable: ${error.message}`));
    });
  });
}

export default async function setup(): Promise<void> {
  process.env['REDIS_URL'] ??= 'redis://127.0.0.1:6379';
  process.env['DATABASE_URL'] ??= 'postgres://postgres@127.0.0.1:5432/test';
  await probe(process.env['REDIS_URL']);
  await probe(process.env['DATABASE_URL']);
}
