import { defineConfig } from 'vitest/config';

// Two projects: `unit` needs no services and runs files in parallel; `integration`
// talks to the real Redis/PostgreSQL/SQLite and runs one file at a time so the
// 2-core CI machine is not oversubscribed and timing-sensitive fault tests are stable.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'test/unit/**/*.test.ts'],
          pool: 'forks',
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: [
            'test/integration/**/*.test.ts',
            'test/e2e/**/*.test.ts',
            'test/conformance/**/*.test.ts',
          ],
          globalSetup: ['test/support/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
