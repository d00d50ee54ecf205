import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { afterEach, describe, expect, it } from 'vitest';
import { ReconnectingSocket, type WebSocketConstructor } from '../../src/index.js';
import { useSocket, type UseSocketOptions } from '../../src/react/index.js';
import { SocketPool } from '../../src/react/pool.js';

// The browser behaviour (StrictMode, url changes, sharing) is tested in real Chromium: e2e/react.spec.ts.
// Here: what happens on the server, misuse, and the pool's microtask grace on its own.

let constructed = 0;
/** A WebSocket constructor that only counts: nothing here may ever call it. */
const Counting = function () {
  constructed++;
  throw new Error('no socket may be made here');
} as unknown as WebSocketConstructor;

afterEach(() => {
  constructed = 0;
});

function Status({ url, options }: { url: string | (() => string) | null; options: UseSocketOptions }) {
  const { state, socket } = useSocket(url, { WebSocket: Counting, ...options });
  return createElement('p', null, `${state} ${socket === undefined ? 'none' : 'socket'}`);
}

const render = (url: string | (() => string) | null, options: UseSocketOptions = {}) => renderToString(createElement(Status, { url, options }));

describe('useSocket on the server (renderToString)', () => {
  it('makes no socket: effects never run there; the view is the one to come', () => {
    expect(render('ws://127.0.0.1:9/')).toBe('<p>connecting none</p>');
    expect(render('ws://127.0.0.1:9/', { shared: true })).toBe('<p>connecting none</p>');
    expect(render('ws://127.0.0.1:9/', { enabled: false })).toBe('<p>closed none</p>');
    expect(render(null)).toBe('<p>closed none</p>');
    expect(constructed).toBe(0);
  });

  it('a shared socket with a url function and no key is misuse and throws at render', () => {
    expect(() => render(() => 'ws://127.0.0.1:9/', { shared: true })).toThrow(/shared socket with a url function needs options\.key/);
    expect(render(() => 'ws://127.0.0.1:9/', { shared: true, key: 'feed' })).toBe('<p>connecting none</p>');
  });
});

describe('SocketPool', () => {
  const idle = () => new ReconnectingSocket('ws://127.0.0.1:9/', { autoConnect: false, WebSocket: Counting });
  const microtask = () => new Promise<void>((resolve) => queueMicrotask(resolve));

  it('a socket released and acquired again in the same pass is kept (StrictMode, one commit)', async () => {
    const pool = new SocketPool();
    const first = pool.acquire('k', idle);
    pool.release('k', first);
    const again = pool.acquire('k', idle);
    expect(again).toBe(first);
    await microtask();
    expect(first.isDisposed).toBe(false);
    pool.release('k', again);
    await microtask();
    expect(first.isDisposed).toBe(true);
    expect(pool.size).toBe(0);
  });

  it('holders are counted; the last release retires the socket, and the next acquire makes a new one', async () => {
    const pool = new SocketPool();
    const a = pool.acquire('k', idle);
    const b = pool.acquire('k', idle);
    expect(b).toBe(a);
    pool.release('k', a);
    await microtask();
    expect(a.isDisposed).toBe(false);
    pool.release('k', b);
    await microtask();
    expect(a.isDisposed).toBe(true);
    const c = pool.acquire('k', idle);
    expect(c).not.toBe(a);
    pool.release('k', c);
    await microtask();
    expect(constructed).toBe(0);
  });

  it('a socket disposed by its user is replaced on the next acquire; releasing the old one then does nothing', async () => {
    const pool = new SocketPool();
    const old = pool.acquire('k', idle);
    old.dispose();
    const fresh = pool.acquire('k', idle);
    expect(fresh).not.toBe(old);
    pool.release('k', old);
    await microtask();
    expect(fresh.isDisposed).toBe(false);
    pool.release('k', fresh);
    await microtask();
    expect(fresh.isDisposed).toBe(true);
  });
});

describe('the built entry (resilient-websocket/react)', () => {
  it('exports the hook, for import and require, and leaves react to the app', async () => {
    const { readFile } = await import('node:fs/promises');
    const { createRequire } = await import('node:module');
    const root = new URL('../../', import.meta.url);
    const esm = await readFile(new URL('dist/react/index.js', root), 'utf8');
    expect(esm).toMatch(/from ['"]react['"]/);
    expect(esm).not.toMatch(/__SECRET_INTERNALS|ReactSharedInternals/); // react itself is not bundled
    expect(Object.keys(await import(new URL('dist/react/index.js', root).href))).toEqual(['useSocket']);
    expect(Object.keys(createRequire(root)('./dist/react/index.cjs'))).toEqual(['useSocket']);
    const pkg = createRequire(root)('./package.json');
    expect(pkg.exports['./react']).toEqual({
      import: { types: './dist/react/index.d.ts', default: './dist/react/index.js' },
      require: { types: './dist/react/index.d.cts', default: './dist/react/index.cjs' },
    });
    expect(pkg.peerDependencies.react).toBe('>=18');
    expect(pkg.peerDependenciesMeta.react).toEqual({ optional: true });
  });
});
