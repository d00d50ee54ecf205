import { afterEach, beforeEach } from 'vitest';
import { FakeSocket } from '../helpers/fake-socket.js';
import { SharedSocket, type SharedSocketOptions } from '../../src/shared/index.js';
import { Tabs, type Tab } from './fake-tabs.js';

export const URL_A = 'ws://127.0.0.1:1/feed';

/** The fake tabs of the current test: new before each test (a live binding, so importers see the new one). */
export let tabs: Tabs;
let handles: SharedSocket<any, any>[] = [];

/** Disposes `handle` after the current test, like the handles `open()` makes. */
export function keep<T extends SharedSocket<any, any>>(handle: T): T {
  handles.push(handle);
  return handle;
}

/**
 * For a test file of SharedSocket handles on fake tabs and fake sockets: registers the hooks that give each test
 * fresh tabs and dispose its handles, and returns `open(tab, options?, url?)`, which makes a handle in a tab.
 */
export function useTabs(defaults: SharedSocketOptions): (tab: Tab, options?: SharedSocketOptions, url?: string) => SharedSocket {
  beforeEach(() => {
    FakeSocket.reset();
    tabs = new Tabs();
    handles = [];
  });
  afterEach(() => {
    for (const handle of handles) handle.dispose();
  });
  return (tab, options = {}, url = URL_A) => {
    return keep(new SharedSocket(url, { WebSocket: FakeSocket, heartbeat: false, environment: null, debug: () => {}, ...defaults, coordination: tab.coordination, ...options }));
  };
}
