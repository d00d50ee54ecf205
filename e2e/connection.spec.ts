import { expect, test } from './support.js';

test('connects, opens and measures the heartbeat round-trip', async ({ demo, request }) => {
  await demo.open();
  await demo.expectOpen();
  await expect(demo.page.locator('[data-node="open"]')).toHaveClass(/active/);
  // An app-level ping goes out every 2 s; its pong lands in the chart.
  await demo.waitFor((d) => d.rtts().length >= 1, 15_000);
  await expect(demo.page.locator('#rtt-value')).toHaveText(/\d+ ms/);
  await expect(demo.page.locator('#sparkline path.line')).toHaveAttribute('d', /^M/);
  // The footer states the retry curve the page really uses: the library's default.
  await expect(demo.page.locator('#settings')).toContainText("backoff: decorrelated jitter, 2 s → 10 s (the library's defaults)");
  await expect(demo.page.locator('#server-status')).toHaveText('Server: healthy');

  await demo.send('hello there');
  await demo.waitFor((d) => d.log().some((e) => e.dir === 'in' && e.text === 'hello there'));
  expect(await demo.eval((d) => d.log().find((e) => e.dir === 'out')?.result)).toBe('sent');

  // The page bundle is the browser build: Node's ws must not be in it.
  const bundle = await (await request.get('/app.js')).text();
  expect(bundle.length).toBeGreaterThan(1000);
  expect(bundle).not.toMatch(/createWebSocketStream|perMessageDeflate|require\(["']ws["']\)/);
});

test('server drops everyone: reconnects with growing backoff, then opens', async ({ demo }) => {
  demo.allowHandshakeFailures();
  await demo.open({ initialDelayMs: 400, maxDelayMs: 5000 });
  await demo.expectOpen();
  // Refuse so that several retries fail and the backoff shows; the test ends the refusal itself (heal), so a
  // slow machine cannot run out the clock before the third retry.
  await demo.setSeconds(60);
  await demo.server('refuse');
  await demo.server('drop');
  await demo.waitFor((d) => d.timeline().some((e) => e.kind === 'close' && e.cause === 'network' && e.code === 1006));
  await demo.waitFor((d) => d.timeline().filter((e) => e.kind === 'retry').length >= 3, 20_000);
  await demo.server('heal');
  await demo.expectOpen(15_000);

  const retries = await demo.eval((d) =>
    d
      .timeline()
      .filter((e) => e.kind === 'retry')
      .map((e) => /retry #(\d+) in ([\d.]+) (ms|s)/.exec(e.text)!)
      .map((m) => ({ attempt: Number(m[1]), delayMs: Number(m[2]) * (m[3] === 's' ? 1000 : 1) })),
  );
  // Retries are numbered 1, 2, 3, … and follow the default curve (decorrelated jitter): the first within
  // initialDelayMs, each later one from initialDelayMs up to twice the one before, so under the exponential
  // ceiling and the cap. The timeline rounds what it shows (to 0.1 s past 1 s), hence the 50 ms of slack.
  expect(retries.map((r) => r.attempt)).toEqual(retries.map((_, i) => i + 1));
  for (const { attempt, delayMs } of retries) {
    expect(delayMs).toBeLessThanOrEqual(Math.min(5000, 400 * 2 ** (attempt - 1)) + 50);
    if (attempt > 1) expect(delayMs).toBeGreaterThanOrEqual(400 - 50);
  }
  expect(await demo.eval((d) => d.timeline().filter((e) => e.kind === 'open').at(-1)?.text)).toMatch(/open after attempt [1-9]/);
  await expect(demo.page.locator('#last-close')).toContainText('1006');
});

test('messages sent while down arrive in order after the reconnect', async ({ demo }) => {
  demo.allowHandshakeFailures();
  await demo.open({ initialDelayMs: 300, maxDelayMs: 600 });
  await demo.expectOpen();
  // Refused until the test heals the server: 25 sends through the page take a while on a busy machine.
  await demo.setSeconds(60);
  await demo.server('refuse');
  await demo.server('drop');
  await demo.waitFor((d) => d.state() !== 'open');

  const texts = ['first', 'second', 'third', 'fourth', 'fifth'];
  for (const text of texts) await demo.send(text);
  await demo.button('burst').click();
  const sent = await demo.eval((d) => d.log().filter((e) => e.dir === 'out'));
  expect(sent.map((e) => e.result)).toEqual(Array(25).fill('queued'));
  await expect(demo.page.locator('#queued')).toHaveText('25');

  await demo.server('heal');
  await demo.expectOpen(15_000);
  await demo.waitFor((d) => d.log().filter((e) => e.dir === 'in').length >= 25);
  const echoed = await demo.eval((d) => d.log().filter((e) => e.dir === 'in'));
  expect(echoed.map((e) => e.seq)).toEqual(sent.map((e) => e.seq));
  expect(echoed.slice(0, 5).map((e) => e.text)).toEqual(texts);
  await expect(demo.page.locator('#queued')).toHaveText('0');
  await expect(demo.page.locator('#dropped')).toHaveText('0');
});

test('a close code that must not reconnect (1008) leaves the socket closed', async ({ demo }) => {
  await demo.open({ initialDelayMs: 200 });
  await demo.expectOpen();
  await demo.page.locator('#close-code').selectOption('1008');
  await demo.server('close');
  await demo.waitFor((d) => d.lastClose()?.code === 1008);
  await expect(demo.status()).toHaveText('closed');
  await expect(demo.page.locator('#status-detail')).toHaveText('not reconnecting');
  const close = await demo.eval((d) => d.timeline().find((e) => e.kind === 'close'));
  expect(close).toMatchObject({ code: 1008, cause: 'server' });
  expect(close?.text).toContain('no reconnect');

  // Well past any retry delay: still closed, never tried again.
  await demo.page.waitForTimeout(2_000);
  expect(await demo.eval((d) => d.state())).toBe('closed');
  expect(await demo.eval((d) => d.retry() === undefined && d.nextRetryAt() === undefined)).toBe(true);
  expect(await demo.entries('connecting')).toBe(1);
  // Finally closed: nothing scheduled in the page.
  expect(await demo.eval((d) => d.liveTimers())).toBe(0);
  // A person can still start it again.
  await expect(demo.button('connect')).toBeEnabled();
  await demo.button('connect').click();
  await demo.expectOpen();
});

test('a server restart (1012) is survived', async ({ demo }) => {
  demo.allowHandshakeFailures();
  await demo.open({ initialDelayMs: 300, maxDelayMs: 1000 });
  await demo.expectOpen();
  await demo.server('restart');
  await expect(demo.page.locator('#server-status')).toContainText('restarting');
  // 1012 first; failed retries (1006, refused) may already have followed it while the server is away.
  await demo.waitFor((d) => d.timeline().some((e) => e.kind === 'close' && e.code === 1012 && e.cause === 'server'));
  await demo.expectOpen(15_000);
  // Once the server is back, the status line says so: it asked, rather than leaving "restarting" up.
  await expect(demo.page.locator('#server-status')).toHaveText(/^Server: healthy/, { timeout: 15_000 });
  await demo.send('after restart');
  await demo.waitFor((d) => d.log().some((e) => e.dir === 'in' && e.text === 'after restart'));
});
