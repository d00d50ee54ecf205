import { createServer } from 'node:http';
import { chromium, expect, test, type BrowserContext, type Page } from '@playwright/test';
import { RoomServer } from './servers.js';
import { WebSocketServer } from 'ws';
import { bundleEntry, bundleForPage, openBlankPage } from './support.js';

// `resilient-websocket/shared` in a real Chromium: several pages of one browser context (one origin, the demo
// server's /health document) load the built entry (dist/shared/index.js, bundled here) and share connections
// to a `ws` server of this spec on 127.0.0.1:0. What the server saw is the measure.

let bundle = '';

test.beforeAll(async () => {
  ({ code: bundle } = await bundleEntry('dist/shared/index.js', 'RWSS'));
});

interface PageView {
  state: string;
  isLeader: boolean;
  isShared: boolean;
  messages: string[];
  drops: { message: string; reason: string }[];
  debug: string[];
}

declare global {
  interface Window {
    RWSS: any;
    handles: Record<string, any>;
    seen: Record<string, { messages: string[]; drops: { message: string; reason: string }[]; debug: string[] }>;
  }
}

let server: RoomServer;
const errors: string[] = [];

test.beforeEach(async () => {
  server = new RoomServer();
  await server.start();
  errors.length = 0;
});

test.afterEach(async () => {
  await server.stop();
});

/** A new page of the context with the shared entry loaded; `withoutBroadcastChannel` removes that API first. */
async function openPage(context: BrowserContext, options: { withoutBroadcastChannel?: boolean } = {}): Promise<Page> {
  const page = await context.newPage();
  await openBlankPage(page, { log: { errors, warnings: [] } });
  if (options.withoutBroadcastChannel) await page.evaluate(() => delete (window as { BroadcastChannel?: unknown }).BroadcastChannel);
  await page.addScriptTag({ content: bundle });
  await page.evaluate(() => {
    window.handles = {};
    window.seen = {};
  });
  return page;
}

/** Creates handle `name` on the page (url, key), recording its messages, drops and debug lines. */
async function share(page: Page, name: string, url: string, key = ''): Promise<void> {
  await page.evaluate(
    ({ name, url, key }) => {
      const seen = (window.seen[name] = { messages: [] as string[], drops: [] as { message: string; reason: string }[], debug: [] as string[] });
      const handle = new window.RWSS.SharedSocket(url, { key, debug: (line: string) => seen.debug.push(line) });
      handle.on('message', ({ data }: { data: string }) => seen.messages.push(data));
      handle.on('drop', ({ message, reason }: { message: string; reason: string }) => seen.drops.push({ message, reason }));
      window.handles[name] = handle;
    },
    { name, url, key },
  );
}

function view(page: Page, name = 'main'): Promise<PageView> {
  return page.evaluate((name) => {
    const handle = window.handles[name];
    return { state: handle.state, isLeader: handle.isLeader, isShared: handle.isShared, ...window.seen[name]! };
  }, name);
}

async function leaderOf(pages: Page[]): Promise<Page> {
  await expect.poll(async () => (await Promise.all(pages.map((p) => view(p)))).filter((v) => v.isLeader).length).toBe(1);
  const views = await Promise.all(pages.map((p) => view(p)));
  return pages[views.findIndex((v) => v.isLeader)]!;
}

async function threePages(context: BrowserContext, room: string): Promise<Page[]> {
  const pages: Page[] = [];
  for (let i = 0; i < 3; i++) {
    const page = await openPage(context);
    await share(page, 'main', server.url(room));
    pages.push(page);
  }
  for (const page of pages) await expect.poll(async () => (await view(page)).state).toBe('open');
  return pages;
}

test('three pages share one server connection; a server message reaches all three; follower sends arrive in order', async ({ context }) => {
  const pages = await threePages(context, 'a');
  expect(server.total('a')).toBe(1);
  expect(server.maxOpen.get('a')).toBe(1);

  for (const text of ['one', 'two', 'three']) server.broadcast('a', text);
  for (const page of pages) await expect.poll(async () => (await view(page)).messages).toEqual(['one', 'two', 'three']);

  const leader = await leaderOf(pages);
  const followers = pages.filter((p) => p !== leader);
  const results = await Promise.all(
    followers.map((page, f) =>
      page.evaluate((f) => [1, 2, 3, 4, 5].map((n) => window.handles.main.send(`f${f}-${n}`)), f),
    ),
  );
  expect(results.flat().every((r) => r === 'queued')).toBe(true);
  await expect.poll(() => server.texts('a').length).toBe(10);
  for (const f of [0, 1]) expect(server.texts('a').filter((t) => t.startsWith(`f${f}-`))).toEqual([1, 2, 3, 4, 5].map((n) => `f${f}-${n}`));
  expect(await leader.evaluate(() => window.handles.main.send('from-leader'))).toBe('sent');
  await expect.poll(() => server.texts('a')).toContain('from-leader');
  expect(server.total('a')).toBe(1);
  expect(errors).toEqual([]);
});

test('closing the leader page hands the connection to another page at once; nothing sent meanwhile is lost silently', async ({ context }) => {
  const pages = await threePages(context, 'h');
  const leader = await leaderOf(pages);
  const followers = pages.filter((p) => p !== leader);
  const COUNT = 30;
  // Each follower sends one message every 10 ms, before, during and after the leader page goes away.
  await Promise.all(
    followers.map((page, f) =>
      page.evaluate(
        ({ f, count }) => {
          let n = 0;
          const timer = setInterval(() => {
            window.handles.main.send(`h${f}-${String(++n).padStart(2, '0')}`);
            if (n === count) clearInterval(timer);
          }, 10);
        },
        { f, count: COUNT },
      ),
    ),
  );
  await new Promise((resolve) => setTimeout(resolve, 100));
  const closedAt = Date.now();
  await leader.close();
  await expect.poll(() => server.total('h'), { timeout: 5000 }).toBe(2);
  // The next leader connects at once: well inside the first backoff delay (initialDelayMs, 2000 ms by default).
  expect(Date.now() - closedAt).toBeLessThan(2000);
  // Never two connections open at once, not even during the handover.
  expect(server.maxOpen.get('h')).toBe(1);
  await leaderOf(followers);
  for (const page of followers) await expect.poll(async () => (await view(page)).state).toBe('open');

  // Every message either reached the server or was reported by a drop in the page that sent it; never both.
  const sentBy = (f: number) => Array.from({ length: COUNT }, (_, i) => `h${f}-${String(i + 1).padStart(2, '0')}`);
  await expect
    .poll(async () => {
      const views = await Promise.all(followers.map((p) => view(p)));
      return [0, 1].every((f) => {
        const arrived = server.texts('h');
        const dropped = views[f]!.drops.map((d) => d.message);
        return sentBy(f).every((m) => arrived.includes(m) !== dropped.includes(m));
      });
    })
    .toBe(true);
  for (const f of [0, 1]) {
    // Once each, in the order sent.
    const arrived = server.texts('h').filter((t) => t.startsWith(`h${f}-`));
    expect(new Set(arrived).size).toBe(arrived.length);
    expect(arrived).toEqual([...arrived].sort());
  }
  // And the new connection carries server messages to both remaining pages.
  server.broadcast('h', 'after');
  for (const page of followers) await expect.poll(async () => (await view(page)).messages).toContain('after');
  expect(server.openCount('h')).toBe(1);
});

test('two keys give two connections to one URL', async ({ context }) => {
  const pages = [await openPage(context), await openPage(context)];
  for (const page of pages) {
    await share(page, 'main', server.url('k'), 'first');
    await share(page, 'other', server.url('k'), 'second');
  }
  for (const page of pages) for (const name of ['main', 'other']) await expect.poll(async () => (await view(page, name)).state).toBe('open');
  expect(server.total('k')).toBe(2);
  expect(server.openCount('k')).toBe(2);
});

test('closing every page closes the connection on the server', async ({ context }) => {
  const pages = await threePages(context, 'c');
  expect(server.openCount('c')).toBe(1);
  // Followers first, the leader last: the connection stays until the last one goes.
  const leader = await leaderOf(pages);
  for (const page of pages.filter((p) => p !== leader)) {
    await page.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.openCount('c')).toBe(1);
  }
  await leader.close();
  await expect.poll(() => server.openCount('c')).toBe(0);
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(server.total('c')).toBe(1);
});

test('close() in every tab ends the shared connection with the close handshake', async ({ context }) => {
  const pages = await threePages(context, 'x');
  for (const page of pages) await page.evaluate(() => window.handles.main.close());
  await expect.poll(() => server.openCount('x')).toBe(0);
  for (const page of pages) expect((await view(page)).state).toBe('closed');
  // Each close of a leader hands over before the next close: never more than one open at once.
  expect(server.maxOpen.get('x')).toBe(1);
});

test('a page without BroadcastChannel falls back to its own socket and says so', async ({ context }) => {
  const shared = await openPage(context);
  await share(shared, 'main', server.url('f'));
  const alone = await openPage(context, { withoutBroadcastChannel: true });
  await share(alone, 'main', server.url('f'));
  for (const page of [shared, alone]) await expect.poll(async () => (await view(page)).state).toBe('open');
  const fallback = await view(alone);
  expect(fallback.isShared).toBe(false);
  expect(fallback.debug.some((line) => /per-tab socket/.test(line))).toBe(true);
  expect((await view(shared)).isShared).toBe(true);
  expect(server.total('f')).toBe(2);
});

// Issue 19.1 in a real back-forward cache. Playwright turns Chromium's off (--disable-back-forward-cache), and the
// demo server's pages are no-store (which keeps a page out of it), so this test launches its own Chromium with
// the cache on, and serves a plain page from a server of its own on 127.0.0.1:0.
test('a page restored from the back-forward cache leads again, and every message of its new connection arrives', async () => {
  const site = createServer((_request, response) => {
    response.setHeader('content-type', 'text/html');
    response.end('<!doctype html><title>shared</title><p>a page the back-forward cache may keep</p>');
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(site.address() as { port: number }).port}`;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'], ignoreDefaultArgs: ['--disable-back-forward-cache'] });
  try {
    const page = await browser.newPage();
    page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
    await page.goto(`${origin}/one`);
    await page.addScriptTag({ content: bundle });
    await page.evaluate((url) => {
      const w = window as unknown as { seen: { messages: string[]; shows: boolean[] }; handle: any; RWSS: any };
      w.seen = { messages: [], shows: [] };
      addEventListener('pageshow', (event) => w.seen.shows.push(event.persisted));
      w.handle = new w.RWSS.SharedSocket(url, { heartbeat: false });
      w.handle.on('message', ({ data }: { data: string }) => w.seen.messages.push(data));
    }, server.url('bf'));
    const read = () => page.evaluate(() => {
      const w = window as unknown as { seen: { messages: string[]; shows: boolean[] }; handle: any };
      return { ...w.seen, state: w.handle?.state as string | undefined, isLeader: w.handle?.isLeader as boolean | undefined };
    });
    await expect.poll(async () => (await read()).state).toBe('open');
    const before = [1, 2, 3, 4, 5].map((n) => `before-${n}`);
    for (const text of before) server.broadcast('bf', text);
    await expect.poll(async () => (await read()).messages).toEqual(before);

    // Away and back: restored from the cache (pageshow persisted), the page leads again on a new connection.
    await page.goto(`${origin}/two`);
    await page.evaluate(() => history.back());
    await expect.poll(() => page.evaluate(() => location.pathname).catch(() => '')).toBe('/one');
    await expect.poll(async () => (await read()).shows).toEqual([true]);
    await expect.poll(async () => (await read()).state).toBe('open');
    expect((await read()).isLeader).toBe(true);
    expect(server.total('bf')).toBe(2);
    const after = [1, 2, 3, 4, 5, 6].map((n) => `after-${n}`);
    for (const text of after) server.broadcast('bf', text);
    await expect.poll(async () => (await read()).messages).toEqual([...before, ...after]);
    expect(server.maxOpen.get('bf')).toBe(1);
    expect(errors).toEqual([]);
  } finally {
    await browser.close();
    await new Promise((resolve) => site.close(resolve));
  }
});

// Issue 19.2 with real Web Locks: the next leader's page gets the channel late (each message it receives waits
// 300 ms, as on a busy page), so the departed leader's answer to its hello arrives after it took the lock.
test("a departed leader's late announcement does not take over the next leader's page", async ({ context }) => {
  const first = await openPage(context);
  await share(first, 'main', server.url('late'));
  await expect.poll(async () => (await view(first)).state).toBe('open');
  const next = await openPage(context);
  await next.evaluate((url) => {
    class SlowChannel {
      onmessage: ((event: { data: unknown }) => void) | null = null;
      readonly #channel: BroadcastChannel;
      constructor(name: string) {
        this.#channel = new BroadcastChannel(name);
        this.#channel.onmessage = (event) => setTimeout(() => this.onmessage?.({ data: event.data }), 300);
      }
      postMessage(message: unknown) {
        this.#channel.postMessage(message);
      }
      close() {
        this.#channel.close();
      }
    }
    const seen = (window.seen.main = { messages: [] as string[], drops: [] as { message: string; reason: string }[], debug: [] as string[] });
    const coordination = { locks: navigator.locks, BroadcastChannel: SlowChannel, page: window };
    window.handles.main = new window.RWSS.SharedSocket(url, { coordination, debug: (line: string) => seen.debug.push(line) });
  }, server.url('late'));
  // The first page has answered the hello by now (its channel is not slow); then it leaves, and the lock moves.
  await new Promise((resolve) => setTimeout(resolve, 100));
  await first.evaluate(() => window.handles.main.dispose());
  await expect.poll(async () => (await view(next)).isLeader).toBe(true);
  await expect.poll(async () => (await view(next)).state).toBe('open');
  // Long after every late message arrived, the page still follows its own connection.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  expect((await view(next)).state).toBe('open');
  // Open within a second (the hang left it `connecting` with its connection open).
  const state = await next.evaluate(
    () =>
      new Promise<string>((resolve) => {
        const handle = window.handles.main;
        if (handle.state === 'open') return resolve('open');
        handle.on('state', ({ to }: { to: string }) => to === 'open' && resolve('open'));
        setTimeout(() => resolve(handle.state), 1000);
      }),
  );
  expect(state).toBe('open');
  expect(await next.evaluate(() => window.handles.main.send('after'))).toBe('sent');
  await expect.poll(() => server.texts('late')).toEqual(['after']);
  expect(server.total('late')).toBe(2);
  expect(errors).toEqual([]);
});

// Issue 22 in a real Chromium: the leader's connection is a ResumableSocket (`Socket` option), the server runs
// the resume helper (dist/server). The leader page goes away mid-stream, by close() or by closing the page
// (pagehide): the next page continues the same session, and every message of the pages that stay arrives once.
for (const how of ['close()', 'the page closing'] as const) {
  test(`with Socket: ResumableSocket, the leader leaving by ${how} hands the session over: nothing lost, nothing twice`, async ({ context }) => {
    const { attachResume } = await import('../dist/server/index.js');
    const { code: both } = await bundleForPage({
      stdin: { contents: "export { SharedSocket } from './dist/shared/index.js'; export { ResumableSocket } from './dist/resume/index.js';", resolveDir: new URL('..', import.meta.url).pathname },
      globalName: 'RWSS',
    });
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => wss.once('listening', resolve));
    const resume = attachResume(wss, { pingIntervalMs: false, ackDelayMs: 20 });
    const sessions: { recovered: boolean; send(data: string): unknown; isEnded: boolean }[] = [];
    const got: string[] = [];
    resume.on('session', ({ session }) => {
      sessions.push(session);
      session.on('message', ({ data }) => got.push(data.toString()));
    });
    try {
      const url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}/`;
      const pages: Page[] = [];
      for (let i = 0; i < 3; i++) {
        const page = await context.newPage();
        await openBlankPage(page, { log: { errors, warnings: [] } });
        await page.addScriptTag({ content: both });
        await page.evaluate((url) => {
          const seen = { delivered: [] as string[], drops: [] as unknown[], messages: [] as string[], opens: [] as unknown[] };
          const handle = new window.RWSS.SharedSocket(url, { Socket: window.RWSS.ResumableSocket, resume: { ackDelayMs: 20 } });
          handle.on('delivered', ({ message }: { message: string }) => seen.delivered.push(message));
          handle.on('drop', (event: unknown) => seen.drops.push(event));
          handle.on('message', ({ data }: { data: string }) => seen.messages.push(data));
          handle.on('open', (event: unknown) => seen.opens.push(event));
          (window as any).resumed = { handle, seen };
        }, url);
        pages.push(page);
      }
      const state = (page: Page) =>
        page.evaluate(() => {
          const { handle, seen } = (window as any).resumed;
          return { state: handle.state as string, isLeader: handle.isLeader as boolean, ...(seen as { delivered: string[]; drops: unknown[]; messages: string[]; opens: { recovered?: boolean }[] }) };
        });
      for (const page of pages) await expect.poll(async () => (await state(page)).state).toBe('open');
      const views = await Promise.all(pages.map(state));
      const leader = pages[views.findIndex((v) => v.isLeader)]!;
      const followers = pages.filter((p) => p !== leader);
      const COUNT = 40;
      // Each follower sends, and the server sends, one message every 10 ms, before, during and after the hand-over.
      await Promise.all(
        followers.map((page, f) =>
          page.evaluate(
            ({ f, count }) => {
              let n = 0;
              const timer = setInterval(() => {
                (window as any).resumed.handle.send(`p${f}-${String(n++).padStart(2, '0')}`);
                if (n === count) clearInterval(timer);
              }, 10);
            },
            { f, count: COUNT },
          ),
        ),
      );
      let pushed = 0;
      const pusher = setInterval(() => {
        const session = [...sessions].reverse().find((s) => !s.isEnded);
        if (pushed < COUNT && session) session.send(`s${String(pushed++).padStart(2, '0')}`);
      }, 10);
      await new Promise((resolve) => setTimeout(resolve, 150));
      if (how === 'close()') await leader.evaluate(() => (window as any).resumed.handle.close());
      else await leader.close();
      await expect.poll(() => pushed, { timeout: 10_000 }).toBe(COUNT);
      clearInterval(pusher);
      const sentBy = (f: number) => Array.from({ length: COUNT }, (_, i) => `p${f}-${String(i).padStart(2, '0')}`);
      const heard = Array.from({ length: COUNT }, (_, i) => `s${String(i).padStart(2, '0')}`);
      for (const [f, page] of followers.entries()) {
        await expect.poll(async () => (await state(page)).delivered.length, { timeout: 10_000 }).toBe(COUNT);
        await expect.poll(async () => (await state(page)).messages, { timeout: 10_000 }).toEqual(heard);
        const view = await state(page);
        expect(view.delivered.sort()).toEqual(sentBy(f));
        expect(view.drops).toEqual([]);
        expect(view.opens.at(-1)?.recovered).toBe(true);
        // Once each, in the order sent.
        expect(got.filter((t) => t.startsWith(`p${f}-`))).toEqual(sentBy(f));
      }
      // One session all along, continued on the next leader's connection.
      expect(sessions).toHaveLength(1);
      expect(sessions[0]!.recovered).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      resume.close();
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
    }
  });
}
