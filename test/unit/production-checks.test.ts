import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReconnectingSocket as Development } from '../../src/index.js';
import { SharedSocket as SharedDevelopment } from '../../src/shared/index.js';
import { checkHookKey as hookKeyDevelopment } from '../../src/checks.js';
import { checkHookKey as hookKeyProduction } from '../../src/checks.production.js';

// The production build swaps the option checks for short type-only ones (src/checks.production.ts). A bundler
// resolving the `production` condition must still accept every valid option, and still refuse a value of the
// wrong type by name. Built here from the sources, as a bundler would, and run next to the development build.

const root = fileURLToPath(new URL('../../', import.meta.url));
let dir: string;
let Production: typeof Development;
let SharedProduction: typeof SharedDevelopment;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'production-checks-'));
  const result = await build({
    stdin: { contents: "export { ReconnectingSocket } from './src/index.ts'; export { SharedSocket } from './src/shared/index.ts';", resolveDir: root, sourcefile: 'entry.ts', loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    logLevel: 'silent',
    conditions: ['source', 'production'],
    external: ['ws'],
  });
  const file = join(dir, 'production.mjs');
  writeFileSync(file, result.outputFiles[0]!.text);
  ({ ReconnectingSocket: Production, SharedSocket: SharedProduction } = await import(pathToFileURL(file).href));
}, 30_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

class FakeWebSocket {
  readyState = 0;
  close(): void {}
  send(): void {}
}

// Every option, with a valid value (several where one option takes several types).
const valid: Record<string, unknown>[] = [
  { protocols: 'chat' },
  { protocols: ['a', 'b'] },
  { protocols: () => 'chat' },
  { headers: { authorization: 'Bearer x' } },
  { headers: async () => ({ authorization: 'Bearer x' }) },
  { transport: { rejectUnauthorized: false } },
  { maxMessageBytes: 1024 },
  { connectTimeoutMs: 1000, closeTimeoutMs: 1000, initialDelayMs: 10, delayFactor: 1.5, maxDelayMs: 100 },
  { jitter: 'full' },
  { jitter: false },
  { maxRetries: 3, stableAfterMs: 100 },
  { delay: () => 10, random: () => 0.5, shouldReconnect: () => true },
  { heartbeat: false },
  { heartbeat: { intervalMs: 1000, timeoutMs: 500, probeTimeoutMs: 100, anyMessageIsAlive: false } },
  { heartbeat: { message: 'ping', isPong: (data: unknown) => data === 'pong' } },
  { heartbeat: { message: () => 'ping' } },
  { queue: { maxMessages: 10, maxBytes: 100, overflow: 'drop-newest', ttlMs: 1000, queueWhileClosed: true } },
  { codec: { encode: (v: unknown) => JSON.stringify(v), decode: (v: unknown) => v } },
  { binaryType: 'blob' },
  { signal: new AbortController().signal },
  { environment: null },
  { environment: { subscribe: () => () => {} } },
  { pauseWhenHidden: true, unrefRetryTimer: true },
  { debug: () => {} },
];

describe('option checks in the production build', () => {
  it('accept every valid option that the development build accepts', () => {
    for (const options of valid) {
      const all = { ...options, autoConnect: false, WebSocket: FakeWebSocket };
      for (const Socket of [Development, Production]) {
        const socket = new (Socket as any)('ws://127.0.0.1:1', all);
        expect(socket.state, JSON.stringify(Object.keys(options))).toBe('closed');
        socket.dispose();
      }
    }
  });

  it('refuse a value of the wrong type, naming the option', () => {
    const wrong: [Record<string, unknown>, string][] = [
      [{ connectTimeoutMs: '1000' }, 'connectTimeoutMs'],
      [{ autoConnect: 'yes' }, 'autoConnect'],
      [{ heartbeat: { intervalMs: '5' } }, 'heartbeat.intervalMs'],
      [{ queue: { overflow: 3 } }, 'queue.overflow'],
    ];
    for (const [options, name] of wrong) {
      for (const Socket of [Development, Production]) {
        expect(() => new (Socket as any)('ws://127.0.0.1:1', { ...options, WebSocket: FakeWebSocket }), name).toThrow(name);
      }
    }
  });

  it("refuse SharedSocket's own bad options (Socket, key), naming the option", () => {
    const wrong: [Record<string, unknown>, string][] = [
      [{ Socket: 'ReconnectingSocket' }, 'option "Socket"'],
      [{ key: 5 }, 'option "key"'],
    ];
    for (const [options, name] of wrong) {
      for (const Shared of [SharedDevelopment, SharedProduction]) {
        expect(() => new (Shared as any)('ws://127.0.0.1:1', { ...options, WebSocket: FakeWebSocket }), name).toThrow(name);
      }
      expect(() => new (SharedProduction as any)(() => 'ws://127.0.0.1:1', { key: '', WebSocket: FakeWebSocket })).toThrow('option "key"');
    }
  });

  it("refuse useSocket's shared socket with a url function and no key, naming options.key", () => {
    for (const check of [hookKeyDevelopment, hookKeyProduction]) {
      expect(() => check(true)).toThrow(/options\.key/);
      expect(() => check(false)).not.toThrow();
    }
  });
});
