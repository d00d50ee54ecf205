import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { assertBuilt, describeExit, exitWithin, spawnNode } from '../helpers/child.js';
import { startServer } from '../helpers/servers.js';
import { cleanup } from '../helpers/teardown.js';

// Regression: user-supplied functions that the library calls from inside `ws` event handlers and timers.
// codec.decode, codec.encode, the url provider, heartbeat.message and debug are guarded; these four are not.
// An exception thrown from a ws event handler or a timer callback is an uncaught exception: it kills a Node
// process. The README promises "Never crashes on the network path".

const dist = pathToFileURL(join(process.cwd(), 'dist/index.js')).href;

const CHILD = `
import { ReconnectingSocket } from ${JSON.stringify(dist)};
const [url, mode] = process.argv.slice(2);
const boom = () => { throw new Error('boom from ' + mode); };
const options = { connectTimeoutMs: 3000, initialDelayMs: 50, maxDelayMs: 50, jitter: false, heartbeat: false };
if (mode === 'isPong') options.heartbeat = { message: 'ping', isPong: boom, intervalMs: 60000 };
if (mode === 'shouldReconnect') options.shouldReconnect = boom;
if (mode === 'delay') options.delay = boom;
if (mode === 'random') Object.assign(options, { jitter: true, random: boom });
const socket = new ReconnectingSocket(url, options);
socket.on('error', () => {});
const guard = setTimeout(() => { console.log('never opened'); socket.dispose(); process.exitCode = 2; }, 10000);
// The frame and the close arrive within 100 ms of open; a crash happens before this timer fires.
socket.once('open', () => setTimeout(() => { clearTimeout(guard); console.log('survived ' + socket.state); socket.dispose(); }, 1000));
`;

function writeChild(): string {
  const dir = mkdtempSync(join(tmpdir(), 'review-child-'));
  cleanup(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'child.mjs');
  writeFileSync(file, CHILD);
  return file;
}

describe('a throwing user callback on the network path', () => {
  it.each(['isPong', 'shouldReconnect', 'delay', 'random'])('a throwing %s does not crash the Node process', async (mode) => {
    assertBuilt(['dist/index.js']);
    // The server sends one text frame (seen by isPong), then closes with 4000 (consulted by shouldReconnect/delay/random).
    const server = await startServer({
      echo: false,
      onConnection: (ws) => {
        ws.send('hello');
        setTimeout(() => ws.close(4000, 'bye'), 100);
      },
    });
    const child = spawnNode(writeChild(), [server.url, mode]);
    const exit = await exitWithin(child, 15_000);
    await child.drained;
    expect(exit, 'the child is still running').not.toBe('still running');
    expect(describeExit(exit as Exclude<typeof exit, 'still running'>), `stderr:\n${child.stderr()}`).toBe('code 0');
    expect(child.stdout()).toMatch(/survived/);
  });
});
