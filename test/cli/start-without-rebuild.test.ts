// `npm start` used to rebuild all the TypeScript first (~15 s of the ~22 s to
// ready). Its prestart now builds only what changed: on a built tree it
// rewrites nothing and takes about a second.
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

it('npm start does not rebuild an up-to-date tree', async () => {
  await run('npx', ['tsc', '-b', 'tsconfig.build.json'], { cwd: root }); // up to date, as `npm run build` leaves it
  const built = ['dist/cli/main.js', 'dist/server/main.js', 'dist/server/db/index.js'].map((f) => path.join(root, f));
  const before = built.map((f) => statSync(f).mtimeMs);
  const started = Date.now();
  await run('npm', ['run', 'prestart'], { cwd: root });
  const seconds = (Date.now() - started) / 1000;
  expect(built.map((f) => statSync(f).mtimeMs)).toEqual(before);
  expect(seconds).toBeLessThan(5);
}, 120_000);
