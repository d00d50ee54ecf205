import { expect, test, type Page } from '@playwright/test';
import { EchoServer } from './servers.js';
import { bundleEntry, openBlankPage } from './support.js';

// Issue #13 in a real Chromium, through the built package (dist/index.js bundled for the browser here) against a
// `ws` server of this spec on 127.0.0.1:0. A browser's WebSocket takes no constructor options, so `transport`
// is ignored there with one console warning per socket, and the socket connects all the same;
// `maxMessageBytes` is checked on arrival. The page is the demo server's /health document (an http://127.0.0.1
// origin); the library is injected into it as `window.RWS`.

let bundle = '';

test.beforeAll(async () => {
  ({ code: bundle } = await bundleEntry('dist/index.js', 'RWS'));
});

interface PageRun {
  url: string;
  server: EchoServer;
  errors: string[];
  warnings: string[];
}

async function openPage(page: Page): Promise<PageRun> {
  const server = new EchoServer();
  const url = await server.start();
  const { errors, warnings } = await openBlankPage(page);
  await page.addScriptTag({ content: bundle });
  return { url, server, errors, warnings };
}

const ignoredWarnings = (run: PageRun) => run.warnings.filter((line) => line.includes('transport ignored'));

let run: PageRun | undefined;

test.afterEach(async () => {
  await run?.server.stop();
  run = undefined;
});

test('transport is ignored in the browser with one warning, however many attempts; the socket connects and echoes', async ({ page }) => {
  run = await openPage(page);
  // The first two connections are told to come back later (1012 reconnects): three attempts in all.
  run.server.onConnection = (ws, index) => index < 2 && ws.close(1012, 'restart');
  const result = await page.evaluate(async (url) => {
    const socket = new RWS.ReconnectingSocket(url, {
      transport: { rejectUnauthorized: false, maxPayload: 10, headers: { authorization: 'Bearer x' } },
      initialDelayMs: 20,
      jitter: false,
      heartbeat: false,
    });
    let opens = 0;
    socket.on('open', () => opens++);
    await new Promise<void>((resolve) => socket.on('open', () => opens === 3 && resolve()));
    // maxPayload above was ignored too: a message larger than 10 bytes goes through.
    const echoed = new Promise((resolve) => socket.once('message', ({ data }: { data: unknown }) => resolve(data)));
    socket.send('hello from the browser, longer than ten bytes');
    const data = await echoed;
    const record = await socket.close();
    return { opens, data, record };
  }, run.url);

  expect(result.opens).toBe(3);
  expect(result.data).toBe('hello from the browser, longer than ten bytes');
  expect(result.record).toMatchObject({ code: 1000, wasClean: true, cause: 'client' });
  expect(run.server.connections).toBe(3);
  expect(ignoredWarnings(run)).toHaveLength(1);
  expect(run.warnings.filter((line) => line.includes('headers ignored'))).toEqual([]);
  expect(run.errors).toEqual([]);
});

test('a transport provider in the browser: one warning per socket, and both sockets open', async ({ page }) => {
  run = await openPage(page);
  const states = await page.evaluate(async (url) => {
    const make = () =>
      new RWS.ReconnectingSocket(url, {
        transport: async ({ attempt }: { attempt: number }) => ({ handshakeTimeout: 1000 + attempt }),
        heartbeat: false,
      });
    const sockets = [make(), make()];
    await Promise.all(sockets.map((socket) => RWS.opened(socket, { timeoutMs: 5000 })));
    const opened = sockets.map((socket) => socket.state);
    await Promise.all(sockets.map((socket) => socket.close()));
    return opened;
  }, run.url);

  expect(states).toEqual(['open', 'open']);
  expect(run.server.connections).toBe(2);
  expect(ignoredWarnings(run)).toHaveLength(2);
  expect(run.errors).toEqual([]);
});

test('the warning goes to the debug hook too, once', async ({ page }) => {
  run = await openPage(page);
  const lines = await page.evaluate(async (url) => {
    const debug: string[] = [];
    const socket = new RWS.ReconnectingSocket(url, { transport: { family: 4 }, heartbeat: false, debug: (message: string) => debug.push(message) });
    await RWS.opened(socket, { timeoutMs: 5000 });
    socket.reconnect();
    await RWS.opened(socket, { timeoutMs: 5000 });
    await socket.close();
    return debug.filter((line) => line.includes('transport ignored'));
  }, run.url);

  expect(lines).toHaveLength(1);
  expect(run.server.connections).toBe(2);
  expect(run.errors).toEqual([]);
});

test('maxMessageBytes in the browser: a message at the limit is delivered; one over it closes with 1009, no retry', async ({ page }) => {
  run = await openPage(page);
  // First connection: a frame at the limit, then one over it.
  run.server.onConnection = (ws, index) => {
    if (index !== 0) return;
    ws.send(Buffer.alloc(1024, 1), { binary: true });
    setTimeout(() => ws.readyState === ws.OPEN && ws.send(Buffer.alloc(2048, 2), { binary: true }), 50);
  };
  const result = await page.evaluate(async (url) => {
    const socket = new RWS.ReconnectingSocket(url, { maxMessageBytes: 1024, initialDelayMs: 20, jitter: false, heartbeat: false });
    const sizes: number[] = [];
    const errors: string[] = [];
    socket.on('message', ({ data }: { data: unknown }) => sizes.push((data as ArrayBuffer).byteLength));
    socket.on('error', ({ error }: { error: { code: string } }) => errors.push(error.code));
    const final = await socket.closed;
    await new Promise((resolve) => setTimeout(resolve, 300));
    return { sizes, errors, final: { code: final.code, cause: final.cause }, state: socket.state };
  }, run.url);

  expect(result.sizes).toEqual([1024]);
  expect(result.final).toEqual({ code: 1009, cause: 'protocol' });
  expect(result.errors).toEqual(['SOCKET_ERROR']);
  expect(result.state).toBe('closed');
  expect(run.server.connections).toBe(1);
  expect(ignoredWarnings(run)).toEqual([]);
  expect(run.errors).toEqual([]);
});

declare global {
  // eslint-disable-next-line no-var
  var RWS: typeof import('../dist/index.js');
}
