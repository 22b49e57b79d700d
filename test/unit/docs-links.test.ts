// The documentation stays navigable: every relative link in README.md, SECURITY.md,
// CHANGELOG.md, examples/README.md and docs/*.md points at a file that exists, and every program in examples/
// is linked from the capability page it illustrates (so a reader of docs/ finds a runnable
// version of each page, and an example cannot be added without a page pointing at it).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const pages = [
  'README.md',
  'SECURITY.md',
  'CHANGELOG.md',
  'examples/README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

/** Relative link targets of a markdown file (no URLs, no pure anchors), anchors removed. */
function relativeLinks(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8').replace(/```[\s\S]*?```/g, '');
  const targets = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]!);
  return targets
    .filter((target) => !/^[a-z]+:/i.test(target) && !target.startsWith('#'))
    .map((target) => target.split('#')[0]!);
}

describe('documentation links', () => {
  it.each(pages)('every relative link in %s resolves', (file) => {
    const missing = relativeLinks(file).filter(
      (target) => !existsSync(resolve(root, dirname(file), target)),
    );
    expect(missing).toEqual([]);
  });

  it('every example is linked from a docs page', () => {
    const linked = new Set(
      pages
        .filter((file) => file.startsWith('docs/'))
        .flatMap((file) => relativeLinks(file).map((target) => resolve(root, 'docs', target))),
    );
    const examples = readdirSync(join(root, 'examples')).filter((name) => name.endsWith('.ts'));
    const orphans = examples.filter((name) => !linked.has(join(root, 'examples', name)));
    expect(examples.length).toBeGreaterThan(0);
    expect(orphans).toEqual([]);
  });
});
