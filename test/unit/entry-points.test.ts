// Three lists must name the same entry points as the package's exports map: TypeDoc's
// entryPoints (so the API reference and its "no undocumented export" check cover every
// subpath) and tsconfig.json's `paths` (so examples/ type-check `majra/*` imports against
// the sources before a build). A new export that is missing from either fails here.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const json = (file: string): unknown => JSON.parse(readFileSync(`${root}/${file}`, 'utf8'));

const pkg = json('package.json') as { exports: Record<string, string | { types: string }> };
/** Export specifier (`majra/queue`) → its source entry (`src/queue/index.ts`). */
const sources = new Map(
  Object.entries(pkg.exports)
    .filter(([key]) => key !== './package.json')
    .map(([key, value]) => {
      const types = typeof value === 'string' ? value : value.types;
      const source = types.replace(/^\.\/dist\//, 'src/').replace(/\.d\.ts$/, '.ts');
      return [key === '.' ? 'majra' : `majra/${key.slice(2)}`, source] as const;
    }),
);

describe('entry points follow the exports map', () => {
  it('typedoc.json documents every export', () => {
    const typedoc = json('typedoc.json') as { entryPoints: string[] };
    expect([...typedoc.entryPoints].sort()).toEqual([...sources.values()].sort());
  });

  it('tsconfig.json maps every majra/* specifier to its source', () => {
    // tsconfig.json may hold comments: read it the way TypeScript does.
    const { config } = ts.readConfigFile(`${root}/tsconfig.json`, (file) =>
      ts.sys.readFile(file),
    ) as {
      config: { compilerOptions: { paths: Record<string, string[]> } };
    };
    const paths = Object.fromEntries(
      Object.entries(config.compilerOptions.paths).map(([name, [target]]) => [
        name,
        target!.replace(/^\.\//, ''),
      ]),
    );
    expect(paths).toEqual(Object.fromEntries(sources));
  });
});
