// House rule 1: importing is free. Each entry of the package's exports map is imported
// BY PACKAGE NAME (`import('majra/…')`, resolved through the exports map to the built
// dist/, so this runs after `npm run build`) in a fresh child process that counts timers
// armed, handles opened and env reads during the import; all must be zero.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as {
  exports: Record<string, string | { default: string }>;
};

const entries = Object.keys(pkg.exports)
  .filter((key) => key !== './package.json')
  .map((key) => [key, key === '.' ? 'majra' : `majra/${key.slice(2)}`] as const);

// The loader itself reads env and creates a handle on first use; a warm-up import of an
// empty module (and of node:crypto, which majra uses) takes that out of the measurement.
const probe = `
await import('data:text/javascript,export default 1');
// process.stdout/stderr are lazily created singletons; drivers (debug, via ioredis) touch
// them at import to detect colour support. Creating them first keeps them out of the count.
void process.stdout.isTTY, void process.stderr.isTTY;
const majraDist = new URL('./dist/', 'file://' + process.cwd() + '/').pathname;
const counts = { timers: 0, intervals: 0, immediates: 0, envReads: 0 };
const originals = {};
for (const name of ['setTimeout', 'setInterval', 'setImmediate']) {
  const original = (originals[name] = globalThis[name]);
  globalThis[name] = (...args) => {
    counts[name === 'setTimeout' ? 'timers' : name === 'setInterval' ? 'intervals' : 'immediates']++;
    return original(...args);
  };
}
// Node's loader reads env while resolving; count only reads made by majra's own code.
const env = process.env;
process.env = new Proxy(env, {
  get(t, k) {
    // Frame 2 is the reader; drivers reading env at their own import are not majra's doing.
    const caller = (new Error().stack ?? '').split('\\n')[2] ?? '';
    if (typeof k === 'string' && caller.includes(majraDist)) counts.envReads++;
    return Reflect.get(t, k);
  },
});
const before = process.getActiveResourcesInfo();
await import(process.argv[1]);
process.env = env;
Object.assign(globalThis, originals);
// Let the loader's own pending file closes finish before comparing handles.
for (let i = 0; i < 5; i++) await new Promise((r) => originals.setImmediate(r));
const after = process.getActiveResourcesInfo();
if (after.length !== before.length) console.error('resources', before, after);
console.log(JSON.stringify({ ...counts, newResources: after.length - before.length }));
`;

describe('import has no side effects', () => {
  it('the exports map lists the root and testing entries', () => {
    expect(entries.map(([key]) => key)).toEqual(expect.arrayContaining(['.', './testing']));
  });

  it.each(entries)('import(%s) arms no timer, opens no handle, reads no env', (_key, specifier) => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe, specifier], {
      cwd: root,
      encoding: 'utf8',
    });
    const counts = JSON.parse(out.trim().split('\n').pop()!) as Record<string, number>;
    expect(counts).toEqual({
      timers: 0,
      intervals: 0,
      immediates: 0,
      envReads: 0,
      newResources: 0,
    });
  });
});
