// Run by Bun or Deno (test/runtimes/run.mjs starts it, with the server's URL as its last argument): the package's
// built default import as a user of that runtime gets it, against a loopback `ws` server that run.mjs (Node) stops
// and starts again. One line per step on stdout; run.mjs drives the server from them. No process.exit(): once
// the socket is closed the process must end by itself.
import process from 'node:process';
import { ReconnectingSocket } from '../../dist/index.js';

const say = (line) => console.log(line);
const url = process.argv.at(-1);
const QUEUED = ['q1', 'q2', 'q3'];

// Short timings so the run is quick; a protocol ping every 100 ms (ws's ping in these runtimes).
const socket = new ReconnectingSocket(url, { initialDelayMs: 50, maxDelayMs: 500, heartbeat: { intervalMs: 100, timeoutMs: 5000 } });
let opens = 0;
let heartbeats = 0;
let hasQueued = false;
const received = [];

socket.on('error', ({ error }) => say(`error ${error.code}`));
socket.on('open', () => {
  opens++;
  say(`open ${opens}`);
  if (opens === 1) say(`send hello ${socket.send('hello')}`);
});
socket.on('heartbeat', () => {
  if (++heartbeats === 1) say('heartbeat');
});
socket.on('message', ({ data }) => {
  received.push(String(data));
  if (data === 'hello') say('echo hello');
  if (opens === 2 && QUEUED.every((text) => received.includes(text))) {
    say(`delivered ${received.filter((text) => QUEUED.includes(text)).join(' ')}`);
    socket.close().then((close) => say(`closed ${close.code} ${close.cause}`));
  }
});
socket.on('close', ({ code, cause, willReconnect }) => {
  say(`close ${code} ${cause} ${willReconnect ? 'will reconnect' : 'final'}`);
  if (!hasQueued && opens === 1) {
    hasQueued = true;
    say(`queued ${QUEUED.map((text) => `${text}:${socket.send(text)}`).join(' ')}`);
  }
});
