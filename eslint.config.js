// Flat config. Type-aware strict rules catch the bugs a concurrency library is most
// prone to (floating and misused promises); the restricted-imports block keeps the
// in-memory core free of every backend driver.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

const drivers = ['ioredis', 'pg', 'better-sqlite3', 'ws', 'prom-client'];

export default defineConfig(
  {
    ignores: [
      'dist/',
      'node_modules/',
      'coverage/',
      'test-results/',
      '.majra/',
      'docs/api/',
      '.tmp/',
    ],
  },
  js.configs.recommended,
  tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: ['*.js', '*.mjs', 'scripts/*.mjs'],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true, allowNullish: true },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/ban-ts-comment': 'error',
      // Style-only rule: `() => resolve(x)` is clearer than a braced body.
      '@typescript-eslint/no-confusing-void-expression': 'off',
      '@typescript-eslint/no-explicit-any': 'error',
      'max-lines': ['error', { max: 600, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // The zero-service guarantee: nothing outside the backend/bridge/adapter folders
    // may load a driver, so `import 'majra'` never needs one installed.
    files: ['src/**/*.ts'],
    ignores: [
      'src/backends/**',
      'src/bridges/**',
      'src/metrics/prometheus/**',
      'src/cli/**',
      'src/**/*.test.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: drivers.map((name) => ({
            name,
            message: `${name} may only be imported under src/backends, src/bridges, src/metrics/prometheus or src/cli.`,
          })),
          patterns: [
            {
              group: ['**/backends/**', '**/bridges/**', '**/metrics/prometheus/**', '**/cli/**'],
              message: 'The in-memory core must not depend on backends, bridges or the CLI.',
            },
          ],
        },
      ],
    },
  },
  {
    // Time is injected: only the clock module may read the wall clock or arm timers.
    files: ['src/**/*.ts'],
    ignores: ['src/core/clock.ts', 'src/testing/**', 'src/cli/**', 'src/**/*.test.ts'],
    rules: {
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Use the injected Clock (core/clock.ts).' },
        { name: 'setInterval', message: 'Use the injected Clock (core/clock.ts).' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Use the injected Clock (core/clock.ts).' },
        {
          object: 'performance',
          property: 'now',
          message: 'Use the injected Clock (core/clock.ts).',
        },
      ],
    },
  },
  {
    // Tests may use non-null assertions and loose callbacks freely; strictness there
    // costs readability without catching library bugs.
    files: [
      '**/*.test.ts',
      'test/**/*.ts',
      'bench/**/*.ts',
      'soak/**/*.ts',
      'examples/**/*.ts',
      'scripts/**',
    ],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unnecessary-condition': 'off',
      '@typescript-eslint/no-confusing-void-expression': 'off',
      '@typescript-eslint/require-await': 'off',
      'max-lines': 'off',
    },
  },
  {
    // Plain JS build scripts are not part of the typed program.
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      globals: { console: 'readonly', process: 'readonly', URL: 'readonly' },
    },
  },
  {
    // The dashboard's browser script (served as a static asset, not compiled by tsc).
    files: ['src/cli/dashboard/**/*.mjs'],
    languageOptions: {
      globals: Object.fromEntries(
        ['document', 'location', 'WebSocket', 'fetch', 'setTimeout'].map((name) => [
          name,
          'readonly',
        ]),
      ),
    },
  },
);
