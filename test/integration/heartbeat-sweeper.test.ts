// Spec 6.6 #19 on the real clock: a running sweeper must not keep a process alive.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('a process with a running system-clock sweeper exits by itself (the timer is unref’d)', async () => {
  const script = fileURLToPath(new URL('./fixtures/heartbeat-sweeper.ts', import.meta.url));
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = fork(script, [], { execArgv: ['--import', 'tsx'], stdio: 'ignore' });
    // Far longer than any start-up, far shorter than the 60 s sweep interval.
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('exit', (exitCode) => {
      clearTimeout(killer);
      resolve(exitCode);
    });
  });
  expect(code).toBe(0);
});
