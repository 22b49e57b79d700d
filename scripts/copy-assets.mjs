// tsc emits only .js/.d.ts; Lua scripts, SQL migrations and dashboard assets live in
// their own files under src/ (house rule 7) and are copied beside the compiled code.
import { cpSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ASSET = /\.(lua|sql|html|css|svg|mjs)$/;
let copied = 0;
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (ASSET.test(name)) {
      cpSync(path, join('dist', relative('src', path)));
      copied++;
    }
  }
}
walk('src');
console.log(`copy-assets: ${copied} file(s)`);
