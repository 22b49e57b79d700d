import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { renderErrorsDoc } from '../../scripts/errors-doc.js';

it('docs/errors.md lists every error code (run `npm run docs:errors` when this fails)', () => {
  const onDisk = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  expect(onDisk).toBe(renderErrorsDoc());
});
