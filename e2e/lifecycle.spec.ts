import { expect, test } from './support.js';

test('dispose while open leaves no timer and no listener in the page', async ({ demo }) => {
  await demo.open();
  await demo.expectOpen();
  await demo.waitFor((d) => d.rtts().length >= 1, 15_000); // the heartbeat timers are running
  expect(await demo.eval((d) => d.liveTimers())).toBeGreaterThan(0);
  expect(await demo.eval((d) => d.timersAfterDispose())).toBeNull();

  await demo.button('dispose').click();
  await expect(demo.status()).toHaveText('disposed');
  expect(await demo.eval((d) => d.timersAfterDispose())).toBe(0);
  expect(await demo.eval((d) => d.listenerCount())).toBe(0);
  await expect(demo.page.locator('#status-detail')).toHaveText('0 timers left');
  for (const id of ['send', 'burst', 'reconnect', 'close', 'connect', 'offline', 'dispose']) await expect(demo.button(id)).toBeDisabled();

  // Nothing wakes up later either.
  await demo.page.waitForTimeout(2_500);
  expect(await demo.eval((d) => d.timersAfterDispose())).toBe(0);
  expect(await demo.eval((d) => d.state())).toBe('closed');
});

test('dispose during backoff cancels the planned retry and drops the queue', async ({ demo }) => {
  demo.allowHandshakeFailures();
  await demo.open({ initialDelayMs: 5000, maxDelayMs: 5000 });
  await demo.expectOpen();
  await demo.setSeconds(60); // refused until the fixture heals the server after the test
  await demo.server('refuse');
  await demo.server('drop');
  await demo.waitFor((d) => d.state() !== 'open');
  await demo.send('never delivered');
  await demo.waitFor((d) => d.nextRetryAt() !== undefined || d.state() === 'connecting');
  expect(await demo.eval((d) => d.liveTimers())).toBeGreaterThan(0);

  await demo.button('dispose').click();
  expect(await demo.eval((d) => d.timersAfterDispose())).toBe(0);
  expect(await demo.eval((d) => d.log().filter((e) => e.dir === 'drop').map((e) => e.result))).toEqual(['dropped: disposed']);
  await expect(demo.page.locator('#queued')).toHaveText('0');
  const transitions = await demo.eval((d) => d.timeline().length);
  await demo.page.waitForTimeout(2_000);
  expect(await demo.eval((d) => d.timeline().length)).toBe(transitions);
  expect(await demo.eval((d) => d.timersAfterDispose())).toBe(0);
});
