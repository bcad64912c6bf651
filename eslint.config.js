// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // examples/template/lib/ is the runtime client's bundle (npm run build:runtime-client), generated.
  { ignores: ['node_modules/', 'data/', 'dist/', 'web/dist/', 'test-artifacts/', 'examples/template/lib/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's test()/describe() return promises the runner itself awaits.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }] },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // The example template runs in a Kuaishou mini-program: CommonJS modules and the framework's globals.
    files: ['examples/template/**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { ks: 'readonly', App: 'readonly', Page: 'readonly', getApp: 'readonly' },
    },
    // require() is how a mini-program's modules import each other.
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Entry points, the CLI, scripts and benchmarks talk to a terminal.
    files: ['src/main.ts', 'src/cli/**', 'bench/**', 'scripts/**'],
    rules: { 'no-console': 'off' },
  },
);
