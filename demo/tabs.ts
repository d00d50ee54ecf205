// The demo page's "Tabs" panel (opt-in: open the page as /?tabs in several tabs). One SharedSocket with key
// 'demo-tabs' to the demo server's /tabs echo endpoint: the tabs of this origin share one real connection. The
// panel shows this tab's role, how many tabs share the connection, and how many connections the server holds
// on /tabs. Counting tabs is demo-only: a small presence protocol on its own BroadcastChannel.
import { SharedSocket } from 'resilient-websocket/shared';

/** How often a tab says it is still here, how long a silent peer is kept, how often the server is asked. */
const BEAT_MS = 1000;
const PEER_TIMEOUT_MS = 3500;
const STATS_MS = 1000;

type Presence = { type: 'hello' | 'here' | 'bye'; id: string };

export interface TabsApi {
  role(): 'leader' | 'follower' | 'off';
  tabs(): number;
  serverConnections(): number | undefined;
  state(): string;
}

/**
 * Starts the panel when the page's query has `tabs` (otherwise does nothing and returns undefined), and puts a
 * read-only view of it on `window.demoTabs` for tests and the console.
 */
export function startTabsPanel(): TabsApi | undefined {
  if (!new URLSearchParams(location.search).has('tabs')) return undefined;
  const template = document.querySelector<HTMLTemplateElement>('template#tabs-panel');
  if (!template) throw new Error('demo: missing template#tabs-panel');
  template.replaceWith(template.content.cloneNode(true));
  const field = (id: string) => {
    const element = document.querySelector<HTMLElement>(`#${id}`);
    if (!element) throw new Error(`demo: missing #${id}`);
    return element;
  };
  const ui = { role: field('tabs-role'), count: field('tabs-count'), server: field('tabs-server'), state: field('tabs-state'), note: field('tabs-note') };
  const setText = (element: HTMLElement, text: string) => {
    if (element.textContent !== text) element.textContent = text;
  };

  // ----------------------------------------------------------------------------------------- the socket

  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/tabs`;
  const socket = new SharedSocket(url, { key: 'demo-tabs', initialDelayMs: 300, maxDelayMs: 3000 });
  const role = (): 'leader' | 'follower' => (socket.isLeader ? 'leader' : 'follower');

  // ------------------------------------------------------------------------------------------- presence

  const self = typeof crypto.randomUUID === 'function' ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
  /** Other tabs of this origin running the panel: id → when we last heard from them. */
  const peers = new Map<string, number>();
  const presence = 'BroadcastChannel' in window ? new BroadcastChannel('resilient-websocket-demo:tabs') : undefined;
  const say = (type: Presence['type']) => presence?.postMessage({ type, id: self } satisfies Presence);
  if (presence) {
    presence.onmessage = (event: MessageEvent<Presence>) => {
      const { type, id } = event.data ?? {};
      if (typeof id !== 'string' || id === self) return;
      if (type === 'bye') peers.delete(id);
      else peers.set(id, performance.now());
      if (type === 'hello') say('here'); // a new tab learns about us at once
      render();
    };
  }
  say('hello');
  // A page going into the back-forward cache (or closing) says goodbye; coming back, it says hello again.
  window.addEventListener('pagehide', () => say('bye'));
  window.addEventListener('pageshow', (event) => {
    if (!event.persisted) return;
    peers.clear();
    say('hello');
  });

  // ---------------------------------------------------------------------------------------- server stats

  let serverConnections: number | undefined;
  let isPolling = false;
  async function poll(): Promise<void> {
    if (isPolling) return;
    isPolling = true;
    try {
      const response = await fetch('/tabs/stats', { cache: 'no-store' });
      const stats = (await response.json()) as { connections: number };
      serverConnections = stats.connections;
    } catch {
      serverConnections = undefined;
    } finally {
      isPolling = false;
      render();
    }
  }

  // ---------------------------------------------------------------------------------------------- render

  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  function render(): void {
    const mine = role();
    setText(ui.role, mine);
    ui.role.dataset.role = mine;
    setText(ui.count, plural(peers.size + 1, 'tab'));
    setText(ui.server, serverConnections === undefined ? '—' : plural(serverConnections, 'connection'));
    setText(ui.state, socket.state);
    ui.state.dataset.state = socket.state;
    setText(ui.note, mine === 'leader' ? 'This tab owns the connection; the other tabs use it through this one.' : 'Another tab owns the connection; this one sees its state and sends through it.');
  }

  // The role changes with the connection: a new leader's socket announces itself with `state` events.
  for (const type of ['state', 'open', 'close'] as const) socket.on(type, render);
  setInterval(() => {
    say('here');
    const now = performance.now();
    for (const [id, heardAt] of peers) if (now - heardAt > PEER_TIMEOUT_MS) peers.delete(id);
    render();
  }, BEAT_MS);
  setInterval(() => void poll(), STATS_MS);
  void poll();
  render();

  const api: TabsApi = Object.freeze({
    role,
    tabs: () => peers.size + 1,
    serverConnections: () => serverConnections,
    state: () => socket.state,
  });
  Object.defineProperty(window, 'demoTabs', { value: api, enumerable: true });
  return api;
}
