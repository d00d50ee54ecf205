import { test as base, expect, type APIRequestContext, type Page } from '@playwright/test';

/** The read-only surface the demo page puts on `window.demo` (see demo/app.ts). */
export interface DemoApi {
  state(): 'connecting' | 'open' | 'closing' | 'closed';
  phase(): string;
  isDisposed(): boolean;
  attempt(): number;
  retry(): { attempt: number; delayMs: number; hold?: string } | undefined;
  nextRetryAt(): number | undefined;
  lastClose(): { code: number; reason: string; wasClean: boolean; cause: string; error?: string } | undefined;
  rttMs(): number | undefined;
  rtts(): number[];
  queued(): number[];
  dropped(): number;
  errors(): string[];
  log(): { at: string; dir: 'out' | 'in' | 'drop'; seq?: number; text: string; result?: string }[];
  timeline(): { at: string; kind: string; text: string; from?: string; to?: string; code?: number; cause?: string }[];
  liveTimers(): number;
  timersAfterDispose(): number | null;
  listenerCount(): number;
}

declare global {
  interface Window {
    demo: DemoApi;
  }
}

/**
 * Chromium reports a WebSocket handshake that fails (refused, reset, never answered) on the console by
 * itself. Tests that make the server refuse or drop handshakes on purpose allow exactly these lines.
 */
const HANDSHAKE_FAILURE = /^WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/ws' failed: /;

/** Drives the demo page the way a person would: through its buttons; reads what it shows. */
export class Demo {
  readonly consoleErrors: string[] = [];
  #allowsHandshakeFailures = false;

  constructor(
    readonly page: Page,
    readonly request: APIRequestContext,
  ) {
    page.on('console', (message) => {
      if (message.type() === 'error') this.consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => this.consoleErrors.push(`uncaught: ${error.message}`));
  }

  /** Opens the page; `query` shortens the demo's timings (e.g. `{ initialDelayMs: 200 }`). */
  async open(query: Record<string, number> = {}): Promise<void> {
    const search = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString();
    await this.page.goto(search ? `/?${search}` : '/');
    await this.page.waitForFunction(() => typeof window.demo === 'object');
  }

  /** This test makes handshakes fail on purpose: Chromium's own console line for that is expected. */
  allowHandshakeFailures(): void {
    this.#allowsHandshakeFailures = true;
  }

  unexpectedConsoleErrors(): string[] {
    return this.consoleErrors.filter((text) => !(this.#allowsHandshakeFailures && HANDSHAKE_FAILURE.test(text)));
  }

  eval<T>(fn: (demo: DemoApi) => T): Promise<T> {
    return this.page.evaluate(`(${fn.toString()})(window.demo)`) as Promise<T>;
  }

  async waitFor(predicate: (demo: DemoApi) => boolean, timeout = 10_000): Promise<void> {
    await this.page.waitForFunction(`(${predicate.toString()})(window.demo)`, undefined, { timeout, polling: 50 });
  }

  /** The state label the status pill shows (connecting, open, closing, closed, reconnecting, disposed). */
  status() {
    return this.page.locator('#status-text');
  }

  async expectOpen(timeout = 10_000): Promise<void> {
    await expect(this.status()).toHaveText('open', { timeout });
    expect(await this.eval((d) => d.state())).toBe('open');
  }

  button(id: string) {
    return this.page.locator(`#${id}`);
  }

  /** Sets the seconds field of the server panel. */
  async setSeconds(seconds: number): Promise<void> {
    await this.page.locator('#seconds').fill(String(seconds));
  }

  /** Clicks a server control and waits for the server's answer to show. */
  async server(id: 'drop' | 'restart' | 'heal' | 'close' | 'blackhole' | 'refuse'): Promise<void> {
    // This control's answer, not one of the page's own status requests (GET /control/status).
    const answered = this.page.waitForResponse((response) => new URL(response.url()).pathname === `/control/${id}`);
    await this.button(`srv-${id}`).click();
    expect((await answered).ok()).toBe(true);
  }

  async send(text: string): Promise<void> {
    await this.page.locator('#message').fill(text);
    await this.button('send').click();
  }

  /** How many times the timeline shows the socket entering `state`. */
  entries(state: string): Promise<number> {
    return this.page.evaluate((to) => window.demo.timeline().filter((e) => e.kind === 'state' && e.to === to).length, state);
  }
}

/** `demo`: a fresh page against a healthy server; after the test, no unexpected console errors. */
export const test = base.extend<{ demo: Demo }>({
  demo: async ({ page, request }, use, testInfo) => {
    expect((await request.post('/control/heal')).ok()).toBe(true);
    const demo = new Demo(page, request);
    await use(demo);
    if (testInfo.status !== testInfo.expectedStatus && !page.isClosed()) {
      // What the page saw, for the report: its timeline and message log.
      const seen = await page.evaluate(() => ({ state: window.demo?.state(), timeline: window.demo?.timeline(), log: window.demo?.log() })).catch((e) => String(e));
      await testInfo.attach('page-timeline.json', { body: JSON.stringify(seen, null, 2), contentType: 'application/json' });
    }
    await page.close();
    expect((await request.post('/control/heal')).ok()).toBe(true);
    if (demo.consoleErrors.length > 0) await testInfo.attach('console-errors.txt', { body: demo.consoleErrors.join('\n'), contentType: 'text/plain' });
    if (process.env.DEMO_E2E_VERBOSE) console.log(`[console errors] ${testInfo.title}:`, demo.consoleErrors);
    expect(demo.unexpectedConsoleErrors(), 'console errors on the page').toEqual([]);
  },
});

export { expect };

const ROOT = new URL('..', import.meta.url);

/**
 * esbuild's output for a page, with the settings every spec shares (bundled for a browser, ES2022, an IIFE unless
 * `options` say otherwise), and the inputs it was made of.
 */
export async function bundleForPage(options: import('esbuild').BuildOptions): Promise<{ code: string; inputs: string[] }> {
  const { build } = await import('esbuild');
  const result = await build({ bundle: true, platform: 'browser', format: 'iife', target: 'es2022', logLevel: 'silent', ...options, write: false, metafile: true });
  return { code: result.outputFiles[0]!.text, inputs: Object.keys(result.metafile.inputs) };
}

/** A built entry (`dist/index.js`, `dist/shared/index.js`...) bundled for a page as `globalName`, and its inputs. */
export function bundleEntry(entry: string, globalName: string): Promise<{ code: string; inputs: string[] }> {
  return bundleForPage({ entryPoints: [new URL(entry, ROOT).pathname], globalName });
}

/** What a page logged: console errors and uncaught exceptions, and console warnings. */
export interface PageLog {
  readonly errors: string[];
  readonly warnings: string[];
}

/**
 * Opens the demo server's /health document (an http://127.0.0.1 origin, from which a page may open WebSockets to
 * loopback servers) and records what the page logs, into `log` if given (several pages may share one); console
 * errors that match `ignore` are left out. The caller injects its scripts.
 */
export async function openBlankPage(page: Page, options: { ignore?: RegExp; log?: PageLog } = {}): Promise<PageLog> {
  const { ignore, log = { errors: [], warnings: [] } } = options;
  page.on('console', (message) => {
    if (message.type() === 'error' && !ignore?.test(message.text())) log.errors.push(message.text());
    if (message.type() === 'warning') log.warnings.push(message.text());
  });
  page.on('pageerror', (error) => log.errors.push(`uncaught: ${error.message}`));
  // The demo server has no favicon; Chromium would log its 404 as a console error.
  await page.route('**/favicon.ico', (route) => route.fulfill({ status: 204, body: '' }));
  await page.goto('/health');
  return log;
}
