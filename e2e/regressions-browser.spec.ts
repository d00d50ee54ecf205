import { expect, test, type Page } from '@playwright/test';
import { EchoServer } from './servers.js';
import { bundleEntry, openBlankPage } from './support.js';

// The library's native-WebSocket path in a real Chromium, against the built package (dist/index.js bundled for
// the browser here) and a `ws` server of this spec on 127.0.0.1:0. The page is the demo server's /health
// document, which gives an http://127.0.0.1 origin; the library is injected into it as a script.

let bundle = '';
let bundleInputs: string[] = [];

test.beforeAll(async () => {
  ({ code: bundle, inputs: bundleInputs } = await bundleEntry('dist/index.js', 'RWS'));
});

interface PageRun {
  url: string;
  server: EchoServer;
  errors: string[];
  warnings: string[];
}

/**
 * Opens a page with the library as `window.RWS`, and counts the listeners added to and removed from window and
 * document (`window.__listeners()` gives the live count per event type).
 */
async function openPage(page: Page): Promise<PageRun> {
  const server = new EchoServer();
  server.pings = 'pong';
  const url = await server.start();
  const { errors, warnings } = await openBlankPage(page);
  await page.addScriptTag({
    content: `
      (() => {
        const live = new Map();
        for (const target of [window, document]) {
          const add = target.addEventListener.bind(target);
          const remove = target.removeEventListener.bind(target);
          const name = target === window ? 'window' : 'document';
          target.addEventListener = (type, fn, options) => {
            const key = name + ':' + type;
            live.set(key, (live.get(key) ?? 0) + 1);
            return add(type, fn, options);
          };
          target.removeEventListener = (type, fn, options) => {
            const key = name + ':' + type;
            live.set(key, (live.get(key) ?? 0) - 1);
            return remove(type, fn, options);
          };
        }
        // Only the types the library listens to: Playwright adds listeners of its own to window.
        const types = ['online', 'offline', 'pagehide', 'pageshow', 'visibilitychange'];
        window.__listeners = () => Object.fromEntries([...live].filter(([key, n]) => n !== 0 && types.includes(key.split(':')[1])));
        window.__events = [];
      })();`,
  });
  await page.addScriptTag({ content: bundle });
  return { url, server, errors, warnings };
}

let run: PageRun | undefined;

test.afterEach(async () => {
  await run?.server.stop();
  run = undefined;
});

test('the browser bundle has no Node code, and close(1001) goes out as 1000 (native close() refuses 1001)', async ({ page }) => {
  expect(bundleInputs.some((file) => file.endsWith('dist/index.js'))).toBe(true);
  expect(bundleInputs.filter((file) => /node_modules\/ws\//.test(file))).toEqual([]);
  expect(bundle).not.toMatch(/require\(["']ws["']\)|from ["']ws["']|node:os|process\.kill/);

  run = await openPage(page);
  const result = await page.evaluate(async (url) => {
    const socket = new RWS.ReconnectingSocket(url);
    await RWS.opened(socket, { timeoutMs: 5000 });
    const record = await socket.close(1001, 'bye');
    return { record, state: socket.state };
  }, run.url);
  await expect.poll(() => run!.server.closeFrames).toEqual([{ code: 1000, reason: 'bye' }]);
  expect(result.state).toBe('closed');
  expect(result.record).toMatchObject({ code: 1000, reason: 'bye', wasClean: true, cause: 'client' });
  expect(run.errors).toEqual([]);
});

test('binaryType arraybuffer and blob reach rawCodec and jsonCodec as documented', async ({ page }) => {
  run = await openPage(page);
  const seen = await page.evaluate(async (url) => {
    const { ReconnectingSocket, jsonCodec } = RWS;
    const out: Record<string, unknown> = {};
    const first = <T,>(socket: InstanceType<typeof ReconnectingSocket<any, any>>, type: 'message' | 'error') =>
      new Promise<T>((resolve) => socket.once(type, resolve as (event: unknown) => void));
    const describe = (data: unknown) => (data instanceof ArrayBuffer ? `ArrayBuffer(${data.byteLength})` : data instanceof Blob ? `Blob(${data.size})` : JSON.stringify(data));

    for (const binaryType of ['arraybuffer', 'blob'] as const) {
      const raw = new ReconnectingSocket(url, { binaryType, heartbeat: false });
      await RWS.opened(raw, { timeoutMs: 5000 });
      const next = first<{ data: unknown }>(raw, 'message');
      raw.send(new Uint8Array([1, 2, 3]));
      out[`raw ${binaryType}`] = describe((await next).data);
      const text = first<{ data: unknown }>(raw, 'message');
      raw.send('hi');
      out[`raw ${binaryType} text`] = describe((await text).data);
      await raw.close();

      const json = new ReconnectingSocket(url, { binaryType, codec: jsonCodec, heartbeat: false });
      await RWS.opened(json, { timeoutMs: 5000 });
      const outcome = Promise.race([
        first<{ data: unknown }>(json, 'message').then(({ data }) => describe(data)),
        first<{ error: { code: string } }>(json, 'error').then(({ error }) => error.code),
      ]);
      // The server answers with `{"n":1}` in a binary frame.
      json.send({ binary: { n: 1 } });
      out[`json ${binaryType}`] = await outcome;
      out[`json ${binaryType} state after`] = json.state;
      const textFrame = first<{ data: unknown }>(json, 'message');
      json.send({ n: 2 });
      out[`json ${binaryType} text`] = describe((await textFrame).data);
      await json.close();
    }
    return out;
  }, run.url);
  expect(seen).toEqual({
    'raw arraybuffer': 'ArrayBuffer(3)',
    'raw arraybuffer text': '"hi"',
    'json arraybuffer': '{"n":1}',
    'json arraybuffer state after': 'open',
    'json arraybuffer text': '{"n":2}',
    'raw blob': 'Blob(3)',
    'raw blob text': '"hi"',
    // codec.ts: "a Blob cannot be decoded synchronously and fails"; the socket stays open.
    'json blob': 'DECODE_FAILED',
    'json blob state after': 'open',
    'json blob text': '{"n":2}',
  });
  expect(run.errors).toEqual([]);
});

test('app-level heartbeat: isPong hides the pong, measures the round trip, and a silent peer is caught', async ({ page }) => {
  run = await openPage(page);
  await page.evaluate((url) => {
    const socket = new RWS.ReconnectingSocket(url, {
      heartbeat: { message: 'ping', isPong: (data: unknown) => data === 'pong', intervalMs: 200, timeoutMs: 400 },
      initialDelayMs: 100,
      jitter: false,
    });
    (window as any).socket = socket;
    for (const type of ['message', 'heartbeat', 'close', 'open']) {
      // SocketError does not survive page.evaluate's serialisation: keep its code.
      socket.on(type as 'open', (event: any) => (window as any).__events.push({ type, ...event, error: event.error?.code }));
    }
  }, run.url);
  await page.waitForFunction(() => (window as any).__events.filter((e: any) => e.type === 'heartbeat').length >= 3, undefined, { timeout: 10_000 });
  const before = await page.evaluate(() => ({ events: (window as any).__events, rttMs: (window as any).socket.rttMs }));
  expect(before.events.filter((e: any) => e.type === 'message')).toEqual([]);
  expect(typeof before.rttMs).toBe('number');
  for (const event of before.events.filter((e: any) => e.type === 'heartbeat')) expect(event.rttMs).toBeGreaterThanOrEqual(0);

  run.server.pings = 'ignore';
  await page.waitForFunction(() => (window as any).__events.some((e: any) => e.type === 'close'), undefined, { timeout: 10_000 });
  const close = await page.evaluate(() => (window as any).__events.find((e: any) => e.type === 'close'));
  expect(close).toMatchObject({ code: 1006, cause: 'heartbeat-timeout', willReconnect: true });
  expect(close.error).toBe('HEARTBEAT_TIMEOUT');
  run.server.pings = 'pong';
  await page.waitForFunction(() => (window as any).__events.filter((e: any) => e.type === 'open').length === 2, undefined, { timeout: 10_000 });
  await page.evaluate(() => (window as any).socket.close());
  expect(run.errors).toEqual([]);
});

test('the headers option is ignored in the browser with one warning, however many attempts', async ({ page }) => {
  run = await openPage(page);
  run.server.onConnection = (ws) => ws.close(1012, 'restart');
  const result = await page.evaluate(async (url) => {
    const debug: string[] = [];
    let calls = 0;
    const socket = new RWS.ReconnectingSocket(url, {
      headers: () => (calls++, { authorization: 'Bearer x' }),
      maxRetries: 2,
      initialDelayMs: 20,
      jitter: false,
      heartbeat: false,
      debug: (message: string) => debug.push(message),
    });
    let opens = 0;
    socket.on('open', () => opens++);
    const final = await socket.closed;
    return { opens, calls, final, headerLines: debug.filter((line) => line.includes('headers')).length };
  }, run.url);
  expect(result.opens).toBe(3);
  expect(result.calls).toBe(3);
  expect(result.final).toMatchObject({ code: 1012, cause: 'server' });
  expect(result.headerLines).toBe(1);
  expect(run.warnings.filter((line) => line.includes('headers ignored'))).toHaveLength(1);
  expect(run.errors).toEqual([]);
});

test("the real window: offline holds a retry, online releases it at once; listeners go on close()", async ({ page, context }) => {
  run = await openPage(page);
  await page.evaluate((url) => {
    const socket = new RWS.ReconnectingSocket(url, { initialDelayMs: 200, maxDelayMs: 200, jitter: false, heartbeat: false });
    (window as any).socket = socket;
    socket.on('state', ({ to }: { to: string }) => (window as any).__events.push(to));
  }, run.url);
  await page.waitForFunction(() => (window as any).socket.state === 'open');
  expect(await page.evaluate(() => (window as any).__listeners())).toEqual({
    'window:online': 1,
    'window:offline': 1,
    'window:pagehide': 1,
    'window:pageshow': 1,
    'document:visibilitychange': 1,
  });

  await context.setOffline(true);
  expect(await page.evaluate(() => navigator.onLine)).toBe(false);
  for (const ws of run.server.sockets) ws.terminate();
  await page.waitForFunction(() => (window as any).socket.retry?.hold === 'offline', undefined, { timeout: 5_000 });
  await page.waitForTimeout(800); // four backoff periods: nothing is attempted while offline
  expect(await page.evaluate(() => (window as any).socket.state)).toBe('closed');
  expect(await page.evaluate(() => (window as any).socket.nextRetryAt)).toBeUndefined();
  expect(run.server.connections).toBe(1);

  await context.setOffline(false);
  await page.waitForFunction(() => (window as any).socket.state === 'open', undefined, { timeout: 5_000 });
  expect(run.server.connections).toBe(2);

  await page.evaluate(() => (window as any).socket.close());
  expect(await page.evaluate(() => (window as any).__listeners()), 'window/document listeners after close()').toEqual({});
  await page.evaluate(() => (window as any).socket.connect());
  await page.waitForFunction(() => (window as any).socket.state === 'open');
  expect(Object.keys(await page.evaluate(() => (window as any).__listeners()))).toHaveLength(5);
  await page.evaluate(() => (window as any).socket.dispose());
  expect(await page.evaluate(() => (window as any).__listeners()), 'after dispose()').toEqual({});
  expect(run.errors.filter((line) => !/^WebSocket connection to .* failed/.test(line))).toEqual([]);
});

test('the real document: pauseWhenHidden holds a retry while hidden; visible retries at once', async ({ page }) => {
  run = await openPage(page);
  run.server.onConnection = (ws) => run!.server.connections === 1 && ws.close(1012, 'restart');
  await page.evaluate((url) => {
    let state = 'visible';
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
    (window as any).setVisibility = (next: string) => {
      state = next;
      document.dispatchEvent(new Event('visibilitychange'));
    };
    (window as any).socket = new RWS.ReconnectingSocket(url, { pauseWhenHidden: true, initialDelayMs: 60_000, maxDelayMs: 60_000, jitter: false, heartbeat: false });
  }, run.url);
  await page.waitForFunction(() => (window as any).socket.retry !== undefined, undefined, { timeout: 5_000 });
  expect(await page.evaluate(() => (window as any).socket.retry)).toEqual({ attempt: 1, delayMs: 60_000 });
  await page.evaluate(() => (window as any).setVisibility('hidden'));
  expect(await page.evaluate(() => (window as any).socket.retry)).toEqual({ attempt: 1, delayMs: 60_000, hold: 'hidden' });
  expect(await page.evaluate(() => (window as any).socket.nextRetryAt)).toBeUndefined();
  const shownAt = Date.now();
  await page.evaluate(() => (window as any).setVisibility('visible'));
  // At once, not after the 60 s backoff: the bound sits far from both, so a busy machine cannot tip it.
  await page.waitForFunction(() => (window as any).socket.state === 'open', undefined, { timeout: 30_000 });
  expect(Date.now() - shownAt).toBeLessThan(30_000);
  await page.evaluate(() => (window as any).socket.close());
  expect(run.errors).toEqual([]);
});

test('the real window: a persisted pagehide closes cleanly (1001 sent as 1000) and pageshow reopens', async ({ page }) => {
  run = await openPage(page);
  await page.evaluate((url) => {
    const socket = new RWS.ReconnectingSocket(url, { heartbeat: false });
    (window as any).socket = socket;
    socket.on('close', (event: object) => (window as any).__events.push(event));
  }, run.url);
  await page.waitForFunction(() => (window as any).socket.state === 'open');
  // A non-persisted pagehide (a real unload) is not the back-forward cache: nothing happens.
  await page.evaluate(() => window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: false })));
  expect(await page.evaluate(() => (window as any).socket.state)).toBe('open');

  await page.evaluate(() => window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true })));
  await page.waitForFunction(() => (window as any).socket.retry?.hold === 'pagehide', undefined, { timeout: 5_000 });
  expect(run.server.closeFrames).toEqual([{ code: 1000, reason: 'page hidden' }]);
  expect(await page.evaluate(() => (window as any).__events)).toMatchObject([{ cause: 'pagehide', wasClean: true, willReconnect: true, delayMs: undefined }]);

  await page.evaluate(() => window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true })));
  await page.waitForFunction(() => (window as any).socket.state === 'open', undefined, { timeout: 5_000 });
  expect(run.server.connections).toBe(2);
  await page.evaluate(() => (window as any).socket.close());
  expect(run.errors).toEqual([]);
});

test('await using closes with the handshake at the end of the scope; using disposes', async ({ page }) => {
  run = await openPage(page);
  const result = await page.evaluate(async (url) => {
    // Written as a string so that the page's own engine parses `using` (Chromium supports it natively).
    const body = `
      let outer;
      {
        await using socket = new RWS.ReconnectingSocket(url, { heartbeat: false });
        outer = socket;
        await RWS.opened(socket, { timeoutMs: 5000 });
      }
      let inner;
      {
        using socket = new RWS.ReconnectingSocket(url, { heartbeat: false });
        inner = socket;
        await RWS.opened(socket, { timeoutMs: 5000 });
      }
      return { asyncState: outer.state, asyncDisposed: outer.isDisposed, asyncClose: outer.lastClose, syncDisposed: inner.isDisposed, syncClose: inner.lastClose };`;
    return new Function('RWS', 'url', `return (async () => {${body}})();`)(RWS, url);
  }, run.url);
  expect(result).toMatchObject({
    asyncState: 'closed',
    asyncDisposed: true,
    asyncClose: { code: 1000, wasClean: true, cause: 'client' },
    syncDisposed: true,
    syncClose: { code: 1006, cause: 'dispose' },
  });
  await expect.poll(() => run!.server.closeFrames).toEqual([{ code: 1000, reason: '' }]);
  expect(run.errors).toEqual([]);
});

test('an idle socket (autoConnect: false) adds no window or document listener before its first attempt', async ({ page }) => {
  // README: "While the socket runs, from its first attempt to its final close, it follows the environment [...]
  // so neither window nor a long-lived AbortSignal keeps a closed socket alive." Fails: the constructor subscribes.
  run = await openPage(page);
  const listeners = await page.evaluate((url) => {
    (window as any).socket = new RWS.ReconnectingSocket(url, { autoConnect: false });
    return (window as any).__listeners();
  }, run.url);
  await page.evaluate(() => (window as any).socket.dispose());
  expect(listeners).toEqual({});
});

declare global {
  // eslint-disable-next-line no-var
  var RWS: typeof import('../dist/index.js');
}
