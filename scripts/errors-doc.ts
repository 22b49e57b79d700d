// Renders docs/errors.md from the ERROR_CODES table, so the page can never drift from
// the code: `npm run docs:errors` writes it, and a unit test fails when it is stale.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES } from '../src/core/error-codes.js';

export function renderErrorsDoc(): string {
  const lines = [
    '# Error codes',
    '',
    '<!-- Generated from src/core/error-codes.ts by `npm run docs:errors`. Do not edit. -->',
    '',
    'Every error majra throws is a `MajraError` subclass with a stable `code`. Branch on the',
    'code (`isMajraError(e, "ERR_…")`), not on the message. Foreign errors (driver, socket,',
    'crypto) are wrapped and kept as `cause`; `details` carries structured context such as',
    'limits and sizes, never secrets.',
    '',
    '| Code | Class | Meaning |',
    '| --- | --- | --- |',
  ];
  for (const [code, entry] of Object.entries(ERROR_CODES)) {
    lines.push(
      `| \`${code}\` | \`${entry.errorClass}\` | ${entry.description.replace(/\|/g, '\\|')} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(new URL('../docs/errors.md', import.meta.url), renderErrorsDoc());
  console.log('wrote docs/errors.md');
}
