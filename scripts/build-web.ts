/**
 * `npm run build:web` (run by `npm start` and CI): builds the admin console into web/dist with Vite, unless
 * the build is newer than every source file (then it returns at once). `--force` always builds.
 */
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));
const web = join(root, 'web');
const stamp = join(web, 'dist', '.built');

function newest(path: string): number {
  const info = statSync(path, { throwIfNoEntry: false });
  if (!info) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  return Math.max(info.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))));
}

const sources = Math.max(
  newest(join(web, 'src')),
  newest(join(web, 'index.html')),
  newest(join(web, 'vite.config.ts')),
  newest(join(root, 'package-lock.json')),
);
const built = statSync(stamp, { throwIfNoEntry: false })?.mtimeMs ?? 0;

if (!process.argv.includes('--force') && built > sources) {
  console.log('console: web/dist is up to date');
} else {
  const started = Date.now();
  await build({ configFile: join(web, 'vite.config.ts') });
  writeFileSync(stamp, new Date().toISOString());
  console.log(`console: built web/dist in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
