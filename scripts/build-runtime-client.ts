/**
 * `npm run build:runtime-client`: bundles `src/runtime-client` (TypeScript, ESM) into ONE CommonJS file a
 * mini-program can `require`, `examples/template/lib/ks-isv-runtime.js` (or `--out <file>`), with Vite's
 * library mode (already a dependency). Syntax lowered to ES2015 for the mini-program's JS engines.
 */
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));
const outIndex = process.argv.indexOf('--out');
const outFile = resolve(outIndex >= 0 && process.argv[outIndex + 1] ? process.argv[outIndex + 1]! : join(root, 'examples/template/lib/ks-isv-runtime.js'));

await build({
  configFile: false,
  root,
  logLevel: 'warn',
  publicDir: false,
  build: {
    lib: { entry: join(root, 'src/runtime-client/index.ts'), formats: ['cjs'], fileName: () => basename(outFile) },
    outDir: dirname(outFile),
    emptyOutDir: false,
    target: 'es2015',
    minify: false,
    sourcemap: false,
    reportCompressedSize: false,
    rollupOptions: {
      output: { banner: '/* ks-isv runtime client: generated from src/runtime-client by `npm run build:runtime-client`; do not edit. */' },
    },
  },
});
console.log(`runtime client: ${outFile}`);
