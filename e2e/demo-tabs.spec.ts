import { expect, test, type Page } from '@playwright/test';
import { Demo } from './support.js';

// The demo page's Tabs panel (opt-in with `/?tabs`, see demo/tabs.ts): three pages of one browser context (one
// origin) share one SharedSocket connection to the demo server's /tabs endpoint. The pages show their role and
// how many tabs share; the server's /tabs/stats is the measure of real connections.

interface TabsApi {
  role(): 'leader' | 'follower' | 'off';
  tabs(): number;
  serverConnections(): number | undefined;
  state(): string;
}

declare global {
  interface Window {
    demoTabs: TabsApi;
  }
}

async function serverConnections(request: import('@playwright/test').APIRequestContext): Promise<number> {
  const response = await request.get('/tabs/stats');
  expect(response.ok()).toBe(true);
  return ((await response.json()) as { connections: number }).connections;
}

const role = (page: Page) => page.locator('#tabs-role');

test('three tabs share one connection; closing the leader hands it over', async ({ context, request }) => {
  expect((await request.post('/control/heal')).ok()).toBe(true);
  await expect.poll(() => serverConnections(request)).toBe(0);

  const demos: Demo[] = [];
  for (let i = 0; i < 3; i++) {
    const page = await context.newPage();
    const demo = new Demo(page, request);
    demos.push(demo);
    await page.goto('/?tabs');
    await page.waitForFunction(() => typeof window.demoTabs === 'object' && typeof window.demo === 'object');
    await expect(page.locator('#tabs-card')).toBeVisible();
  }
  const pages = demos.map((demo) => demo.page);

  for (const page of pages) {
    await expect(page.locator('#tabs-count')).toHaveText('3 tabs');
    await expect(page.locator('#tabs-state')).toHaveText('open');
    await expect(page.locator('#tabs-server')).toHaveText('1 connection');
  }
  await expect.poll(async () => (await Promise.all(pages.map((page) => role(page).textContent()))).sort()).toEqual(['follower', 'follower', 'leader']);
  expect(await serverConnections(request)).toBe(1);

  // Close the leader: one of the others takes over, within a few seconds, still on one connection.
  const roles = await Promise.all(pages.map((page) => role(page).textContent()));
  const leader = roles.indexOf('leader');
  await pages[leader]!.close();
  const rest = pages.filter((_, i) => i !== leader);

  await expect
    .poll(async () => (await Promise.all(rest.map((page) => role(page).textContent()))).sort(), { timeout: 5000 })
    .toEqual(['follower', 'leader']);
  for (const page of rest) {
    await expect(page.locator('#tabs-count')).toHaveText('2 tabs', { timeout: 5000 });
    await expect(page.locator('#tabs-state')).toHaveText('open');
    await expect(page.locator('#tabs-server')).toHaveText('1 connection');
  }
  await expect.poll(() => serverConnections(request)).toBe(1);
  // Not just eventually: it stays at one while the two tabs live.
  for (let i = 0; i < 5; i++) {
    expect(await serverConnections(request)).toBe(1);
    await rest[0]!.waitForTimeout(200);
  }

  for (const page of rest) await page.close();
  await expect.poll(() => serverConnections(request)).toBe(0);
  for (const demo of demos) expect(demo.unexpectedConsoleErrors(), 'console errors on a page').toEqual([]);
});

test('without ?tabs the page has no Tabs panel and opens no connection', async ({ page, request }) => {
  const demo = new Demo(page, request);
  await demo.open();
  await demo.expectOpen();
  await expect(page.locator('#tabs-card')).toHaveCount(0);
  expect(await page.evaluate(() => 'demoTabs' in window)).toBe(false);
  expect(await serverConnections(request)).toBe(0);
  expect(demo.unexpectedConsoleErrors()).toEqual([]);
});
