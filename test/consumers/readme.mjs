// The README's examples, as a user pastes them: extracted from README.md, type-checked against the installed
// tarball, then run in Node against each other on loopback, across a server restart.
//
// A code block is an example when the line before its fence is `<!-- README example: NAME -->`; NAME is the file
// it becomes. Every ts/js block of the README must be one, so a new example cannot escape the check.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { start } from './process-lines.mjs';

const MARKER = /^<!-- README example: ([\w.-]+) -->$/;
const CODE_LANGUAGES = new Set(['ts', 'typescript', 'tsx', 'js', 'javascript', 'jsx', 'mjs', 'cjs']);
/** The URL the examples use, which the run replaces with the loopback server's. */
export const EXAMPLE_URL = 'ws://127.0.0.1:8080';

/** The README's examples, `{ name: code }`; throws if a ts/js block has no marker or a marker no block. */
export function readmeExamples(markdown) {
  const lines = markdown.split('\n');
  const examples = {};
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\S*)/.exec(lines[i]);
    if (!fence) continue;
    const end = lines.indexOf('```', i + 1);
    if (end === -1) throw new Error(`README.md:${i + 1}: a code block that never ends`);
    const name = MARKER.exec(lines[i - 1] ?? '')?.[1] ?? MARKER.exec(lines[i - 2] ?? '')?.[1];
    if (name) examples[name] = lines.slice(i + 1, end).join('\n') + '\n';
    else if (CODE_LANGUAGES.has(fence[1])) {
      throw new Error(`README.md:${i + 1}: a ${fence[1]} block without a "<!-- README example: NAME -->" line before it`);
    }
    i = end;
  }
  const markers = lines.filter((line) => MARKER.test(line)).length;
  if (markers !== Object.keys(examples).length) throw new Error(`README.md: ${markers} example markers, but ${Object.keys(examples).length} examples follow one`);
  for (const name of ['client.ts', 'server.mjs']) if (!examples[name]) throw new Error(`README.md: no example named ${name}`);
  if (!examples['client.ts'].includes(EXAMPLE_URL)) throw new Error(`README.md: client.ts no longer connects to ${EXAMPLE_URL}`);
  return examples;
}

/**
 * Runs the README's server (`serverFile`) and client (`clientFile`, compiled JavaScript) in `dir`, in Node: the
 * client is rewritten to use the server's loopback URL instead of the README's. The client opens and gets echoes;
 * the server stops, and the client reports the close and queues what it sends; the server comes back on the same
 * port, and the client reopens and gets every queued message echoed, in order, before the next ones. Resolves
 * with a summary; rejects with what the programs printed.
 */
export async function runReadmeExamples({ dir, serverFile, clientFile }) {
  const processes = [];
  const launch = (file, env = {}) => {
    const started = start(process.execPath, [file], { cwd: dir, env: { ...process.env, ...env } });
    processes.push(started);
    return started;
  };
  try {
    let server = launch(serverFile, { PORT: '0' });
    const { line } = await server.waitFor(/^listening on ws:\/\/127\.0\.0\.1:\d+$/, { timeoutMs: 10_000 });
    const url = line.slice('listening on '.length);
    const code = readFileSync(join(dir, clientFile), 'utf8');
    if (!code.includes(EXAMPLE_URL)) throw new Error(`${clientFile} has no ${EXAMPLE_URL} to replace`);
    const runnable = clientFile.replace(/\.js$/, '.loopback.js');
    writeFileSync(join(dir, runnable), code.replaceAll(EXAMPLE_URL, url));

    const client = launch(runnable);
    await client.waitFor(/^echo 1$/);

    await server.stop();
    const closed = await client.waitFor(/^closed 1006 network$/);
    await client.waitFor(/^retry in \d+ ms$/, { from: closed.index });
    await client.waitFor(/^send \d+ queued$/, { from: closed.index });
    server = launch(serverFile, { PORT: new URL(url).port });
    await server.waitFor(/^listening on /, { timeoutMs: 10_000 });
    // The retry comes within maxDelayMs (10 s) of the server's return: bounded generously here.
    const reopened = await client.waitFor(/^open$/, { from: closed.index, timeoutMs: 60_000 });
    const numbers = (pattern, lines) => lines.map((text) => pattern.exec(text)?.[1]).filter(Boolean).map(Number);
    const queued = numbers(/^send (\d+) queued$/, client.lines.slice(closed.index, reopened.index));
    const next = await client.waitFor(/^send \d+ sent$/, { from: reopened.index });
    const nextNumber = Number(/\d+/.exec(next.line)[0]);
    await client.waitFor(new RegExp(`^echo ${nextNumber}$`), { from: reopened.index });

    const echoed = numbers(/^echo (\d+)$/, client.lines.slice(reopened.index));
    const wanted = [...queued, ...Array.from({ length: nextNumber - queued.at(-1) }, (_, i) => queued.at(-1) + 1 + i)];
    if (echoed.join() !== wanted.join()) {
      throw new Error(`after the reconnect the echoes were ${echoed.join(', ')}; expected ${wanted.join(', ')}. The client printed:\n${client.lines.join('\n')}`);
    }
    const shown = /^(open|echo \d+|send \d+ (sent|queued)|closed 1006 network|retry in \d+ ms|error SOCKET_ERROR .+)$/;
    const unexpected = client.lines.filter((text) => !shown.test(text));
    if (unexpected.length > 0) throw new Error(`the client printed lines unlike the README's:\n${unexpected.join('\n')}`);
    return `${queued.length} messages queued during the restart, all echoed in order after it`;
  } finally {
    for (const started of processes.reverse()) await started.stop();
  }
}
