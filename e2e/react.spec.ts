import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import { RoomServer } from './servers.js';
import type { AppEvent, SocketSpec } from './react-app/app.js';
import { bundleForPage } from './support.js';

// `resilient-websocket/react` in a real Chromium, with React's development build (StrictMode double-runs
// effects only there). The page (e2e/react-app/app.ts) is bundled here against the built package, once with
// React 19 and once with React 18 (the `react18`/`react-dom18` aliases). What the server saw is the measure:
// each test has its own `ws` server on 127.0.0.1:0 that counts connections per `?room=`.

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const APP = path.join(ROOT, 'e2e', 'react-app', 'app.ts');

function bundleApp(major: 18 | 19): Promise<{ code: string; inputs: string[] }> {
  return bundleForPage({
    entryPoints: [APP],
    format: 'esm',
    define: { 'process.env.NODE_ENV': '"development"' },
    alias: major === 18 ? { react: 'react18', 'react-dom': 'react-dom18' } : {},
    plugins: [
      {
        // The page imports src/ for its types; the code it runs is the built package.
        name: 'built-package',
        setup(b) {
          b.onResolve({ filter: /\/src\/react\/index\.js$/ }, (args) =>
            args.importer === APP ? { path: path.join(ROOT, 'dist', 'react', 'index.js') } : undefined,
          );
        },
      },
    ],
  });
}

/** Drives the page's `window.app` and reads what the components show. */
class App {
  constructor(readonly page: Page) {}

  render(specs: SocketSpec[], strict = true): Promise<void> {
    return this.page.evaluate(([s, isStrict]) => window.app.render(s, isStrict), [specs, strict] as const);
  }

  unmount(): Promise<void> {
    return this.page.evaluate(() => window.app.unmount());
  }

  state(id: string) {
    return this.page.locator(`[data-id="${id}"] .state`);
  }

  last(id: string) {
    return this.page.locator(`[data-id="${id}"] .last`);
  }

  send(id: string, text: string): Promise<string> {
    return this.page.evaluate(([i, t]) => window.app.send(i, t), [id, text] as const);
  }

  events(filter: Partial<AppEvent> = {}): Promise<AppEvent[]> {
    return this.page.evaluate((f) => window.app.events().filter((e) => Object.entries(f).every(([k, v]) => e[k as keyof AppEvent] === v)), filter);
  }

  /** Every socket any component rendered with has been disposed (closed with the handshake, then disposed). */
  async expectAllDisposed(): Promise<void> {
    await expect.poll(() => this.page.evaluate(() => window.app.allSockets().filter((s) => !s.isDisposed).length)).toBe(0);
  }
}

/** Long enough for a second connection, had one been started, to reach the server. */
const SETTLE_MS = 300;

for (const major of [19, 18] as const) {
  test.describe(`React ${major}`, () => {
    let bundle = '';
    let rooms: RoomServer;
    let app: App;
    let errors: string[];

    test.beforeAll(async () => {
      const { code, inputs } = await bundleApp(major);
      expect(inputs.some((file) => file.endsWith('dist/react/index.js'))).toBe(true);
      expect(inputs.filter((file) => file.includes('/src/'))).toEqual([]);
      // Exactly one React: the aliases reach react-dom's own imports of react too.
      const reactPackage = major === 18 ? 'react18' : 'react';
      expect(inputs.filter((file) => /node_modules\/react(18)?\/(index|cjs)/.test(file) && !file.includes(`node_modules/${reactPackage}/`))).toEqual([]);
      bundle = code;
    });

    test.beforeEach(async ({ page }) => {
      rooms = new RoomServer({ echo: true });
      await rooms.start();
      errors = [];
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') errors.push(`${message.type()}: ${message.text()}`);
      });
      page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
      await page.route('**/favicon.ico', (route) => route.fulfill({ status: 204, body: '' }));
      // A document the demo server itself serves, so the page is on loopback too (Chromium's local network
      // access checks block a page fulfilled by the test from reaching 127.0.0.1).
      await page.goto('/health');
      await page.evaluate(() => {
        document.body.replaceChildren(Object.assign(document.createElement('div'), { id: 'root' }));
      });
      await page.addScriptTag({ type: 'module', content: bundle });
      await page.waitForFunction(() => typeof window.app === 'object');
      expect(await page.evaluate(() => window.app.reactVersion)).toMatch(new RegExp(`^${major}\\.`));
      app = new App(page);
    });

    test.afterEach(async () => {
      await rooms.stop();
      expect(errors, 'console errors and warnings on the page').toEqual([]);
    });

    test('StrictMode: one connection per mount; unmount closes it; a remount opens exactly one more', async ({ page }) => {
      await app.render([{ id: 'a', url: rooms.url('a') }]);
      await expect(app.state('a')).toHaveText('open');
      await page.waitForTimeout(SETTLE_MS);
      expect(rooms.total('a')).toBe(1);
      expect(rooms.live('a')).toBe(1);
      expect(await app.events({ id: 'a', type: 'open' })).toHaveLength(1);
      expect(await app.send('a', 'hello')).toBe('sent');
      await expect(app.last('a')).toHaveText('hello');

      await app.unmount();
      await expect.poll(() => rooms.live('a')).toBe(0);
      expect(rooms.closes).toEqual([{ room: 'a', code: 1000 }]);
      await app.expectAllDisposed();

      await app.render([{ id: 'a', url: rooms.url('a') }]);
      await expect(app.state('a')).toHaveText('open');
      await expect(app.last('a')).toHaveText('');
      expect(await app.send('a', 'again')).toBe('sent');
      await expect(app.last('a')).toHaveText('again');
      await page.waitForTimeout(SETTLE_MS);
      expect(rooms.total('a')).toBe(2);
      expect(rooms.live('a')).toBe(1);

      await app.unmount();
      await expect.poll(() => rooms.live('a')).toBe(0);
      await app.expectAllDisposed();
      expect(rooms.connections).toEqual(['a', 'a']);
    });

    test('without StrictMode: the same, one connection per mount', async ({ page }) => {
      await app.render([{ id: 'a', url: rooms.url('a') }], false);
      await expect(app.state('a')).toHaveText('open');
      await page.waitForTimeout(SETTLE_MS);
      expect(rooms.connections).toEqual(['a']);
      await app.unmount();
      await expect.poll(() => rooms.live('a')).toBe(0);
      await app.expectAllDisposed();
    });

    test('a new url closes the old connection and opens one to the new url', async ({ page }) => {
      await app.render([{ id: 'a', url: rooms.url('x') }]);
      await expect(app.state('a')).toHaveText('open');
      expect(await app.send('a', 'one')).toBe('sent');
      await expect(app.last('a')).toHaveText('one');

      await app.render([{ id: 'a', url: rooms.url('y') }]);
      await expect.poll(() => rooms.live('y')).toBe(1);
      await expect.poll(() => rooms.live('x')).toBe(0);
      await expect(app.state('a')).toHaveText('open');
      await expect(app.last('a')).toHaveText(''); // the last message belonged to the old socket
      expect(await app.send('a', 'two')).toBe('sent');
      await expect(app.last('a')).toHaveText('two');
      await page.waitForTimeout(SETTLE_MS);
      expect(rooms.connections).toEqual(['x', 'y']);
      expect(rooms.closes).toEqual([{ room: 'x', code: 1000 }]);
      expect(await page.evaluate(() => window.app.allSockets().map((s) => s.isDisposed))).toEqual([true, false]);

      await app.unmount();
      await expect.poll(() => rooms.live('y')).toBe(0);
      await app.expectAllDisposed();
    });

    test('enabled: false holds no connection, true opens one, false closes it, and a null url is the same', async ({ page }) => {
      const url = rooms.url('e');
      await app.render([{ id: 'a', url, enabled: false }]);
      await expect(app.state('a')).toHaveText('closed');
      expect(await app.send('a', 'nowhere')).toBe('closed');
      await page.waitForTimeout(SETTLE_MS);
      expect(rooms.total('e')).toBe(0);

      await app.render([{ id: 'a', url, enabled: true }]);
      await expect(app.state('a')).toHaveText('open');
      await app.render([{ id: 'a', url, enabled: false }]);
      await expect(app.state('a')).toHaveText('closed');
      await expect.poll(() => rooms.live('e')).toBe(0);
      expect(rooms.closes).toEqual([{ room: 'e', code: 1000 }]);
      await app.expectAllDisposed();

      await app.render([{ id: 'a', url, enabled: true }]);
      await expect(app.state('a')).toHaveText('open');
      await app.render([{ id: 'a', url: null }]);
      await expect(app.state('a')).toHaveText('closed');
      await expect.poll(() => rooms.live('e')).toBe(0);
      await page.waitForTimeout(SETTLE_MS);
      expect(rooms.connections).toEqual(['e', 'e']);
      await app.expectAllDisposed();
    });

    test('new handler and url functions on every render never reconnect, and the latest handlers get the events', async ({ page }) => {
      const specs = (label: string): SocketSpec[] => [
        { id: 'a', url: rooms.url('h'), label },
        { id: 'f', url: rooms.url('fn'), urlAsFunction: true, label },
      ];
      await app.render(specs('v1'));
      await expect(app.state('a')).toHaveText('open');
      await expect(app.state('f')).toHaveText('open');
      for (let i = 2; i <= 12; i++) await app.render(specs(`v${i}`));
      expect(await page.evaluate(() => window.app.renders('a'))).toBeGreaterThanOrEqual(12);

      rooms.broadcast('h', 'to-h');
      rooms.broadcast('fn', 'to-fn');
      await expect(app.last('a')).toHaveText('to-h');
      await expect(app.last('f')).toHaveText('to-fn');
      expect((await app.events({ type: 'message' })).map((e) => [e.id, e.label, e.data]).sort()).toEqual([
        ['a', 'v12', 'to-h'],
        ['f', 'v12', 'to-fn'],
      ]);
      await page.waitForTimeout(SETTLE_MS);
      expect(rooms.connections.sort()).toEqual(['fn', 'h']);
      expect(rooms.closes).toEqual([]);
      expect(await app.events({ type: 'open' })).toHaveLength(2);

      await app.unmount();
      await expect.poll(() => rooms.live('h') + rooms.live('fn')).toBe(0);
      await app.expectAllDisposed();
    });

    test('shared: one connection per url for many components, kept while any uses it, closed when the last unmounts', async ({ page }) => {
      const a = rooms.url('A');
      const b = rooms.url('B');
      const s = (id: string, url: string): SocketSpec => ({ id, url, shared: true });
      await app.render([s('a1', a), s('a2', a), s('a3', a), s('b1', b), s('b2', b)]);
      for (const id of ['a1', 'a2', 'a3', 'b1', 'b2']) await expect(app.state(id)).toHaveText('open');
      await page.waitForTimeout(SETTLE_MS);
      expect(rooms.connections.sort()).toEqual(['A', 'B']);

      // One connection: a message from the server, or the echo of one component's send, reaches every user.
      rooms.broadcast('A', 'news');
      for (const id of ['a1', 'a2', 'a3']) await expect(app.last(id)).toHaveText('news');
      expect(await app.send('a2', 'from-a2')).toBe('sent');
      for (const id of ['a1', 'a2', 'a3']) await expect(app.last(id)).toHaveText('from-a2');
      await expect(app.last('b1')).toHaveText('');
      expect(await app.events({ id: 'a1', type: 'open' })).toHaveLength(1);

      // Two of three unmount: the socket stays; a newcomer joins it open.
      await app.render([s('a3', a), s('b1', b), s('b2', b)]);
      await page.waitForTimeout(SETTLE_MS);
      expect(rooms.live('A')).toBe(1);
      await app.render([s('a3', a), s('a4', a), s('b1', b), s('b2', b)]);
      await expect(app.state('a4')).toHaveText('open');

      // One user leaves as another arrives in the same commit (a route change): still the same connection.
      await app.render([s('a5', a), s('b1', b), s('b2', b)]);
      await expect(app.state('a5')).toHaveText('open');
      await page.waitForTimeout(SETTLE_MS);
      expect(rooms.total('A')).toBe(1);
      expect(rooms.closes).toEqual([]);

      // The last user of A unmounts: A closes on the server, B stays.
      await app.render([s('b1', b), s('b2', b)]);
      await expect.poll(() => rooms.live('A')).toBe(0);
      expect(rooms.closes).toEqual([{ room: 'A', code: 1000 }]);
      expect(rooms.live('B')).toBe(1);

      // A comes back with a new connection; unmounting everything closes both.
      await app.render([s('a1', a), s('b1', b), s('b2', b)]);
      await expect(app.state('a1')).toHaveText('open');
      await app.unmount();
      await expect.poll(() => rooms.live('A') + rooms.live('B')).toBe(0);
      await app.expectAllDisposed();
      expect(rooms.connections.sort()).toEqual(['A', 'A', 'B']);
    });

    test('shared sockets are told apart by key, and a hook without shared never joins one', async ({ page }) => {
      const url = rooms.url('K');
      await app.render([
        { id: 's1', url, shared: true },
        { id: 's2', url, shared: true },
        { id: 'k1', url, shared: true, key: 'other' },
        { id: 'k2', url, shared: true, key: 'other' },
        { id: 'p1', url },
        { id: 'p2', url },
      ]);
      for (const id of ['s1', 's2', 'k1', 'k2', 'p1', 'p2']) await expect(app.state(id)).toHaveText('open');
      await page.waitForTimeout(SETTLE_MS);
      expect(rooms.total('K')).toBe(4); // the shared one, the keyed one, and one for each private hook
      expect(await app.send('k1', 'keyed')).toBe('sent');
      await expect(app.last('k2')).toHaveText('keyed');
      await expect(app.last('s1')).toHaveText('');
      await expect(app.last('p1')).toHaveText('');

      await app.unmount();
      await expect.poll(() => rooms.live('K')).toBe(0);
      await app.expectAllDisposed();
      expect(rooms.closes.map((c) => c.code)).toEqual([1000, 1000, 1000, 1000]);
    });
  });
}
