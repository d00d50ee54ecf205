import { expect, it } from 'vitest';
import type { SendResult } from '../../src/index.js';
import { CHAOS_TIMINGS, countResources, expectNothingLeaked } from '../helpers/chaos-servers.js';
import { trackUnhandledRejections } from '../helpers/messaging.js';
import { recordEvents, sleep, startServer, waitFor } from '../helpers/servers.js';
import { socketFactory } from '../helpers/socket.js';

// Chaos matrix, part 4: a server that keeps dying (every client terminated, no close frame) and coming back on
// the same port, while the application sends all along. What send() promised must hold: a message it queued is
// delivered exactly once or reported by exactly one `drop`. A message it sent may die with the connection it
// was written to: those are counted and printed, but must not arrive twice either. Nothing arrives out of order.

trackUnhandledRejections();
const createSocket = socketFactory(CHAOS_TIMINGS);

const CYCLES = 30;
const UP_MS = 200;
const DOWN_MS = 200;
const SEND_EVERY_MS = 20;
const END = 'end';

it(`restart loop (${CYCLES} × up ${UP_MS} ms / down ${DOWN_MS} ms, a send every ${SEND_EVERY_MS} ms): queued messages delivered once or dropped once, none twice, in order`, { timeout: 30_000 }, async () => {
  const server = await startServer({ echo: false });
  const before = await countResources();
  const socket = createSocket(server.url, {
    initialDelayMs: 20,
    maxDelayMs: 80,
    heartbeat: { intervalMs: 50, timeoutMs: 150 },
    queue: { maxMessages: 10_000 },
  });
  const log = recordEvents(socket, ['open', 'close', 'drop', 'error']);
  const results: SendResult[] = [];
  const sender = setInterval(() => results.push(socket.send(String(results.length))), SEND_EVERY_MS);
  try {
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      await sleep(UP_MS);
      await server.close();
      await sleep(DOWN_MS);
      await server.restart();
    }
  } finally {
    clearInterval(sender);
  }

  // The server is up again: let the backlog go out, then mark the end of the stream on the same connection.
  await waitFor(() => socket.state === 'open' && socket.queued.length === 0, 3_000, 'the socket open with its backlog flushed');
  expect(socket.send(END)).toBe('sent');
  await waitFor(() => server.received.at(-1) === END, 3_000, 'the end marker reaches the server');
  expect(await socket.close()).toMatchObject({ cause: 'client', wasClean: true });

  const delivered = server.received.filter((message) => message !== END).map(Number);
  const deliveries = new Map<number, number>();
  for (const id of delivered) deliveries.set(id, (deliveries.get(id) ?? 0) + 1);
  const drops = new Map<number, string[]>();
  for (const { message, reason } of log.of('drop')) drops.set(Number(message), [...(drops.get(Number(message)) ?? []), reason]);

  expect(new Set(results), 'send() only ever sent or queued (the queue never filled)').toEqual(new Set(['sent', 'queued']));
  expect([...deliveries].filter(([, times]) => times > 1), 'messages delivered more than once').toEqual([]);
  expect(
    delivered.filter((id, i) => i > 0 && id <= delivered[i - 1]!),
    'messages delivered after a later one',
  ).toEqual([]);
  const queued = results.flatMap((result, id) => (result === 'queued' ? [id] : []));
  const unaccounted = queued.filter((id) => (deliveries.get(id) ?? 0) + (drops.get(id)?.length ?? 0) !== 1);
  expect(unaccounted.map((id) => ({ id, delivered: deliveries.get(id) ?? 0, drops: drops.get(id) ?? [] })), 'queued messages neither delivered once nor dropped once').toEqual([]);
  const sent = results.flatMap((result, id) => (result === 'sent' ? [id] : []));
  expect(sent.filter((id) => drops.has(id)), 'sent messages reported as dropped').toEqual([]);
  const lost = sent.filter((id) => !deliveries.has(id));

  await waitFor(() => server.clients.size === 0, 2_000, 'the server sees no client left');
  await expectNothingLeaked(before);

  expect(log.of('open').length).toBeGreaterThanOrEqual(CYCLES / 2);
  // Every death of the server was a drop to retry from; only our close() ended the run.
  const closes = log.of('close');
  expect(closes.slice(0, -1).filter((close) => !close.willReconnect || close.cause !== 'network')).toEqual([]);
  expect(closes.at(-1)).toMatchObject({ cause: 'client', willReconnect: false });
  expect(log.of('error').every((event) => event.error.code === 'SOCKET_ERROR')).toBe(true);
  console.log(
    `restart loop: ${results.length} messages (${sent.length} sent, ${queued.length} queued), ${server.connections} connections, ` +
      `${lost.length} sent messages lost with their connection${lost.length ? ` (${lost.join(', ')})` : ''}, ${drops.size} dropped`,
  );
});
