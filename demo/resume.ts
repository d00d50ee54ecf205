// The demo page's Resume panel (opt-in: open the page as /?resume). One ResumableSocket to the demo server's
// /resume endpoint, which runs attachResume(). While streaming, each side sends a numbered message every 25 ms;
// "Cut the connection" resets the TCP connection mid-stream. The panel checks what arrives: every number once,
// in order, both ways, across every cut. Served as /resume.js by demo/resume.mjs.
import { jsonCodec } from 'resilient-websocket';
import { ResumableSocket } from 'resilient-websocket/resume';

type FromServer = { n: number; got: number; duplicates: number; outOfOrder: number };
type ToServer = { n: number } | { type: 'stream'; on: boolean };

const STREAM_MS = 25;
const STRIP = 48;

/** The panel's read-only view, on `window.demoResume` for tests and the console. */
export interface ResumeApi {
  received(): number;
  duplicates(): number;
  outOfOrder(): number;
  cuts(): number;
  lastOpen(): { recovered: boolean; resume: string } | undefined;
}

function startResumePanel(): ResumeApi | undefined {
  if (!new URLSearchParams(location.search).has('resume')) return undefined;
  const main = document.querySelector('main');
  if (!main) throw new Error('demo: missing <main>');
  const card = document.createElement('section');
  card.className = 'card resume-card';
  // Full width, as the Tabs panel (the stylesheet gives unknown cards one column).
  card.style.gridColumn = '1 / -1';
  card.setAttribute('aria-labelledby', 'resume-title');
  card.innerHTML = `
    <h2 id="resume-title">Resume</h2>
    <div class="buttons">
      <button type="button" id="resume-stream" aria-pressed="false">Start streaming</button>
      <button type="button" id="resume-cut" title="TCP reset of the /resume connection, mid-stream">Cut the connection</button>
    </div>
    <dl class="facts">
      <div><dt>Session</dt><dd id="resume-session">—</dd></div>
      <div><dt>Cuts</dt><dd id="resume-cuts">0</dd></div>
      <div><dt>Server → page</dt><dd id="resume-down">0</dd></div>
      <div><dt>Page → server</dt><dd id="resume-up">0</dd></div>
      <div><dt>Duplicates</dt><dd id="resume-dup">0</dd></div>
      <div><dt>Out of order</dt><dd id="resume-ooo">0</dd></div>
    </dl>
    <div id="resume-strip" aria-label="The last numbers received" style="display:flex;flex-wrap:wrap;gap:2px;margin-top:.5rem;font:11px/1.4 ui-monospace,monospace"></div>
    <p class="hint">Start streaming, then cut the connection a few times: the socket reconnects, resumes its session
    (<code>recovered: true</code>) and both sides resend exactly what the other missed, so every number arrives once, in order.</p>`;
  main.append(card);
  const field = (id: string) => card.querySelector<HTMLElement>(`#${id}`)!;
  const ui = {
    stream: field('resume-stream'),
    cut: field('resume-cut'),
    session: field('resume-session'),
    cuts: field('resume-cuts'),
    down: field('resume-down'),
    up: field('resume-up'),
    dup: field('resume-dup'),
    ooo: field('resume-ooo'),
    strip: field('resume-strip'),
  };

  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/resume`;
  const socket = new ResumableSocket<FromServer, ToServer>(url, { codec: jsonCodec, initialDelayMs: 300, maxDelayMs: 2000 });
  const state = { received: 0, duplicates: 0, outOfOrder: 0, cuts: 0, sent: 0, delivered: 0, server: undefined as FromServer | undefined };
  let lastOpen: { recovered: boolean; resume: string } | undefined;
  let isStreaming = false;
  let timer: ReturnType<typeof setInterval> | undefined;

  const render = () => {
    ui.session.textContent = lastOpen ? `${lastOpen.resume} (recovered: ${lastOpen.recovered}) · ${socket.state}` : socket.state;
    ui.cuts.textContent = String(state.cuts);
    ui.down.textContent = `${state.received} received`;
    const server = state.server;
    ui.up.textContent = `${state.sent} sent · ${state.delivered} acknowledged${server ? ` · server got ${server.got}` : ''}`;
    ui.dup.textContent = `${state.duplicates} here · ${server?.duplicates ?? 0} at the server`;
    ui.ooo.textContent = `${state.outOfOrder} here · ${server?.outOfOrder ?? 0} at the server`;
  };
  const mark = (n: number, isGood: boolean) => {
    const cell = document.createElement('span');
    cell.textContent = String(n);
    cell.style.cssText = `padding:0 3px;border-radius:3px;background:${isGood ? 'rgba(34,160,90,.18)' : 'rgba(220,50,50,.35)'}`;
    ui.strip.append(cell);
    while (ui.strip.childElementCount > STRIP) ui.strip.firstElementChild!.remove();
  };

  socket.on('open', ({ recovered, resume }) => {
    lastOpen = { recovered, resume };
    // A fresh session (the first, or after the server lost it): tell it whether we stream.
    if (!recovered) socket.send({ type: 'stream', on: isStreaming });
    render();
  });
  socket.on('state', render);
  socket.on('message', ({ data }) => {
    const isInOrder = data.n === state.received;
    if (data.n < state.received) state.duplicates++;
    else if (data.n > state.received) state.outOfOrder++;
    state.received = Math.max(state.received, data.n + 1);
    state.server = data;
    mark(data.n, isInOrder);
    render();
  });
  socket.on('delivered', ({ message }) => {
    if ('n' in message) state.delivered++;
    render();
  });

  ui.stream.addEventListener('click', () => {
    isStreaming = !isStreaming;
    ui.stream.textContent = isStreaming ? 'Stop streaming' : 'Start streaming';
    ui.stream.setAttribute('aria-pressed', String(isStreaming));
    socket.send({ type: 'stream', on: isStreaming });
    clearInterval(timer);
    timer = isStreaming ? setInterval(() => (socket.send({ n: state.sent++ }), render()), STREAM_MS) : undefined;
  });
  ui.cut.addEventListener('click', () => {
    state.cuts++;
    render();
    void fetch('/resume/cut', { method: 'POST' });
  });
  render();

  return {
    received: () => state.received,
    duplicates: () => state.duplicates,
    outOfOrder: () => state.outOfOrder,
    cuts: () => state.cuts,
    lastOpen: () => lastOpen,
  };
}

(window as unknown as { demoResume?: ResumeApi }).demoResume = startResumePanel();
