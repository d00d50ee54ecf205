// The resume protocol (resilient-websocket/resume + /server) against plain mode, side by side in one run:
//
// 1. CPU per message, client and server, and bytes on the wire per message, for an echo stream: a
//    ReconnectingSocket against a plain ws echo server, and a ResumableSocket against a ws server with
//    attachResume(), in interleaved rounds (the server runs in its own process, so each side's CPU is its own).
//    Targets: at most 10% more CPU per message, at most 8 bytes of envelope per message at steady state.
// 2. Memory under a slow reader: the server streams to a client that reads a little at a time and acknowledges
//    what it read; the session's replay buffer must stay within its bounds, and the heap with it.
// 3. Bundle size of the resume entry over the core (esbuild, minified, gzip 9), and the default import's.
//
//   node bench/resume.mjs            (after npm run build; npm run bench runs it)
//   RESUME_ROUNDS=9 RESUME_MESSAGES=40000 node bench/resume.mjs
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DIST_ESM, browserBundle, fmtInt, fmtNum, fmtPct, median, printTable, spreadPct, watchdog } from './lib.mjs';

const DIST = path.dirname(DIST_ESM);
const ROUNDS = Number(process.env.RESUME_ROUNDS ?? 7);
const MESSAGES = Number(process.env.RESUME_MESSAGES ?? 20_000);
const WINDOW = 128;
const CPU_TARGET = 0.1;
const ENVELOPE_TARGET = 8;
const SLOW_SECONDS = 4;
const SLOW_MAX_BYTES = 1_048_576;
const ACK_SETTLE_MS = 250;
const PURE_MESSAGES = 100_000;
const PURE_ROUNDS = 9;

// ─────────────────────────────────────────────────────────────────────────────────────────────── server

async function runServer() {
  const { WebSocketServer } = await import('ws');
  const { attachResume } = await import(pathToFileURL(path.join(DIST, 'server', 'index.js')).href);
  const listen = (options) =>
    new Promise((resolve) => {
      const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, ...options });
      wss.on('listening', () => resolve(wss));
    });
  /** Bytes read and written per mode, over live and closed connections. */
  const bytes = { plain: { read: 0, written: 0, live: new Set() }, resume: { read: 0, written: 0, live: new Set() } };
  const track = (mode, socket) => {
    const entry = bytes[mode];
    entry.live.add(socket);
    socket.once('close', () => {
      entry.live.delete(socket);
      entry.read += socket.bytesRead;
      entry.written += socket.bytesWritten;
    });
  };
  const totals = (mode) => {
    const entry = bytes[mode];
    let read = entry.read;
    let written = entry.written;
    for (const socket of entry.live) {
      read += socket.bytesRead;
      written += socket.bytesWritten;
    }
    return { read, written };
  };

  const plain = await listen({});
  plain.on('connection', (ws, request) => {
    track('plain', request.socket);
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });

  const resumeWss = await listen({});
  const resume = attachResume(resumeWss, { pingIntervalMs: false, maxBytes: SLOW_MAX_BYTES });
  resume.on('error', ({ error }) => console.error(`server: ${error.message}`));
  let slow;
  resume.on('session', ({ session, request }) => {
    track('resume', request.socket);
    const url = new URL(request.url, 'http://x');
    if (url.pathname === '/slow') return streamToSlowReader(session, url.searchParams.get('pace'));
    session.on('message', ({ data, isBinary }) => session.send(data, { binary: isBinary }));
  });

  /**
   * Streams 1 KiB messages, sampling memory: as fast as ws's own send buffer (1 MiB) allows (`pace=ws`), or only
   * while the session's replay buffer has room (`pace=session`, what an application that must lose nothing does).
   */
  function streamToSlowReader(session, pace) {
    const payload = Buffer.alloc(1024, 7);
    slow = { sent: 0, drops: 0, maxBufferedBytes: 0, maxBuffered: 0, heapStart: process.memoryUsage().heapUsed, maxHeap: 0, samples: 0 };
    session.on('drop', () => slow.drops++);
    const pump = () => {
      if (session.isEnded || !session.isConnected) return;
      while (session.bufferedAmount < 1_048_576 && (pace !== 'session' || session.buffered < 900)) {
        session.send(payload);
        slow.sent++;
      }
      setTimeout(pump, 1);
    };
    const sample = setInterval(() => {
      slow.maxBufferedBytes = Math.max(slow.maxBufferedBytes, session.bufferedBytes);
      slow.maxBuffered = Math.max(slow.maxBuffered, session.buffered);
      slow.maxHeap = Math.max(slow.maxHeap, process.memoryUsage().heapUsed);
      slow.samples++;
    }, 50);
    session.on('end', () => clearInterval(sample));
    session.on('detach', () => clearInterval(sample));
    pump();
  }

  process.on('message', (message) => {
    if (message === 'stats') process.send({ cpu: process.cpuUsage(), plain: totals('plain'), resume: totals('resume') });
    else if (message === 'slow') process.send({ slow });
    else if (message === 'stop') process.exit(0);
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ plainPort: plain.address().port, resumePort: resumeWss.address().port });
}

// ─────────────────────────────────────────────────────────────────────────────────────────────── client

function startServer() {
  const child = fork(fileURLToPath(import.meta.url), ['server'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const replies = [];
  let waiting;
  child.on('message', (message) => {
    if (waiting) {
      const resolve = waiting;
      waiting = undefined;
      resolve(message);
    } else replies.push(message);
  });
  const ask = (question) =>
    new Promise((resolve) => {
      if (!question && replies.length) return resolve(replies.shift());
      waiting = resolve;
      if (question) child.send(question);
    });
  return { child, ask };
}

const payloads = {
  'text 100 B': 'x'.repeat(100),
  'binary 100 B': new Uint8Array(100).fill(3),
};

/** One echo round: N messages through `socket`, at most WINDOW in flight. Resolves with the client CPU in µs. */
async function echoRound(socket, payload) {
  let received = 0;
  let sent = 0;
  const done = new Promise((resolve) => {
    socket.on('message', () => {
      received++;
      while (sent < MESSAGES && sent - received < WINDOW) socket.send(payload), sent++;
      if (received === MESSAGES) resolve();
    });
  });
  const start = process.cpuUsage();
  while (sent < WINDOW) socket.send(payload), sent++;
  await done;
  const cpu = process.cpuUsage(start);
  return cpu.user + cpu.system;
}

async function measure(lib, resumeLib, server, ports) {
  const rows = [];
  for (const [name, payload] of Object.entries(payloads)) {
    const results = { plain: { client: [], server: [], bytes: [] }, resume: { client: [], server: [], bytes: [] } };
    // Round -1 warms both paths up (the JIT, the server's) and is not counted.
    for (let round = -1; round < ROUNDS; round++) {
      for (const mode of round % 2 ? ['resume', 'plain'] : ['plain', 'resume']) {
        const url = `ws://127.0.0.1:${mode === 'plain' ? ports.plainPort : ports.resumePort}/echo`;
        const socket = mode === 'plain' ? new lib.ReconnectingSocket(url, { heartbeat: false }) : new resumeLib.ResumableSocket(url, { heartbeat: false });
        await new Promise((resolve, reject) => {
          socket.once('open', resolve);
          setTimeout(() => reject(new Error(`${mode}: no open within 5 s`)), 5000).unref();
        });
        if (mode === 'resume' && !socket.isResumable) throw new Error('the resume server did not agree to the protocol');
        const before = await server.ask('stats');
        const clientCpu = await echoRound(socket, payload);
        // Let the last acknowledgements go out (ackDelayMs), so their bytes count.
        await new Promise((resolve) => setTimeout(resolve, ACK_SETTLE_MS));
        const after = await server.ask('stats');
        if (mode === 'resume' && socket.unacknowledged !== 0) throw new Error(`resume: ${socket.unacknowledged} messages unacknowledged after the round`);
        await socket.close();
        socket.dispose();
        if (round < 0) continue;
        const serverCpu = after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system;
        const wire = after[mode].read + after[mode].written - before[mode].read - before[mode].written;
        results[mode].client.push(clientCpu / MESSAGES);
        results[mode].server.push(serverCpu / MESSAGES);
        // Each echo is two messages on the wire: one each way.
        results[mode].bytes.push(wire / (2 * MESSAGES));
      }
    }
    rows.push({ name, results });
  }
  return rows;
}

async function slowReader(server, ports, pace) {
  const { WebSocket } = await import('ws');
  const ws = new WebSocket(`ws://127.0.0.1:${ports.resumePort}/slow?pace=${pace}`, ['rws-resume.plain', 'rws-resume.v1']);
  ws.on('error', () => {});
  let received = 0;
  let isWelcomed = false;
  const ack = (count) => {
    const frame = Buffer.alloc(10);
    frame[0] = 0xc1;
    frame[1] = 0x02;
    frame.writeBigUInt64BE(BigInt(count), 2);
    ws.send(frame);
  };
  ws.on('message', () => {
    if (!isWelcomed) return void (isWelcomed = true);
    if (++received % 64 === 0) ack(received);
  });
  await new Promise((resolve) => ws.once('open', resolve));
  // Reads 5 ms out of every 100: a reader about twenty times slower than the network.
  const duty = setInterval(() => {
    ws.resume();
    setTimeout(() => ws.pause(), 5);
  }, 100);
  await new Promise((resolve) => setTimeout(resolve, SLOW_SECONDS * 1000));
  clearInterval(duty);
  const { slow } = await server.ask('slow');
  ws.terminate();
  return { ...slow, received };
}

// ──────────────────────────────────────────────────────────────────────────── the library's own work

/**
 * A WHATWG-style WebSocket with no I/O for the client: it echoes every data message on a microtask and, in
 * resume mode, selects the protocol, sends WELCOME and acknowledges every 64 messages as the server helper does.
 */
function fakeClientSocket(isResume) {
  const welcome = new Uint8Array(42);
  welcome.set([0xc1, 0x01]);
  welcome[19] = 22;
  welcome.fill(65, 20);
  return class FakeWebSocket {
    static OPEN = 1;
    readyState = 0;
    protocol = '';
    extensions = '';
    bufferedAmount = 0;
    binaryType = 'arraybuffer';
    #listeners = {};
    #received = 0;
    #outbox = [];
    #isScheduled = false;
    constructor(url, protocols) {
      if (isResume && protocols?.includes('rws-resume.v1')) this.protocol = 'rws-resume.v1';
      queueMicrotask(() => {
        this.readyState = 1;
        this.#emit('open', {});
        if (this.protocol) this.#deliver(welcome.buffer.slice(0));
      });
    }
    addEventListener(type, listener) {
      (this.#listeners[type] ??= []).push(listener);
    }
    removeEventListener(type, listener) {
      this.#listeners[type] = (this.#listeners[type] ?? []).filter((l) => l !== listener);
    }
    send(data) {
      if (typeof data !== 'string' && data[0] === 0xc1 && data[1] !== 0x00) return; // a control frame (ACK)
      this.#deliver(typeof data === 'string' ? data : data.buffer);
      if (this.protocol && ++this.#received % 64 === 0) {
        const ack = new Uint8Array(10);
        ack.set([0xc1, 0x02]);
        new DataView(ack.buffer).setUint32(6, this.#received);
        this.#deliver(ack.buffer);
      }
    }
    close() {
      this.readyState = 3;
      queueMicrotask(() => this.#emit('close', { code: 1000, reason: '', wasClean: true }));
    }
    #deliver(data) {
      this.#outbox.push(data);
      if (this.#isScheduled) return;
      this.#isScheduled = true;
      queueMicrotask(() => {
        this.#isScheduled = false;
        const batch = this.#outbox;
        this.#outbox = [];
        for (const item of batch) if (this.readyState === 1) this.#emit('message', { data: item });
      });
    }
    #emit(type, event) {
      // As a real WebSocket's events, each says its type (the core routes them by it).
      event.type = type;
      for (const listener of this.#listeners[type] ?? []) listener.call(this, event);
    }
  };
}

/** Client: CPU per echo of the library alone (fake socket), plain ReconnectingSocket vs ResumableSocket. */
async function pureClient(lib, resumeLib, payload) {
  const results = { plain: [], resume: [] };
  for (let round = -1; round < PURE_ROUNDS; round++) {
    for (const mode of ['plain', 'resume']) {
      const WebSocket = fakeClientSocket(mode === 'resume');
      const options = { WebSocket, heartbeat: false, environment: null };
      const socket = mode === 'plain' ? new lib.ReconnectingSocket('ws://fake', options) : new resumeLib.ResumableSocket('ws://fake', options);
      await new Promise((resolve) => socket.once('open', resolve));
      if (mode === 'resume' && !socket.isResumable) throw new Error('fake: not resumable');
      let received = 0;
      let sent = 0;
      const done = new Promise((resolve) =>
        socket.on('message', () => {
          if (++received === PURE_MESSAGES) resolve();
          else if (sent < PURE_MESSAGES) socket.send(payload), sent++;
        }),
      );
      const start = process.cpuUsage();
      for (; sent < WINDOW; sent++) socket.send(payload);
      await done;
      const cpu = process.cpuUsage(start);
      socket.dispose();
      if (round >= 0) results[mode].push(((cpu.user + cpu.system) * 1000) / PURE_MESSAGES);
    }
  }
  return { plain: median(results.plain), resume: median(results.resume) };
}

/**
 * Server: CPU per echo of the helper alone. A fake `ws` socket (an EventEmitter whose send does nothing) is
 * handed to the helper the way `ws` hands it one (handleProtocols, then `connection`), against the same echo
 * written on raw `ws` events.
 */
async function pureServer(serverLib, payload) {
  const { EventEmitter } = await import('node:events');
  const isBinary = typeof payload !== 'string';
  const frame = Buffer.from(payload);
  const fakeWs = (protocol) => Object.assign(new EventEmitter(), { protocol, readyState: 1, bufferedAmount: 0, binaryType: 'nodebuffer', send() {}, close() {}, terminate() {}, ping() {} });
  const results = { raw: [], plain: [], resume: [] };
  for (let round = -1; round < PURE_ROUNDS; round++) {
    for (const mode of ['raw', 'plain', 'resume']) {
      const wss = Object.assign(new EventEmitter(), { options: {} });
      const resume = mode === 'raw' ? undefined : serverLib.attachResume(wss, { pingIntervalMs: false });
      const request = { url: '/', headers: {} };
      const ws = fakeWs(mode === 'resume' ? wss.options.handleProtocols(new Set(['rws-resume.plain', 'rws-resume.v1']), request) : '');
      if (mode === 'raw') ws.on('message', (data, binary) => ws.send(data, { binary }));
      else resume.on('session', ({ session }) => session.on('message', ({ data, isBinary: binary }) => session.send(data, { binary })));
      wss.emit('connection', ws, request);
      await new Promise((resolve) => setTimeout(resolve, 5));
      const ack = Buffer.alloc(10);
      ack[0] = 0xc1;
      ack[1] = 0x02;
      const start = process.cpuUsage();
      for (let i = 1; i <= PURE_MESSAGES; i++) {
        ws.emit('message', frame, isBinary);
        // The client acknowledges every 64, as the helper's own default.
        if (mode === 'resume' && i % 64 === 0) ack.writeUInt32BE(i, 6), ws.emit('message', ack, true);
      }
      const cpu = process.cpuUsage(start);
      resume?.close();
      if (round >= 0) results[mode].push(((cpu.user + cpu.system) * 1000) / PURE_MESSAGES);
    }
  }
  return { raw: median(results.raw), plain: median(results.plain), resume: median(results.resume) };
}

async function sizes() {
  const core = await browserBundle("export { ReconnectingSocket } from '../dist/index.js';");
  const resume = await browserBundle("export { ResumableSocket } from '../dist/resume/index.js';");
  const both = await browserBundle("export { ReconnectingSocket } from '../dist/index.js'; export { ResumableSocket } from '../dist/resume/index.js';");
  return { core: core.gzip.length, resume: resume.gzip.length, both: both.gzip.length, resumeMin: resume.result.outputFiles[0].contents.length };
}

async function main() {
  watchdog(6 * 60_000, 'resume.mjs');
  for (const file of ['index.js', 'resume/index.js', 'server/index.js']) {
    if (!existsSync(path.join(DIST, file))) {
      console.log(`dist/${file} is missing: run \`npm run build\` first.`);
      process.exit(1);
    }
  }
  const lib = await import(pathToFileURL(DIST_ESM).href);
  const resumeLib = await import(pathToFileURL(path.join(DIST, 'resume', 'index.js')).href);
  const server = startServer();
  const ports = await server.ask();
  console.log(`Echo stream: ${fmtInt(MESSAGES)} messages per round, ${WINDOW} in flight, ${ROUNDS} interleaved rounds per mode; server in its own process.\n`);
  const rows = await measure(lib, resumeLib, server, ports);
  const table = [];
  const verdicts = [];
  for (const { name, results } of rows) {
    const m = (mode, key) => median(results[mode][key]);
    const clientRatio = m('resume', 'client') / m('plain', 'client') - 1;
    const serverRatio = m('resume', 'server') / m('plain', 'server') - 1;
    const envelope = m('resume', 'bytes') - m('plain', 'bytes');
    table.push([
      name,
      `${fmtNum(m('plain', 'client'), 2)} µs`,
      `${fmtNum(m('resume', 'client'), 2)} µs`,
      fmtPct(clientRatio * 100),
      `${fmtNum(m('plain', 'server'), 2)} µs`,
      `${fmtNum(m('resume', 'server'), 2)} µs`,
      fmtPct(serverRatio * 100),
      `${fmtNum(m('plain', 'bytes'), 2)} B`,
      `${fmtNum(m('resume', 'bytes'), 2)} B`,
      `${fmtNum(envelope, 2)} B`,
      `±${fmtNum(Math.max(spreadPct(results.plain.client), spreadPct(results.resume.client)) / 2, 0)}%`,
    ]);
    const spread = Math.max(spreadPct(results.plain.client), spreadPct(results.resume.client), spreadPct(results.plain.server), spreadPct(results.resume.server)) / 2;
    verdicts.push({ name, clientRatio, serverRatio, envelope, spread });
  }
  printTable(['payload', 'client plain', 'client resume', 'Δ', 'server plain', 'server resume', 'Δ', 'wire plain', 'wire resume', 'envelope', 'spread'], table);
  console.log('\n(CPU per message: the median round; wire: bytes per message per direction, frame headers and acknowledgements included, handshake excluded; spread: half the range of the rounds)');
  for (const { name, clientRatio, serverRatio, envelope, spread } of verdicts) {
    const worst = Math.max(clientRatio, serverRatio) * 100;
    // Rounds that scatter more than the difference cannot show it either way.
    const cpu = worst <= CPU_TARGET * 100 ? 'met' : worst - spread <= CPU_TARGET * 100 ? `not shown: within the rounds' scatter (±${fmtNum(spread, 0)}%)` : 'NOT met';
    console.log(
      `${name}: loopback CPU ${fmtPct(clientRatio * 100)} client, ${fmtPct(serverRatio * 100)} server (target <= +${CPU_TARGET * 100}%: ${cpu}); envelope ${fmtNum(envelope, 2)} B per message (target <= ${ENVELOPE_TARGET} B: ${envelope <= ENVELOPE_TARGET ? 'met' : 'NOT met'})`,
    );
  }

  console.log(`\nThe library's own work per echo, without I/O (fake sockets, ${fmtInt(PURE_MESSAGES)} echoes, median of ${PURE_ROUNDS}):\n`);
  const serverLib = await import(pathToFileURL(path.join(DIST, 'server', 'index.js')).href);
  const pure = [];
  for (const [name, payload] of Object.entries(payloads)) {
    const client = await pureClient(lib, resumeLib, payload);
    const server = await pureServer(serverLib, payload);
    const loop = rows.find((row) => row.name === name).results;
    pure.push({ name, client, server, clientLoop: median(loop.plain.client) * 1000, serverLoop: median(loop.plain.server) * 1000 });
  }
  printTable(
    ['payload', 'client: plain', 'resume', 'added', 'of a loopback echo', 'server: raw ws', 'plain session', 'resume session', 'added', 'of a loopback echo'],
    pure.map(({ name, client, server, clientLoop, serverLoop }) => [
      name,
      `${fmtInt(client.plain)} ns`,
      `${fmtInt(client.resume)} ns`,
      `${fmtInt(client.resume - client.plain)} ns`,
      fmtPct(((client.resume - client.plain) / clientLoop) * 100),
      `${fmtInt(server.raw)} ns`,
      `${fmtInt(server.plain)} ns`,
      `${fmtInt(server.resume)} ns`,
      `${fmtInt(server.resume - server.raw)} ns`,
      fmtPct(((server.resume - server.raw) / serverLoop) * 100),
    ]),
  );
  console.log('(added: resume minus plain (client) or minus raw ws (server); "of a loopback echo": that difference over the plain CPU per message measured above)');
  for (const { name, client, server, clientLoop, serverLoop } of pure) {
    const clientShare = (client.resume - client.plain) / clientLoop;
    const serverShare = (server.resume - server.raw) / serverLoop;
    console.log(`${name}: the protocol's own work adds ${fmtPct(clientShare * 100)} (client) and ${fmtPct(serverShare * 100)} (server) to a loopback echo's CPU (target <= +${CPU_TARGET * 100}%: ${clientShare <= CPU_TARGET && serverShare <= CPU_TARGET ? 'met' : 'NOT met'})`);
  }

  console.log(`\nSlow reader: the server streams 1 KiB messages for ${SLOW_SECONDS} s to a client that reads 5 ms in every 100 and acknowledges what it read (maxBytes ${fmtInt(SLOW_MAX_BYTES)}, maxMessages 1,000):\n`);
  const slowRows = [];
  let isBounded = true;
  for (const [pace, label] of [
    ['session', 'while session.buffered < 900'],
    ['ws', 'while ws bufferedAmount < 1 MiB only'],
  ]) {
    const slow = await slowReader(server, ports, pace);
    isBounded &&= slow.maxBufferedBytes <= SLOW_MAX_BYTES;
    slowRows.push([label, fmtInt(slow.sent), fmtInt(slow.received), `${fmtInt(slow.maxBufferedBytes)} B`, fmtInt(slow.maxBuffered), fmtInt(slow.drops), `${fmtNum((slow.maxHeap - slow.heapStart) / 1_048_576, 1)} MiB`]);
  }
  printTable(['the application sends', 'sent', 'read', 'replay buffer, most', 'messages, most', 'given up (overflow)', 'heap growth, most'], slowRows);
  console.log(`replay buffer within maxBytes in both: ${isBounded ? 'yes' : 'NO'}. An application that ignores the replay buffer's room still has its memory bounded, but gives up (reports) what it cannot keep.`);

  const size = await sizes();
  console.log('\nBrowser bundle (esbuild ESM, minified, gzip 9):\n');
  printTable(
    ['bundle', 'gzipped'],
    [
      ['{ ReconnectingSocket } from resilient-websocket', `${fmtInt(size.core)} B`],
      ['{ ResumableSocket } from resilient-websocket/resume', `${fmtInt(size.resume)} B`],
      ['both', `${fmtInt(size.both)} B`],
      ['resume entry over the core', `+${fmtInt(size.both - size.core)} B`],
    ],
  );
  console.log('(the default import is built from dist/index.js alone: the resume entry adds nothing to it)');
  server.child.send('stop');
}

if (process.argv[2] === 'server') await runServer();
else await main();
