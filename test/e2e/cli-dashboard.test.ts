// The dashboard in headless Chromium (Debian `chromium`, driven by playwright-core):
// the page served by `majra demo` loads, follows a workflow run over the WebSocket
// bridge from running to completed, links to /metrics, and a screenshot is written
// under test-results/.
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { root, startCli, type CliRun } from '../support/cli.js';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let browser: Browser;
let demo: CliRun | undefined;
const dataDir = mkdtempSync(join(tmpdir(), 'majra-dashboard-'));

beforeAll(async () => {
  // Launched before the demo starts, so the page is up while the run is still going.
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser.close();
  if (demo !== undefined && demo.child.exitCode === null) {
    demo.child.kill('SIGINT');
    await demo.exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('dashboard in headless Chromium', () => {
  it('shows a workflow run progressing to completion and writes a screenshot', async () => {
    demo = startCli([
      'demo',
      '--runs',
      '1',
      '--steps',
      '4',
      '--step-ms',
      '400',
      '--port',
      '0',
      '--linger',
      '--data-dir',
      dataDir,
    ]);
    const [, url] = await demo.waitFor(/dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/);
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });

    await page.goto(url!);
    await expect(page.title()).resolves.toBe('majra dashboard');
    await page.locator('#connection', { hasText: 'live' }).waitFor();

    const run = page.locator('article.run[data-run-id]').first();
    await run.locator('xpath=self::*[@data-status="running"]').waitFor({ timeout: 30_000 });
    // Every step of the graph is drawn, with its state.
    await expect(run.locator('g[data-step]').count()).resolves.toBe(8);
    await page.locator('article.run[data-status="completed"]').first().waitFor({ timeout: 60_000 });
    await expect(run.locator('g[data-step][data-status="completed"]').count()).resolves.toBe(8);
    await page.locator('body[data-done="true"]').waitFor();

    // The other panels are populated.
    await expect(page.locator('#queues tbody tr').count()).resolves.toBeGreaterThanOrEqual(4);
    await expect(page.locator('#nodes tbody tr').count()).resolves.toBe(3);
    await expect(page.locator('#topics tbody tr').count()).resolves.toBeGreaterThan(0);
    await expect(page.locator('#limiters tbody tr').count()).resolves.toBe(1);
    const metricsHref = await page
      .locator('a', { hasText: 'Prometheus metrics' })
      .getAttribute('href');
    const metrics = await page.request.get(new URL(metricsHref!, url).toString());
    expect(metrics.status()).toBe(200);
    expect(await metrics.text()).toMatch(/^majra_workflow_runs_total\{event="completed"\} 1$/m);

    mkdirSync(join(root, 'test-results'), { recursive: true });
    const file = join(root, 'test-results', 'dashboard.png');
    await page.screenshot({ path: file, fullPage: true });
    expect(statSync(file).size).toBeGreaterThan(10_000);
    expect(pageErrors).toEqual([]);

    demo.child.kill('SIGINT');
    expect(await demo.exited).toBe(0);
  });
});
