// Module hook for benchmarks: bench files import majra from ../src/*.ts (so they typecheck
// before a build), but are measured against the COMPILED dist/*.js, exactly what users run.
// Without it tsx would transform majra's sources (with esbuild's keepNames wrappers) while
// peer libraries run as plain JS, which skews every comparison against majra.
import { existsSync } from 'node:fs';
import { register } from 'node:module';

const src = new URL('../src/', import.meta.url).href;
const dist = new URL('../dist/', import.meta.url).href;
if (!existsSync(new URL('../dist/index.js', import.meta.url))) {
  throw new Error('bench: run `npm run build` first (benchmarks measure dist/)');
}
register(
  `data:text/javascript,${encodeURIComponent(`
const src = ${JSON.stringify(src)};
const dist = ${JSON.stringify(dist)};
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (result.url.startsWith(src) && result.url.endsWith('.ts') && !result.url.endsWith('.test.ts')) {
    return { ...result, url: dist + result.url.slice(src.length, -3) + '.js', format: 'module' };
  }
  return result;
}`)}`,
);
