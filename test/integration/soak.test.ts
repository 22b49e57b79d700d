// Short runs of the soak (soak/run.ts) as a child process: the healthy run passes, and a
// run with a deliberately injected leak fails on the memory check. CI runs the full
// 60-second soak separately (scripts/test.sh).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const RUN = fileURLToPath(new URL('../../soak/run.ts', import.meta.url));

function soak(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', RUN, ...args], {
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

describe('soak', () => {
  it('passes an 8-second run of every workload', async () => {
    const { code, output } = await soak(['--seconds', '8']);
    expect(output).toContain('soak: PASSED');
    expect(code).toBe(0);
    for (const name of ['pubsub', 'queue', 'workflow-sqlite', 'ipc+relay', 'redis', 'postgres']) {
      expect(output).toMatch(new RegExp(`\\n  ${name.replace('+', '\\+')} +\\d`));
    }
  }, 120_000);

  it('fails when a leak is injected', async () => {
    const { code, output } = await soak(['--seconds', '8', '--inject-leak']);
    expect(output).toContain('memory: heap keeps growing after warm-up');
    expect(output).toContain('soak: FAILED');
    expect(code).toBe(1);
  }, 120_000);
});
