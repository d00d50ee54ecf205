// The demo page: one ReconnectingSocket against the demo server's echo endpoint, and a live view of
// everything it does. Bundled by demo/server.mjs from the built library (dist/index.js).
import {
  DEFAULTS,
  ReconnectingSocket,
  createManualEnvironment,
  jsonCodec,
  type CloseCause,
  type SocketCloseEvent,
  type StateName,
} from 'resilient-websocket';
import { startTabsPanel } from './tabs.js';

// ------------------------------------------------------------------------------------------- messages

interface ChatMessage {
  type: 'chat';
  seq: number;
  text: string;
  sentAt: number;
}
type ServerMessage = ChatMessage | { type: string; [key: string]: unknown };

// ----------------------------------------------------------------------------------------------- setup

/**
 * Timings a person can watch; a query string can shorten them (`?initialDelayMs=200`). The backoff is the
 * library's default (decorrelated jitter, 2 s to 10 s), so the retries you watch are the ones you will get.
 */
const params = new URLSearchParams(location.search);
const num = (name: string, fallback: number) => {
  const value = Number(params.get(name));
  return params.has(name) && Number.isFinite(value) && value >= 0 ? value : fallback;
};
const timings = {
  initialDelayMs: num('initialDelayMs', DEFAULTS.initialDelayMs),
  maxDelayMs: num('maxDelayMs', DEFAULTS.maxDelayMs),
  connectTimeoutMs: num('connectTimeoutMs', 4000),
  closeTimeoutMs: num('closeTimeoutMs', 3000),
  heartbeatMs: num('heartbeatMs', 2000),
  heartbeatTimeoutMs: num('heartbeatTimeoutMs', 2000),
};

const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
const environment = createManualEnvironment();
const socket = new ReconnectingSocket<ServerMessage, ChatMessage>(wsUrl, {
  codec: jsonCodec,
  environment,
  initialDelayMs: timings.initialDelayMs,
  maxDelayMs: timings.maxDelayMs,
  connectTimeoutMs: timings.connectTimeoutMs,
  closeTimeoutMs: timings.closeTimeoutMs,
  // Browsers cannot send protocol pings, so the page pings with a message the server answers.
  heartbeat: {
    message: () => JSON.stringify({ type: 'ping', t: Date.now() }),
    isPong: (data) => typeof data === 'string' && data.startsWith('{"type":"pong"'),
    intervalMs: timings.heartbeatMs,
    timeoutMs: timings.heartbeatTimeoutMs,
  },
  queue: { maxMessages: 50, overflow: 'drop-oldest' },
});

// ------------------------------------------------------------------------------------------------- dom

const $ = <T extends Element = HTMLElement>(selector: string) => {
  const element = document.querySelector<T>(selector);
  if (!element) throw new Error(`demo: missing ${selector}`);
  return element;
};

type Child = Node | string | number | false | null | undefined;
function h(tag: string, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElement {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, value);
  for (const child of children) {
    if (child === false || child === null || child === undefined) continue;
    element.append(typeof child === 'number' ? String(child) : child);
  }
  return element;
}

const SVG = 'http://www.w3.org/2000/svg';
function s(tag: string, attrs: Record<string, string | number> = {}, text?: string): SVGElement {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

/** Sets text only when it changed, so the per-frame render stays cheap. */
function setText(element: Element, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}

const startedAt = performance.now();
const clock = () => {
  const ms = performance.now() - startedAt;
  const m = Math.floor(ms / 60000);
  const sec = ((ms % 60000) / 1000).toFixed(1).padStart(4, '0');
  return `${String(m).padStart(2, '0')}:${sec}`;
};

const formatMs = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1).replace(/\.0$/, '')} s`);
const formatBytes = (bytes: number) => (bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`);

const CAUSES: Record<CloseCause, string> = {
  server: 'server closed it',
  network: 'connection lost',
  protocol: 'peer broke the protocol',
  refused: 'upgrade refused',
  client: 'closed by you',
  'connect-timeout': 'connect timed out',
  'close-timeout': 'close handshake timed out',
  'heartbeat-timeout': 'no pong in time',
  provider: 'url provider failed',
  reconnect: 'reconnect()',
  dispose: 'disposed',
  pagehide: 'page hidden',
};

// ------------------------------------------------------------------------------------ state machine svg

const NODES: Record<StateName, { x: number; y: number }> = {
  connecting: { x: 90, y: 72 },
  open: { x: 310, y: 72 },
  closed: { x: 90, y: 222 },
  closing: { x: 310, y: 222 },
};

const EDGES: { from: StateName; to: StateName; d: string; label: string; lx: number; ly: number; anchor?: string; rotate?: number }[] = [
  { from: 'connecting', to: 'open', d: 'M152 72 L246 72', label: 'opened', lx: 200, ly: 64 },
  { from: 'open', to: 'connecting', d: 'M292 48 C262 14 138 14 108 48', label: 'reconnect()', lx: 200, ly: 22 },
  { from: 'open', to: 'closing', d: 'M310 96 L310 196', label: 'close()', lx: 318, ly: 150, anchor: 'start' },
  { from: 'closing', to: 'closed', d: 'M248 222 L154 222', label: 'closed', lx: 200, ly: 214 },
  { from: 'open', to: 'closed', d: 'M262 96 L140 195', label: 'lost · timeout', lx: 196, ly: 138, rotate: -39 },
  { from: 'connecting', to: 'closed', d: 'M78 96 L78 196', label: 'failed', lx: 70, ly: 150, anchor: 'end' },
  { from: 'closed', to: 'connecting', d: 'M102 198 L102 98', label: 'retry', lx: 110, ly: 150, anchor: 'start' },
];

const machine = (() => {
  const svg = s('svg', { viewBox: '0 0 400 250', role: 'img', 'aria-label': 'Connection state machine' });
  const defs = s('defs');
  for (const [id, strong] of [
    ['arrow', false],
    ['arrow-strong', true],
  ] as const) {
    const marker = s('marker', { id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse', class: strong ? 'strong' : '' });
    marker.append(s('path', { d: 'M0 0 L10 5 L0 10 z' }));
    defs.append(marker);
  }
  svg.append(defs);
  const edges = new Map<string, SVGElement>();
  for (const edge of EDGES) {
    const group = s('g', { class: 'edge' });
    group.append(s('path', { d: edge.d, 'marker-end': 'url(#arrow)' }));
    const label = s('text', { x: edge.lx, y: edge.ly, 'text-anchor': edge.anchor ?? 'middle' }, edge.label);
    if (edge.rotate) label.setAttribute('transform', `rotate(${edge.rotate} ${edge.lx} ${edge.ly})`);
    label.style.textAnchor = edge.anchor ?? 'middle';
    group.append(label);
    svg.append(group);
    edges.set(`${edge.from}>${edge.to}`, group);
  }
  const nodes = new Map<StateName, SVGElement>();
  for (const [name, { x, y }] of Object.entries(NODES) as [StateName, { x: number; y: number }][]) {
    const group = s('g', { class: 'node', 'data-state': name, 'data-node': name });
    group.append(s('rect', { x: x - 60, y: y - 23, width: 120, height: 46, rx: 23 }));
    group.append(s('text', { x, y }, name));
    svg.append(group);
    nodes.set(name, group);
  }
  $('#machine').append(svg);
  let active: StateName | undefined;
  let lastEdge: SVGElement | undefined;
  return {
    /** Highlights the active state; `look` colours it (a closed socket waiting to retry looks 'reconnecting'). */
    show(state: StateName, look: string) {
      if (state === active && nodes.get(state)?.getAttribute('data-state') === look) return;
      active = state;
      for (const [name, node] of nodes) {
        node.classList.toggle('active', name === state);
        node.setAttribute('data-state', name === state ? look : name);
      }
    },
    transition(from: StateName, to: StateName) {
      lastEdge?.classList.remove('last');
      lastEdge?.querySelector('path')?.setAttribute('marker-end', 'url(#arrow)');
      lastEdge = edges.get(`${from}>${to}`);
      lastEdge?.classList.add('last');
      lastEdge?.querySelector('path')?.setAttribute('marker-end', 'url(#arrow-strong)');
    },
  };
})();

// ------------------------------------------------------------------------------------------- timeline

interface TimelineEntry {
  at: string;
  kind: 'state' | 'open' | 'close' | 'retry' | 'error' | 'you' | 'server';
  text: string;
  from?: StateName;
  to?: StateName;
  code?: number;
  cause?: CloseCause;
}
const timeline: TimelineEntry[] = [];
const timelineList = $('#timeline');
const MAX_ROWS = 300;

function tag(text: string, state?: string, extra = '') {
  return h('span', { class: `tag ${extra}`.trim(), ...(state && { 'data-state': state }) }, text);
}

function addTimeline(entry: Omit<TimelineEntry, 'at'>, ...content: Child[]): void {
  const full: TimelineEntry = { at: clock(), ...entry };
  timeline.push(full);
  const row = h('li', { 'data-kind': entry.kind }, h('span', { class: 'time' }, full.at), h('span', { class: 'what' }, ...content));
  timelineList.querySelector('.empty')?.remove();
  timelineList.prepend(row);
  while (timelineList.children.length > MAX_ROWS) timelineList.lastElementChild?.remove();
}

function describeClose(event: SocketCloseEvent): string {
  const parts = [`${event.code}`, CAUSES[event.cause] ?? event.cause];
  if (event.reason && event.reason !== event.cause && event.reason !== CAUSES[event.cause]) parts.push(`“${event.reason}”`);
  if (!event.willReconnect) parts.push('no reconnect');
  else if (event.delayMs === undefined) parts.push('retry held');
  else if (event.delayMs === 0) parts.push('retry now');
  else parts.push(`retry in ${formatMs(event.delayMs)}`);
  return parts.join(' · ');
}

// ------------------------------------------------------------------------------------------ message log

interface LogEntry {
  at: string;
  dir: 'out' | 'in' | 'drop';
  seq?: number;
  text: string;
  result?: string;
}
const log: LogEntry[] = [];
const logList = $('#log');

function addLog(entry: Omit<LogEntry, 'at'>, extra?: string): void {
  const full: LogEntry = { at: clock(), ...entry };
  log.push(full);
  const arrow = entry.dir === 'out' ? '→' : entry.dir === 'in' ? '←' : '✕';
  const row = h(
    'li',
    { class: entry.dir, 'data-dir': entry.dir, ...(entry.seq !== undefined && { 'data-seq': String(entry.seq) }) },
    h('span', { class: 'time' }, full.at),
    h(
      'span',
      { class: 'what' },
      h('span', { class: 'dir', 'aria-hidden': 'true' }, arrow),
      entry.seq !== undefined ? h('code', {}, `#${entry.seq}`) : null,
      ' ',
      entry.text,
      entry.result ? h('span', { class: `result ${entry.result}` }, entry.result) : null,
      extra ? h('span', { class: 'result' }, extra) : null,
    ),
  );
  logList.querySelector('.empty')?.remove();
  logList.prepend(row);
  while (logList.children.length > MAX_ROWS) logList.lastElementChild?.remove();
}

// ------------------------------------------------------------------------------------------ rtt chart

const rtts: number[] = [];
const MAX_SAMPLES = 60;
const sparkline = $<SVGSVGElement>('#sparkline');
const sparkScale = $('#spark-scale');
const sparkArea = s('path', { class: 'area' });
const sparkLine = s('path', { class: 'line' });
// A zero-length round-capped stroke stays a circle under the chart's non-uniform scaling.
const sparkDot = s('path', { class: 'dot', d: 'M-10 -10 L-10 -10' });
for (const y of [15, 30, 45]) sparkline.append(s('line', { class: 'grid', x1: 0, x2: 300, y1: y, y2: y }));
sparkline.append(sparkArea, sparkLine, sparkDot);

function drawSparkline(): void {
  const samples = rtts.slice(-MAX_SAMPLES);
  if (samples.length === 0) return;
  // The window grows until it holds MAX_SAMPLES, so the first few pongs already draw a readable line.
  const slots = Math.min(MAX_SAMPLES, Math.max(12, samples.length));
  const max = Math.max(10, ...samples) * 1.25;
  setText(sparkScale, formatMs(max));
  const step = 300 / (slots - 1);
  const points = samples.map((rtt, i) => [i * step, 60 - (rtt / max) * 54] as const);
  const line = points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${x.toFixed(1)} ${y.toFixed(1)}`).join(' ');
  const last = points[points.length - 1]!;
  sparkLine.setAttribute('d', points.length === 1 ? `${line} L${step.toFixed(1)} ${last[1].toFixed(1)}` : line);
  sparkArea.setAttribute('d', `${points.length === 1 ? `${line} L${step.toFixed(1)} ${last[1].toFixed(1)}` : line} L${Math.max(step, last[0]).toFixed(1)} 64 L0 64 Z`);
  sparkDot.setAttribute('d', `M${last[0].toFixed(1)} ${last[1].toFixed(1)} L${last[0].toFixed(1)} ${last[1].toFixed(1)}`);
  const min = Math.min(...samples);
  const avg = samples.reduce((a, b) => a + b, 0) / samples.length;
  setText($('#rtt-stats'), `min ${formatMs(min)} · avg ${formatMs(avg)} · max ${formatMs(Math.max(...samples))} · ${rtts.length} pong${rtts.length === 1 ? '' : 's'}`);
}

// -------------------------------------------------------------------------------------------- events

let dropped = 0;
const droppedBy = new Map<string, number>();
const errors: string[] = [];
const pending = new Map<number, number>(); // seq → performance.now() at send, for the echo latency
/** When the planned retry fires: from the `reconnecting` event, which says how long it waits. */
let retryDue: { attempt: number; at: number } | undefined;
/** `Date.now()` when the planned retry fires; undefined when none is waiting on a timer (held, or none). */
function nextRetryAt(): number | undefined {
  const retry = socket.retry;
  if (socket.isDisposed || socket.state !== 'closed' || !retry || retry.hold || retryDue?.attempt !== retry.attempt) return undefined;
  return retryDue.at;
}

addTimeline({ kind: 'state', to: 'connecting', text: 'created → connecting' }, 'created', h('span', { class: 'arrow' }, '→'), tag('connecting', 'connecting', 'state'));

socket.on('state', ({ from, to }) => {
  machine.transition(from, to);
  addTimeline({ kind: 'state', from, to, text: `${from} → ${to}` }, tag(from, from, 'state'), h('span', { class: 'arrow' }, '→'), tag(to, to, 'state'));
});
socket.on('open', ({ attempt }) => {
  addTimeline({ kind: 'open', text: `open after attempt ${attempt}` }, h('span', { class: 'why' }, attempt === 0 ? 'connected' : `connected on retry #${attempt}`));
});
socket.on('close', (event) => {
  const text = describeClose(event);
  addTimeline({ kind: 'close', code: event.code, cause: event.cause, text }, h('span', { class: 'why' }, 'close ', h('code', {}, String(event.code)), ` · ${text.split(' · ').slice(1).join(' · ')}`));
});
socket.on('reconnecting', ({ attempt, delayMs }) => {
  retryDue = { attempt, at: Date.now() + delayMs };
  addTimeline({ kind: 'retry', text: `retry #${attempt} in ${formatMs(delayMs)}` }, h('span', { class: 'why' }, `retry #${attempt} scheduled in ${formatMs(delayMs)}`));
});
socket.on('error', ({ error }) => {
  errors.push(error.code);
  addTimeline({ kind: 'error', text: `${error.code}: ${error.message}` }, h('span', { class: 'why' }, h('code', {}, error.code), ` ${error.message}`));
});
socket.on('heartbeat', ({ rttMs }) => {
  rtts.push(rttMs);
  if (rtts.length > 1000) rtts.splice(0, rtts.length - 1000);
  drawSparkline();
});
socket.on('message', ({ data }) => {
  if (data.type === 'chat') {
    const chat = data as ChatMessage;
    const sentAt = pending.get(chat.seq);
    pending.delete(chat.seq);
    addLog({ dir: 'in', seq: chat.seq, text: chat.text, result: 'echo' }, sentAt === undefined ? undefined : formatMs(performance.now() - sentAt));
  } else addLog({ dir: 'in', text: JSON.stringify(data) });
});
socket.on('drop', ({ message, reason }) => {
  dropped++;
  droppedBy.set(reason, (droppedBy.get(reason) ?? 0) + 1);
  pending.delete(message.seq);
  addLog({ dir: 'drop', seq: message.seq, text: message.text, result: `dropped: ${reason}` });
});

// ------------------------------------------------------------------------------------------- controls

let nextSeq = 1;
function sendChat(text: string): string {
  const seq = nextSeq++;
  const message: ChatMessage = { type: 'chat', seq, text, sentAt: Date.now() };
  pending.set(seq, performance.now());
  const result = socket.send(message);
  if (result !== 'sent' && result !== 'queued') pending.delete(seq);
  addLog({ dir: 'out', seq, text, result });
  return result;
}

const clientButtons = ['#send', '#burst', '#reconnect', '#close', '#connect', '#offline', '#dispose'].map((id) => $<HTMLButtonElement>(id));

$<HTMLFormElement>('#send-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $<HTMLInputElement>('#message');
  const text = input.value.trim() || 'hello';
  sendChat(text);
});
$('#burst').addEventListener('click', () => {
  for (let i = 1; i <= 20; i++) sendChat(`burst ${i}/20`);
});
$('#reconnect').addEventListener('click', () => {
  addTimeline({ kind: 'you', text: 'reconnect()' }, tag('you', undefined, 'you'), ' reconnect()');
  socket.reconnect();
});
$('#close').addEventListener('click', () => {
  addTimeline({ kind: 'you', text: 'close(1000)' }, tag('you', undefined, 'you'), ' close(1000)');
  socket.close(1000, 'closed from the demo page').then((record) => {
    addTimeline({ kind: 'you', text: `close() resolved: ${record.code} ${record.cause}` }, h('span', { class: 'why' }, `close() resolved: ${record.code} · ${CAUSES[record.cause] ?? record.cause}`));
  });
});
$('#connect').addEventListener('click', () => {
  addTimeline({ kind: 'you', text: 'connect()' }, tag('you', undefined, 'you'), ' connect()');
  socket.connect();
});
let isOffline = false;
$('#offline').addEventListener('click', () => {
  isOffline = !isOffline;
  const signal = isOffline ? 'offline' : 'online';
  addTimeline({ kind: 'you', text: `went ${signal}` }, tag('you', undefined, 'you'), ` went ${signal}`);
  environment.emit(signal);
});
$('#dispose').addEventListener('click', () => {
  addTimeline({ kind: 'you', text: 'dispose()' }, tag('you', undefined, 'you'), ' dispose()');
  socket.dispose();
  addTimeline({ kind: 'you', text: `disposed; ${liveTimers()} timer(s) left` }, h('span', { class: 'why' }, `disposed · ${liveTimers()} timer(s) left in the page`));
});

// -------------------------------------------------------------------------------------- server controls

/**
 * What the page knows about the server. Every control answer carries the server's status; a restart says when
 * the server listens again, and once that time has passed the page asks (`GET /control/status`) instead of
 * assuming, and keeps asking every 2 s until the server answers. Asked from the render loop, not from a timer:
 * the page runs no timer of its own (see `liveTimers`).
 */
const server = {
  blackholeUntil: 0,
  refuseUntil: 0,
  ignoreClose: false,
  /** performance.now() when the restarted server should listen again; 0 when no restart is pending. */
  backAt: 0,
  /** The server did not answer the last status request. */
  isUnreachable: false,
  isAsking: false,
  askedAt: 0,
  /** The last action's outcome, shown for a few seconds. */
  note: '',
  noteUntil: 0,
  isBad: false,
};
const NOTE_MS = 4000;
interface ControlAnswer {
  done?: string;
  error?: string;
  clients: number;
  blackholeMs: number;
  refuseMs: number;
  ignoreClose: boolean;
  restarting?: boolean;
  /** How long until a restarting server listens again. */
  restartMs?: number;
}

function takeStatus(answer: ControlAnswer): void {
  const now = performance.now();
  server.blackholeUntil = now + (answer.blackholeMs ?? 0);
  server.refuseUntil = now + (answer.refuseMs ?? 0);
  server.ignoreClose = Boolean(answer.ignoreClose);
  $<HTMLInputElement>('#srv-ignore-close').checked = server.ignoreClose;
  server.backAt = answer.restarting ? now + (answer.restartMs ?? 0) : 0;
  server.isUnreachable = false;
}

async function askStatus(): Promise<void> {
  server.isAsking = true;
  server.askedAt = performance.now();
  try {
    const response = await fetch('/control/status');
    takeStatus((await response.json()) as ControlAnswer);
  } catch {
    server.isUnreachable = true;
  } finally {
    server.isAsking = false;
  }
}

async function control(action: string, query: Record<string, string> = {}): Promise<void> {
  const search = new URLSearchParams(query).toString();
  const label = `${action}${search ? ` ${search.replace(/&/g, ' ')}` : ''}`;
  addTimeline({ kind: 'server', text: `server: ${label}` }, tag('server', undefined, 'server'), ` ${label}`);
  try {
    const response = await fetch(`/control/${action}${search ? `?${search}` : ''}`, { method: 'POST' });
    const answer = (await response.json()) as ControlAnswer;
    takeStatus(answer);
    server.note = answer.error ?? answer.done ?? 'ok';
    server.isBad = Boolean(answer.error);
  } catch (error) {
    server.note = `control request failed: ${error instanceof Error ? error.message : String(error)}`;
    server.isBad = true;
  }
  server.noteUntil = performance.now() + NOTE_MS;
}

/** The server line: what is wrong with the server now, else "healthy", with the last action's outcome for a while. */
function serverStatus(now: number): { text: string; isBad: boolean } {
  if (server.backAt > 0 && !server.isAsking && now >= server.backAt && now - server.askedAt >= 2000) void askStatus();
  const notes: string[] = [];
  if (server.backAt > 0) {
    if (server.isUnreachable) notes.push('restarting: not answering yet');
    else if (now < server.backAt) notes.push(`restarting: listening again in ${Math.ceil((server.backAt - now) / 1000)} s`);
    else notes.push('restarting: checking that it is back');
  }
  else if (server.isUnreachable) notes.push('not answering');
  if (server.blackholeUntil > now) notes.push(`black hole: ${Math.ceil((server.blackholeUntil - now) / 1000)} s left`);
  if (server.refuseUntil > now) notes.push(`refusing: ${Math.ceil((server.refuseUntil - now) / 1000)} s left`);
  if (server.ignoreClose) notes.push('close frames unanswered');
  const note = now < server.noteUntil && server.note ? server.note : '';
  if (notes.length > 0) return { text: notes.join(' · '), isBad: true };
  if (note) return { text: server.isBad ? note : `healthy · ${note}`, isBad: server.isBad };
  return { text: 'healthy', isBad: false };
}
void askStatus(); // another tab may have left the server misbehaving

const seconds = () => {
  const value = Math.round(Number($<HTMLInputElement>('#seconds').value));
  return String(Number.isFinite(value) && value >= 1 ? Math.min(value, 120) : 6);
};
$('#srv-drop').addEventListener('click', () => void control('drop'));
$('#srv-restart').addEventListener('click', () => void control('restart'));
$('#srv-heal').addEventListener('click', () => void control('heal'));
$('#srv-close').addEventListener('click', () => void control('close', { code: $<HTMLSelectElement>('#close-code').value, reason: 'from the demo page' }));
$('#srv-blackhole').addEventListener('click', () => void control('blackhole', { seconds: seconds() }));
$('#srv-refuse').addEventListener('click', () => void control('refuse', { seconds: seconds() }));
$<HTMLInputElement>('#srv-ignore-close').addEventListener('change', (event) => {
  void control('ignore-close', { on: (event.target as HTMLInputElement).checked ? '1' : '0' });
});

// ---------------------------------------------------------------------------------------------- render

const liveTimers = (): number => (window as unknown as { __liveTimers?: () => number }).__liveTimers?.() ?? -1;
const ui = {
  status: $('#status'),
  statusText: $('#status-text'),
  statusDetail: $('#status-detail'),
  attempt: $('#attempt'),
  nextRetry: $('#next-retry'),
  lastClose: $('#last-close'),
  retryBar: $('#retry-bar'),
  retryFill: $('#retry-fill'),
  rtt: $('#rtt-value'),
  queued: $('#queued'),
  queuedBytes: $('#queued-bytes'),
  dropped: $('#dropped'),
  buffered: $('#buffered'),
  hbTimeouts: $('#hb-timeouts'),
  serverStatus: $('#server-status'),
  offline: $<HTMLButtonElement>('#offline'),
  connect: $<HTMLButtonElement>('#connect'),
};
setText($('#endpoint'), `Endpoint ${wsUrl}`);
setText(
  $('#settings'),
  `Heartbeat: app-level ping every ${formatMs(timings.heartbeatMs)}, ${formatMs(timings.heartbeatTimeoutMs)} deadline · ` +
    `backoff: ${DEFAULTS.jitter} jitter, ${formatMs(timings.initialDelayMs)} → ${formatMs(timings.maxDelayMs)}` +
    `${timings.initialDelayMs === DEFAULTS.initialDelayMs && timings.maxDelayMs === DEFAULTS.maxDelayMs ? " (the library's defaults)" : ''}` +
    ` · connect timeout ${formatMs(timings.connectTimeoutMs)}`,
);
setText($('#hb-interval'), formatMs(timings.heartbeatMs));
setText($('#hb-deadline'), formatMs(timings.heartbeatTimeoutMs));

/** What the status pill says: the state, and in `closed` whether a retry is planned, held, or none. */
function phase(): { label: string; detail: string } {
  if (socket.isDisposed) return { label: 'disposed', detail: `${liveTimers()} timers left` };
  const state = socket.state;
  const retry = socket.retry;
  if (state === 'open') return { label: 'open', detail: socket.rttMs === undefined ? 'connected' : `rtt ${formatMs(socket.rttMs)}` };
  if (state === 'connecting') return { label: 'connecting', detail: socket.attempt === 0 ? 'first attempt' : `retry #${socket.attempt}` };
  if (state === 'closing') return { label: 'closing', detail: 'close handshake' };
  if (retry?.hold) return { label: 'closed', detail: `retry #${retry.attempt} held: ${retry.hold}` };
  const at = nextRetryAt();
  if (retry && at !== undefined) return { label: 'reconnecting', detail: `retry #${retry.attempt} in ${formatMs(Math.max(0, at - Date.now()))}` };
  return { label: 'closed', detail: 'not reconnecting' };
}

function render(): void {
  const disposed = socket.isDisposed;
  const state = socket.state;
  const { label, detail } = phase();
  const look = disposed ? 'disposed' : label === 'reconnecting' ? 'reconnecting' : state;
  ui.status.dataset.state = look;
  ui.status.dataset.phase = label;
  setText(ui.statusText, label);
  setText(ui.statusDetail, detail);
  machine.show(state, look);
  setText(ui.attempt, String(socket.attempt));

  const retry = socket.retry;
  const at = nextRetryAt();
  if (retry && at !== undefined && !disposed) {
    const left = Math.max(0, at - Date.now());
    setText(ui.nextRetry, `#${retry.attempt} in ${formatMs(left)}`);
    ui.retryBar.hidden = false;
    ui.retryBar.classList.remove('held');
    ui.retryFill.style.width = `${retry.delayMs > 0 ? (100 * (retry.delayMs - left)) / retry.delayMs : 100}%`;
  } else if (retry?.hold && !disposed) {
    setText(ui.nextRetry, `#${retry.attempt} held (${retry.hold})`);
    ui.retryBar.hidden = false;
    ui.retryBar.classList.add('held');
    ui.retryFill.style.width = '100%';
  } else {
    setText(ui.nextRetry, '—');
    ui.retryBar.hidden = true;
  }
  const last = socket.lastClose;
  setText(ui.lastClose, last ? `${last.code} · ${CAUSES[last.cause] ?? last.cause}` : '—');

  setText(ui.rtt, socket.rttMs === undefined ? '—' : formatMs(socket.rttMs));
  const queued = socket.queued;
  setText(ui.queued, String(queued.length));
  setText(ui.queuedBytes, formatBytes(queued.reduce((sum, item) => sum + item.bytes, 0)));
  setText(ui.dropped, dropped === 0 ? '0' : `${dropped} (${[...droppedBy].map(([why, n]) => `${n} ${why}`).join(', ')})`);
  setText(ui.buffered, formatBytes(socket.bufferedAmount));
  setText(ui.hbTimeouts, String(errors.filter((code) => code === 'HEARTBEAT_TIMEOUT').length));

  const serverLine = serverStatus(performance.now());
  setText(ui.serverStatus, `Server: ${serverLine.text}`);
  ui.serverStatus.classList.toggle('bad', serverLine.isBad);

  setText(ui.offline, isOffline ? 'Go online' : 'Go offline');
  ui.offline.setAttribute('aria-pressed', String(isOffline));
  ui.connect.disabled = disposed || !(state === 'closed' && !retry);
  if (disposed) for (const button of clientButtons) button.disabled = true;
  document.title = `${label} · resilient-websocket demo`;
}

function frame(): void {
  render();
  requestAnimationFrame(frame);
}
logList.append(h('li', { class: 'empty' }, 'Send a message: the server echoes it back.'));
frame();

// --------------------------------------------------------------------------------------- test surface

/** A read-only view for tests and the curious (open the console and try `demo.state()`). */
const demo = Object.freeze({
  state: () => socket.state,
  phase: () => phase().label,
  isDisposed: () => socket.isDisposed,
  attempt: () => socket.attempt,
  retry: () => (socket.retry ? { ...socket.retry } : undefined),
  nextRetryAt,
  lastClose: () => (socket.lastClose ? { ...socket.lastClose, error: socket.lastClose.error?.code } : undefined),
  rttMs: () => socket.rttMs,
  rtts: () => rtts.slice(),
  queued: () => socket.queued.map((item) => item.message.seq),
  dropped: () => dropped,
  errors: () => errors.slice(),
  log: () => log.map((entry) => ({ ...entry })),
  timeline: () => timeline.map((entry) => ({ ...entry })),
  liveTimers,
  timersAfterDispose: () => (socket.isDisposed ? liveTimers() : null),
  listenerCount: () => environment.listenerCount,
});
Object.defineProperty(window, 'demo', { value: demo, enumerable: true });

// Opt-in (`/?tabs`): one connection shared by this origin's tabs, see demo/tabs.ts.
startTabsPanel();
