// The page of e2e/react.spec.ts: components that use `useSocket`, driven by the test through `window.app`.
// No JSX, so the root tsconfig checks it as it is. The spec bundles it against the built package (the imports of
// src/ below are redirected to dist/) and against React 19 or React 18.
import { StrictMode, createElement as h, useEffect, version } from 'react';
import { flushSync } from 'react-dom';
import { createRoot, type Root } from 'react-dom/client';
import type { ReconnectingSocket } from '../../src/index.js';
import { useSocket, type SocketView } from '../../src/react/index.js';

/** One component that uses the hook. */
export interface SocketSpec {
  id: string;
  url: string | null;
  enabled?: boolean;
  shared?: boolean;
  key?: string;
  /** Pass the url as a function (a new one each render). */
  urlAsFunction?: boolean;
  /** Recorded by the handlers of this render, to tell which handler identity saw an event. */
  label?: string;
}

export interface AppEvent {
  id: string;
  type: 'open' | 'message' | 'close';
  label: string | undefined;
  data?: string;
  code?: number;
}

export interface AppApi {
  readonly reactVersion: string;
  /** Renders these components (in StrictMode unless `strict` is false) and waits for the commit. */
  render(specs: SocketSpec[], strict?: boolean): void;
  unmount(): void;
  renders(id: string): number;
  send(id: string, text: string): string;
  events(): AppEvent[];
  /** What the socket a component last rendered with says now. */
  socket(id: string): { state: string; isDisposed: boolean } | null;
  /** Every socket any component rendered with, and whether it is disposed now. */
  allSockets(): { state: string; isDisposed: boolean }[];
}

declare global {
  interface Window {
    app: AppApi;
  }
}

const events: AppEvent[] = [];
const views = new Map<string, SocketView<string, string>>();
const renderCounts = new Map<string, number>();
const everySocket = new Set<ReconnectingSocket<string, string>>();

function Socket({ spec }: { spec: SocketSpec }) {
  const { id, label } = spec;
  renderCounts.set(id, (renderCounts.get(id) ?? 0) + 1);
  const view = useSocket<string, string>(spec.urlAsFunction ? () => spec.url ?? '' : spec.url, {
    enabled: spec.enabled,
    shared: spec.shared,
    key: spec.key,
    initialDelayMs: 200,
    // New functions on every render: they must never cause a reconnect.
    onOpen: () => events.push({ id, type: 'open', label }),
    onMessage: ({ data }) => events.push({ id, type: 'message', label, data }),
    onClose: ({ code }) => events.push({ id, type: 'close', label, code }),
  });
  useEffect(() => {
    views.set(id, view);
    if (view.socket) everySocket.add(view.socket);
  });
  return h(
    'div',
    { className: 'socket', 'data-id': id },
    h('span', { className: 'state' }, view.state),
    ' ',
    h('span', { className: 'last' }, view.lastMessage ?? ''),
  );
}

function App({ specs }: { specs: SocketSpec[] }) {
  return h('div', null, ...specs.map((spec) => h(Socket, { key: spec.id, spec })));
}

let root: Root | undefined;

const describe = (socket: ReconnectingSocket<string, string>) => ({ state: socket.state, isDisposed: socket.isDisposed });

window.app = {
  reactVersion: version,
  render(specs, strict = true) {
    root ??= createRoot(document.getElementById('root')!);
    const app = h(App, { specs });
    flushSync(() => root!.render(strict ? h(StrictMode, null, app) : app));
  },
  unmount() {
    root?.unmount();
    root = undefined;
  },
  renders: (id) => renderCounts.get(id) ?? 0,
  send: (id, text) => views.get(id)?.send(text) ?? 'no such component',
  events: () => events.slice(),
  socket(id) {
    const socket = views.get(id)?.socket;
    return socket ? describe(socket) : null;
  },
  allSockets: () => [...everySocket].map(describe),
};
