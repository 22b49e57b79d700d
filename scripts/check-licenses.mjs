// License allowlist check over every package in the lockfile (the cargo-deny step of
// the reference). Runtime and peer packages must be permissive; MPL-2.0 is accepted for
// development tooling only (it is never shipped or linked into the published package).
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const PERMISSIVE = new Set([
  'MIT',
  'ISC',
  'Apache-2.0',
  'BSD-2-Clause',
  'BSD-3-Clause',
  '0BSD',
  'BlueOak-1.0.0',
  'CC0-1.0',
  'Python-2.0',
  'Unlicense',
  'WTFPL',
]);
const DEV_ONLY = new Set(['MPL-2.0']);

function licenseOf(path, entry) {
  if (typeof entry.license === 'string') return entry.license;
  const manifest = join(path, 'package.json');
  if (existsSync(manifest)) {
    const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
    if (typeof pkg.license === 'string') return pkg.license;
    if (Array.isArray(pkg.licenses)) return pkg.licenses.map((l) => l.type).join(' OR ');
  }
  return undefined;
}

// Accepts an SPDX expression when any OR-branch is fully allowed.
function allowed(expression, set) {
  return expression
    .replace(/[()]/g, '')
    .split(/\s+OR\s+/)
    .some((branch) => branch.split(/\s+AND\s+/).every((id) => set.has(id.trim())));
}

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const failures = [];
let checked = 0;
for (const [path, entry] of Object.entries(lock.packages)) {
  if (path === '' || entry.link) continue;
  checked++;
  const license = licenseOf(path, entry);
  const set = entry.dev ? new Set([...PERMISSIVE, ...DEV_ONLY]) : PERMISSIVE;
  if (license === undefined || !allowed(license, set)) {
    failures.push(`${path.replace(/^.*node_modules\//, '')}: ${license ?? 'no license'}`);
  }
}
if (failures.length > 0) {
  console.error(`license check: ${failures.length} package(s) outside the allowlist:`);
  for (const f of failures) console.error(`  ${f}`);
  process.exit(1);
}
console.log(`license check: ${checked} packages, all on the allowlist`);
