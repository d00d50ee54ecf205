import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'esbuild';
import { expect, test, type Page } from '@playwright/test';
import { EchoServer } from './servers.js';
import { bundleForPage, openBlankPage } from './support.js';

// The compat ReconnectingWebSocket in a real Chromium with its native WebSocket, from the BUILT package: the
// page imports `resilient-websocket/compat/...` and those names are resolved through package.json's "exports"
// map, as a bundler would. The page is the demo server's /health document (an http://127.0.0.1 origin); the
// bundle is injected into it, and each test has its own `ws` server on 127.0.0.1:0.

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGE = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, { import: { default: string } }> };

/** Resolves `resilient-websocket[/subpath]` the way a bundler does: the "import" target of the exports map. */
const byExportsMap: Plugin = {
  name: 'exports-map',
  setup(b) {
    b.onResolve({ filter: /^resilient-websocket(\/.*)?$/ }, ({ path: specifier }) => {
      const target = PACKAGE.exports[`.${specifier.slice('resilient-websocket'.length)}`];
      if (!target) return { errors: [{ text: `${specifier} is not in package.json "exports"` }] };
      return { path: path.join(ROOT, target.import.default) };
    });
  },
};

let bundle = '';
let bundleInputs: string[] = [];

test.beforeAll(async () => {
  ({ code: bundle, inputs: bundleInputs } = await bundleForPage({
    stdin: {
      contents: [
        "export { default as PartySocket } from 'resilient-websocket/compat/partysocket/ws';",
        "export { default as PartyRoom, WebSocket as PartyWebSocket } from 'resilient-websocket/compat/partysocket';",
        "export { default as ReconnectingWebSocket } from 'resilient-websocket/compat/reconnecting-websocket';",
        "export { default as Compat } from 'resilient-websocket/compat';",
      ].join('\n'),
      resolveDir: ROOT,
      loader: 'js',
    },
    globalName: 'Compat',
    plugins: [byExportsMap],
  }));
});

/** Chromium's own console line for a handshake that failed: expected where a test refuses or drops. */
const HANDSHAKE_FAILURE = /^WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/' failed: /;

interface PageRun {
  url: string;
  server: EchoServer;
  errors: string[];
}

/**
 * Opens a page with the bundle as `window.Compat`, and a recorder: `window.__record(socket)` logs each event of
 * the socket into `window.__seen` with the readyState seen inside the listener.
 */
async function openPage(page: Page): Promise<PageRun> {
  const server = new EchoServer();
  const url = await server.start();
  const { errors } = await openBlankPage(page, { ignore: HANDSHAKE_FAILURE });
  await page.addScriptTag({ content: bundle });
  await page.addScriptTag({
    content: `
      window.__seen = [];
      window.__record = (socket, name) => {
        for (const type of ['open', 'message', 'close', 'error']) {
          socket.addEventListener(type, (event) => {
            const data = event.data;
            window.__seen.push({
              name, type, readyState: socket.readyState, code: event.code, reason: event.reason, wasClean: event.wasClean,
              data: typeof data === 'string' ? data : data instanceof Blob ? 'Blob' : data instanceof ArrayBuffer ? 'ArrayBuffer' : undefined,
            });
          });
        }
        return socket;
      };
      window.__until = (predicate, timeoutMs = 5000) => new Promise((resolve, reject) => {
        const started = Date.now();
        const poll = () => predicate() ? resolve() : Date.now() - started > timeoutMs ? reject(new Error('timed out: ' + predicate)) : setTimeout(poll, 10);
        poll();
      });`,
  });
  return { url, server, errors };
}

declare global {
  interface Window {
    Compat: { PartySocket: any; ReconnectingWebSocket: any; Compat: any; PartyRoom: any; PartyWebSocket: any };
    __seen: Array<{ name: string; type: string; readyState: number; code?: number; reason?: string; wasClean?: boolean; data?: string }>;
    __record: (socket: any, name: string) => any;
    __until: (predicate: () => boolean, timeoutMs?: number) => Promise<void>;
  }
}

let run: PageRun | undefined;

test.afterEach(async () => {
  await run?.server.stop();
  expect(run?.errors ?? [], 'console errors on the page').toEqual([]);
  run = undefined;
});

test('the built package through its exports map: no Node code; both flavours open, echo and close in Chromium', async ({ page }) => {
  expect(bundleInputs.some((file) => file.endsWith('dist/compat/partysocket/ws.js'))).toBe(true);
  expect(bundleInputs.some((file) => file.endsWith('dist/compat/partysocket.js'))).toBe(true);
  expect(bundleInputs.some((file) => file.endsWith('dist/compat/reconnecting-websocket.js'))).toBe(true);
  expect(bundleInputs.filter((file) => /node_modules\/ws\//.test(file) || /isomorphic-ws\/node\.js$/.test(file))).toEqual([]);
  expect(bundle).not.toMatch(/require\(["']ws["']\)|from ["']ws["']|node:/);

  run = await openPage(page);
  const result = await page.evaluate(async (url) => {
    const { PartySocket, ReconnectingWebSocket, Compat, PartyRoom, PartyWebSocket } = window.Compat;
    // compat's default is partysocket's reconnecting WebSocket; compat/partysocket's is PartySocket (a room client).
    const out: Record<string, unknown> = { compatIsPartySocket: Compat === PartySocket && PartyWebSocket === PartySocket && Object.getPrototypeOf(PartyRoom) === PartySocket };
    for (const [name, Class] of [['party', PartySocket], ['rws', ReconnectingWebSocket]] as const) {
      const socket = window.__record(new Class(url), name);
      const sent = socket.send('queued');
      out[`${name}.initial`] = socket.readyState;
      out[`${name}.sendWhileConnecting`] = sent;
      out[`${name}.isEventTarget`] = socket instanceof EventTarget;
      await window.__until(() => socket.readyState === 1);
      socket.send('{"binary":[1,2]}');
      await window.__until(() => window.__seen.filter((e) => e.name === name && e.type === 'message').length === 2);
      socket.binaryType = 'arraybuffer';
      socket.send('{"binary":3}');
      await window.__until(() => window.__seen.filter((e) => e.name === name && e.type === 'message').length === 3);
      socket.close(4000, 'bye');
      out[`${name}.afterClose`] = socket.readyState;
      out[`${name}.closeEventsAtOnce`] = window.__seen.filter((e) => e.name === name && e.type === 'close').length;
      await window.__until(() => window.__seen.some((e) => e.name === name && e.type === 'close'));
      await new Promise((resolve) => setTimeout(resolve, 200));
      out[`${name}.final`] = socket.readyState;
    }
    return out;
  }, run.url);

  expect(result).toEqual({
    compatIsPartySocket: true,
    'party.initial': 0,
    'party.sendWhileConnecting': false,
    'party.isEventTarget': true,
    'party.afterClose': 3,
    'party.closeEventsAtOnce': 1,
    'party.final': 3,
    'rws.initial': 0,
    'rws.sendWhileConnecting': undefined,
    'rws.isEventTarget': true,
    'rws.afterClose': 2,
    'rws.closeEventsAtOnce': 0,
    'rws.final': 3,
  });
  const seen = await page.evaluate(() => window.__seen);
  for (const name of ['party', 'rws']) {
    expect(seen.filter((e) => e.name === name).map((e) => `${e.type} ${e.readyState} ${e.data ?? e.code ?? ''}`)).toEqual([
      'open 1 ',
      'message 1 queued',
      'message 1 Blob',
      'message 1 ArrayBuffer',
      'close 3 4000',
    ]);
  }
  await expect.poll(() => run!.server.closeFrames).toEqual([
    { code: 4000, reason: 'bye' },
    { code: 4000, reason: 'bye' },
  ]);
});

test('a dropped connection: retries with the backoff (jitter off), messages sent meanwhile arrive in order after the reconnect', async ({ page }) => {
  run = await openPage(page);
  const server = run.server;
  await page.evaluate((url) => {
    const socket = window.__record(new window.Compat.ReconnectingWebSocket(url, undefined, { minReconnectionDelay: 150, reconnectionDelayGrowFactor: 2, maxReconnectionDelay: 500 }), 'rws');
    (window as unknown as { socket: unknown }).socket = socket;
    return window.__until(() => socket.readyState === 1);
  }, run.url);

  server.refusing = true;
  for (const ws of server.sockets) ws.terminate();
  await page.evaluate(() => window.__until(() => window.__seen.some((e) => e.type === 'close')));
  await page.evaluate(() => {
    const socket = (window as unknown as { socket: { send(data: string): void } }).socket;
    for (const text of ['one', 'two', 'three']) socket.send(text);
  });
  await expect.poll(() => server.attempts.length, { timeout: 5_000 }).toBeGreaterThanOrEqual(4);
  server.refusing = false;
  await page.evaluate(() => window.__until(() => window.__seen.filter((e) => e.type === 'open').length === 2, 5_000));
  await expect.poll(() => server.received).toEqual(['one', 'two', 'three']);

  // attempts[0] opened; the drop's retries wait 150, 300, 500 (capped) ms: each gap is that plus a failed handshake.
  // No gap is shorter than its delay. The upper bound only catches a delay far off the curve (the 10 s default,
  // say): a busy machine can add a second or more to a handshake, so it is not a measure of precision.
  const gaps = server.attempts.slice(1, 5).map((at, i) => at - server.attempts[i]!);
  const expected = [150, 300, 500];
  gaps.slice(1, 4).forEach((gap, i) => {
    expect(gap).toBeGreaterThanOrEqual(expected[i]! - 5);
    expect(gap).toBeLessThan(expected[i]! + 4_000);
  });
  await page.evaluate(() => window.__until(() => window.__seen.filter((e) => e.type === 'message').length === 3));
  const seen = await page.evaluate(() => window.__seen.map((e) => `${e.type} ${e.code ?? e.data ?? ''}`));
  // open, the drop, then a failed handshake each until the server accepts again, reported as the originals do:
  // a clean close (1000), then the error.
  const failures = (seen.length - 6) / 2;
  expect(failures).toBeGreaterThanOrEqual(3);
  expect(seen).toEqual(['open ', 'close 1006', ...Array.from({ length: failures }, () => ['close 1000', 'error ']).flat(), 'open ', 'message one', 'message two', 'message three']);
  await page.evaluate(() => (window as unknown as { socket: { close(): void } }).socket.close());
});

test('reconnect(code, reason), a server close code, shouldReconnectOnClose, and reconnect() after giving up', async ({ page }) => {
  run = await openPage(page);
  const server = run.server;
  const result = await page.evaluate(async (url) => {
    const socket = window.__record(
      new window.Compat.PartySocket(url, null, { minReconnectionDelay: 50, shouldReconnectOnClose: (event: { code: number }) => event.code !== 4003 }),
      'party',
    );
    await window.__until(() => socket.readyState === 1);
    socket.reconnect(4001, 'again');
    const closeAtOnce = window.__seen.filter((e) => e.type === 'close').at(-1);
    await window.__until(() => window.__seen.filter((e) => e.type === 'open').length === 2);
    (window as unknown as { socket: unknown }).socket = socket;
    return { closeAtOnce };
  }, run.url);
  expect(result.closeAtOnce).toMatchObject({ code: 4001, reason: 'again' });
  await expect.poll(() => server.closeFrames).toEqual([{ code: 4001, reason: 'again' }]);

  for (const ws of server.sockets) ws.close(4003, 'go away');
  await page.evaluate(() => window.__until(() => window.__seen.filter((e) => e.type === 'close').length === 2));
  await page.waitForTimeout(200);
  const afterRefusal = await page.evaluate(() => ({ readyState: (window as any).socket.readyState, last: window.__seen.at(-1) }));
  expect(afterRefusal).toMatchObject({ readyState: 3, last: { type: 'close', code: 4003, reason: 'go away', wasClean: true } });
  expect(server.attempts).toHaveLength(2);

  await page.evaluate(() => {
    (window as any).socket.reconnect();
    return window.__until(() => window.__seen.filter((e) => e.type === 'open').length === 3);
  });
  expect(server.attempts).toHaveLength(3);
  await page.evaluate(() => (window as any).socket.close());
});
