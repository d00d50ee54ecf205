import { expect, test } from './support.js';

test('a black-holed server is caught by the heartbeat, and the socket reconnects', async ({ demo }) => {
  await demo.open({ initialDelayMs: 300, maxDelayMs: 1000, connectTimeoutMs: 1500 });
  await demo.expectOpen();
  await demo.setSeconds(60); // until the test heals the server, however slow the machine
  await demo.server('blackhole');
  await expect(demo.page.locator('#server-status')).toContainText('black hole');

  // Ping every 2 s with a 2 s deadline: dead within about 4 s, though the TCP connection never closed.
  await demo.waitFor((d) => d.timeline().some((e) => e.kind === 'close' && e.cause === 'heartbeat-timeout'), 15_000);
  expect(await demo.eval((d) => d.errors())).toContain('HEARTBEAT_TIMEOUT');
  await expect(demo.page.locator('#hb-timeouts')).toHaveText('1');
  await expect(demo.page.locator('#last-close')).toContainText('no pong in time');

  // While the hole lasts, handshakes hang; once it is over, the next attempt opens.
  await demo.server('heal');
  await demo.expectOpen(15_000);
  const pongs = await demo.eval((d) => d.rtts().length);
  await demo.page.waitForFunction((n) => window.demo.rtts().length > n, pongs, { timeout: 15_000 });
  await demo.send('alive again');
  await demo.waitFor((d) => d.log().some((e) => e.dir === 'in' && e.text === 'alive again'));
});

test('going offline holds the retries; going online reconnects at once', async ({ demo }) => {
  await demo.open({ initialDelayMs: 300, maxDelayMs: 600 });
  await demo.expectOpen();
  await demo.button('offline').click();
  await expect(demo.button('offline')).toHaveText('Go online');
  await demo.server('drop');

  await demo.waitFor((d) => d.retry()?.hold === 'offline');
  await expect(demo.status()).toHaveText('closed');
  await expect(demo.page.locator('#status-detail')).toContainText('held: offline');
  await expect(demo.page.locator('#next-retry')).toContainText('held (offline)');
  const attemptsBefore = await demo.entries('connecting');
  // Far longer than the backoff ceiling: no attempt is made while offline.
  await demo.page.waitForTimeout(2_000);
  expect(await demo.entries('connecting')).toBe(attemptsBefore);
  expect(await demo.eval((d) => d.state())).toBe('closed');

  await demo.button('offline').click();
  await demo.expectOpen(15_000);
  // "At once": the held retry starts when the network returns, with no backoff delay planned in between. Counted
  // rather than timed (the backoff here is shorter than a busy machine's click-to-open).
  const retryAfterOnline = await demo.eval((d) => d.timeline().filter((e) => e.kind === 'retry').length);
  expect(retryAfterOnline).toBe(0);
});

test('a server that never answers the close frame: close() still ends, bounded by closeTimeoutMs', async ({ demo }) => {
  await demo.open({ closeTimeoutMs: 1500 });
  await demo.expectOpen();
  await demo.page.locator('.toggle').click();
  await expect(demo.page.locator('#server-status')).toContainText('close frames unanswered');

  const clickedAt = Date.now();
  await demo.button('close').click();
  await expect(demo.status()).toHaveText('closing');
  await demo.waitFor((d) => d.state() === 'closed', 20_000);
  // Not sooner than closeTimeoutMs (timers never fire early); the upper bound only says it ended, generously.
  const tookMs = Date.now() - clickedAt;
  expect(tookMs).toBeGreaterThanOrEqual(1_200);
  expect(tookMs).toBeLessThan(20_000);
  expect(await demo.eval((d) => d.lastClose())).toMatchObject({ code: 1006, cause: 'close-timeout' });
  expect(await demo.eval((d) => d.errors())).toContain('CLOSE_TIMEOUT');
  await demo.waitFor((d) => d.timeline().some((e) => e.text.startsWith('close() resolved: 1006 close-timeout')));
  await expect(demo.page.locator('#status-detail')).toHaveText('not reconnecting');
  expect(await demo.eval((d) => d.liveTimers())).toBe(0);
});
