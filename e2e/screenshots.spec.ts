import { readFileSync, statSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { summarisePng } from './png.js';
import { expect, test } from './support.js';

/** Writes a full-page screenshot under test-results/ and checks that it is a real picture, not a blank page. */
async function snap(page: Page, name: string): Promise<string> {
  const file = test.info().outputPath(`${name}.png`);
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
  expect(statSync(file).size, `${name}.png size`).toBeGreaterThan(20_000);
  const png = summarisePng(readFileSync(file));
  expect(png.width).toBeGreaterThan(300);
  // Text, state colours and the chart: a rendered page has hundreds of distinct colours; a blank one has 1.
  expect(png.colours, `${name}.png distinct colours`).toBeGreaterThan(50);
  return file;
}

test('a screenshot of each main state: open, connecting, reconnecting, closed', async ({ demo }) => {
  demo.allowHandshakeFailures();
  await demo.open({ initialDelayMs: 3000, maxDelayMs: 6000, connectTimeoutMs: 8000 });
  await demo.expectOpen();
  await demo.waitFor((d) => d.rtts().length >= 2, 15_000);
  await demo.send('hello');
  await demo.button('burst').click();
  await snap(demo.page, 'state-open');

  // Connecting: the server holds the handshake unanswered (black hole), so the attempt stays pending.
  await demo.setSeconds(30);
  await demo.server('blackhole');
  await demo.button('reconnect').click();
  await expect(demo.status()).toHaveText('connecting');
  await expect(demo.page.locator('[data-node="connecting"]')).toHaveClass(/active/);
  await snap(demo.page, 'state-connecting');

  // Reconnecting: the server refuses, so the socket waits out a visible backoff between failed attempts.
  await demo.server('heal');
  await demo.expectOpen();
  await demo.setSeconds(30);
  await demo.server('refuse');
  await demo.server('drop');
  for (const text of ['queued while down', 'and this one']) await demo.send(text);
  await demo.waitFor((d) => d.phase() === 'reconnecting' && (d.nextRetryAt() ?? 0) - Date.now() > 800, 20_000);
  await expect(demo.status()).toHaveText('reconnecting');
  await snap(demo.page, 'state-reconnecting');

  // Closed: close() from the page, after the queued messages went out.
  await demo.server('heal');
  await demo.expectOpen(10_000);
  await demo.button('close').click();
  await expect(demo.status()).toHaveText('closed');
  await expect(demo.page.locator('[data-node="closed"]')).toHaveClass(/active/);
  await snap(demo.page, 'state-closed');
});

test('phone width: one column, nothing overflows sideways', async ({ demo }) => {
  await demo.page.setViewportSize({ width: 390, height: 844 });
  await demo.open();
  await demo.expectOpen();
  await demo.waitFor((d) => d.rtts().length >= 1, 15_000);
  await demo.send('hello from a phone');
  const overflow = await demo.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  // Every card spans the full column.
  const widths = await demo.page.locator('.card').evaluateAll((cards) => cards.map((c) => Math.round(c.getBoundingClientRect().width)));
  expect(new Set(widths).size).toBe(1);
  await snap(demo.page, 'phone-open');
});
