import { getEventListeners } from 'node:events';
import { vi } from 'vitest';
import { SocketError, type ReconnectingSocket, messages, opened } from '../../src/index.js';
import { FakeSocket, flushMicrotasks } from '../helpers/fake-socket.js';
import { EVENT_TYPES } from './scenario.js';
import { isDetached, unborn, type Faults } from './sockets.js';
import type { World } from './world.js';

// The invariants of test/fuzz/README.md, checked after every step. `checkAlways` holds at any point between
// two steps; `checkQuiescent` only once the microtask queue has drained (after a flush or a time step), since
// some promises and fake-socket events settle on microtasks.

/** Closed for good: by close(), by the policy giving up, or by dispose(). An idle socket has no lastClose yet. */
export function isFinal(socket: ReconnectingSocket<any, any>): boolean {
  return socket.state === 'closed' && socket.retry === undefined && (socket.isDisposed || socket.lastClose !== undefined);
}

/**
 * Timers the library owns. Once quiescent: all fake timers minus the ones behind our own pending
 * opened({ timeoutMs }) waits. Between microtasks a wait's status may lag its promise, so then all timers count
 * (a state with no timer at all still has no deadline).
 */
function libraryTimers(world: World, isQuiescent: boolean): number {
  const own = isQuiescent ? world.waits.filter((wait) => wait.timed && wait.status === 'pending').length : 0;
  return vi.getTimerCount() - own;
}

export function checkAlways(world: World, isQuiescent = false): void {
  const { socket } = world;
  const sockets = FakeSocket.instances;

  // 1. Nothing escapes: the fake's listeners (the library's) never threw; console.error only carries the
  //    throws of hostile listeners that had no error listener to go to, each exactly once.
  for (const error of FakeSocket.uncaught.splice(0)) world.violate(1, 'fake-uncaught', `a listener the library put on the inner socket threw: ${String(error)}`);
  for (const logged of world.consoleErrors.splice(0)) {
    if (logged instanceof SocketError && logged.code === 'LISTENER_THREW') world.noteReport(logged.cause, 'console.error');
    else world.violate(1, 'console-error', `console.error/reportError received ${logged instanceof Error ? `${logged.name}: ${logged.message}` : String(logged)}`);
  }
  for (const [marker, count] of world.listenerMarkers) {
    if (count !== 1) world.violate(1, count === 0 ? 'listener-throw-unreported' : 'listener-throw-reported-twice', `"${(marker as Error).message}" was reported ${count} times`);
  }

  // 2. At most one inner socket is attached, and it is the newest; none while closed.
  const attached = sockets.filter((s) => !isDetached(s));
  if (attached.length > 1 || (attached.length === 1 && attached[0] !== sockets.at(-1))) {
    world.violate(2, 'two-attached', `${attached.length} inner sockets have listeners: ${attached.map((s) => `#${sockets.indexOf(s)} [${s.listenerTypes()}]`).join(', ')}`);
  }
  // A detached socket was forced down (unless its close()/terminate() threw): none is left live.
  for (const inner of sockets) {
    const isLive = inner.readyState === FakeSocket.CONNECTING || inner.readyState === FakeSocket.OPEN;
    if (isLive && isDetached(inner) && !unborn.has(inner) && !(inner as Partial<Faults>).refusedClose) {
      world.violate(2, 'live-detached-socket', `inner socket #${sockets.indexOf(inner)} has no listener but is still ${inner.stateName}: nothing will ever close it`);
    }
  }
  if (socket.state === 'closed' && attached.length > 0) {
    world.violate(2, 'attached-while-closed', `state is closed but inner socket #${sockets.indexOf(attached[0]!)} still has listeners [${attached[0]!.listenerTypes()}]`);
  }

  // 3. No close event without an attempt that started.
  const attempts = world.attempts(sockets.length);
  if (world.closeEvents > attempts) world.violate(3, 'close-without-attempt', `${world.closeEvents} close events for ${attempts} attempts started`);

  // 4. The state events chain up to the getter.
  if (world.lastTo !== socket.state) world.violate(4, 'state-vs-events', `the last state event went to ${world.lastTo}, the getter says ${socket.state}`);

  checkMessages(world);

  // 6. A waiting state has a live deadline.
  if (world.started && !socket.isDisposed) {
    const timers = libraryTimers(world, isQuiescent);
    const retry = socket.retry;
    const waiting = socket.state === 'connecting' || socket.state === 'closing' || (socket.state === 'closed' && retry !== undefined && retry.hold === undefined);
    if (waiting && timers <= 0) world.violate(6, `no-deadline:${socket.state}`, `state ${socket.state}${retry ? ` (retry ${JSON.stringify(retry)})` : ''} with no timer running`);
  }

  if (socket.isDisposed && socket.state !== 'closed') world.violate(7, 'disposed-not-closed', `isDisposed but state is ${socket.state}`);
}

/** 5. Every accepted message is delivered once or dropped once (or still queued, or handed back); in order. */
function checkMessages(world: World): void {
  const delivered = new Map<string, number>();
  const sequence: string[] = [];
  for (const inner of FakeSocket.instances) {
    for (const data of inner.sent) {
      if (typeof data !== 'string' || !world.messages.has(data)) continue;
      delivered.set(data, (delivered.get(data) ?? 0) + 1);
      sequence.push(data);
    }
  }
  const queued = world.socket.isDisposed ? new Set<string>() : new Set(world.socket.queued.map((item) => String(item.message)));
  if (world.socket.isDisposed && world.socket.queued.length > 0) world.violate(5, 'queued-after-dispose', `${world.socket.queued.length} messages still queued after dispose()`);
  for (const message of world.messages.values()) {
    const { data, result } = message;
    const times = delivered.get(data) ?? 0;
    const drops = world.drops.get(data) ?? [];
    const inQueue = queued.has(data) ? 1 : 0;
    const accounted = times + drops.length + inQueue + (message.cleared ? 1 : 0);
    if (times > 1) world.violate(5, 'delivered-twice', `${data} was delivered ${times} times`);
    if (result === 'sent' || result === 'queued') {
      if (accounted === 0) world.violate(5, `lost:${result}`, `${data} (${result}) was neither delivered, dropped, queued nor cleared`);
      else if (accounted > 1) world.violate(5, `double-account:${result}`, `${data} (${result}): delivered ${times}, drops [${drops}], queued ${inQueue}, cleared ${message.cleared}`);
    } else if (result === 'dropped') {
      if (drops.length !== 1 || drops[0] !== 'overflow' || times + inQueue > 0) {
        world.violate(5, 'dropped-mismatch', `${data} (dropped): delivered ${times}, drops [${drops}], queued ${inQueue}; expected exactly one overflow drop`);
      }
    } else if (result !== undefined && result !== 'threw' && accounted - (message.cleared ? 1 : 0) > 0) {
      world.violate(5, `refused-but-used:${result}`, `${data} (${result}): delivered ${times}, drops [${drops}], queued ${inQueue}`);
    }
  }
  // In order: no delivered message was sent (call returned) before one delivered ahead of it was even called.
  let latestCall = 0;
  for (const data of sequence) {
    const message = world.messages.get(data)!;
    if (message.priority) continue;
    if (message.returnedAt < latestCall) world.violate(5, 'out-of-order', `${data} was delivered after a message sent later: ${sequence.join(' ')}`);
    latestCall = Math.max(latestCall, message.calledAt);
  }
}

export async function checkQuiescent(world: World): Promise<void> {
  const { socket, config } = world;
  const sockets = FakeSocket.instances;
  const final = isFinal(socket);

  // 3. Every ended attempt has exactly one close event; a live socket has one attempt in progress.
  if (world.started) {
    const attempts = world.attempts(sockets.length);
    const expected = socket.state === 'closed' ? attempts : attempts - 1;
    if (world.closeEvents !== expected) {
      world.violate(3, 'close-count', `state ${socket.state}: ${world.closeEvents} close events for ${attempts} attempts started (expected ${expected})`);
    }
  }

  // 8. Waits settle: nothing pending once closed for good; an open releases opened(); an abort ends the wait.
  for (const wait of world.waits) {
    if (wait.status === 'rejected' && !(wait.error instanceof SocketError)) world.violate(8, 'opened-bad-rejection', `opened() rejected with ${String(wait.error)}, not a SocketError`);
    if (wait.status !== 'pending') continue;
    if (final) world.violate(8, socket.isDisposed ? 'opened-pending-after-dispose' : 'opened-pending-after-final', `opened() from step ${wait.step} still pending, state closed for good (lastClose ${JSON.stringify(socket.lastClose)})`);
    else if (world.openEvents > wait.openEventsAtStart) world.violate(8, 'opened-missed-open', `opened() from step ${wait.step} still pending after an open event`);
    else if (wait.aborted) world.violate(8, 'opened-ignores-abort', `opened() from step ${wait.step} still pending after its signal aborted`);
  }
  for (const it of world.iterators) {
    if (it.done) continue;
    if (final) world.violate(8, 'messages-pending-after-final', `messages() from step ${it.step} has not ended, state closed for good`);
    else if (it.aborted) world.violate(8, 'messages-ignores-abort', `messages() from step ${it.step} has not ended after its signal aborted / return()`);
    else if (it.received !== world.messageEvents - it.messageEventsAtStart) {
      world.violate(8, 'messages-missed', `messages() from step ${it.step} yielded ${it.received} of ${world.messageEvents - it.messageEventsAtStart} messages`);
    }
  }
  if (final) {
    if (world.closedWatch && !world.closedWatch.settled) world.violate(8, 'closed-unsettled', '`closed` taken while running has not resolved, state closed for good');
    world.closedWatch = undefined;
  } else if (!world.closedWatch || world.closedWatch.settled) {
    const watch = { settled: false };
    world.closedWatch = watch;
    socket.closed.then(() => (watch.settled = true));
  }

  // 9. close() settles within closeTimeoutMs (+ connectTimeoutMs) of the later of the call and the last restart.
  const bound = config.closeTimeoutMs + config.connectTimeoutMs;
  for (const call of world.closeCalls) {
    if (call.settled) continue;
    const since = Math.max(call.at, world.lastRestartAt);
    if (Date.now() - since > bound) world.violate(9, 'close-unsettled', `close() from step ${call.step} still pending ${Date.now() - since} ms later (bound ${bound} ms), state ${socket.state}`);
  }

  // 7. Closed for good (disposed, given up, closed): nothing left running.
  if (final) {
    const timers = libraryTimers(world, true);
    if (timers > 0) world.violate(7, socket.isDisposed ? 'timers-after-dispose' : 'timers-after-final', `${timers} timers left, state closed for good`);
    if (world.env && world.env.listenerCount > 0) world.violate(7, 'env-listeners-after-final', `${world.env.listenerCount} environment listeners left, state closed for good`);
    const signal = world.optionSignal?.signal;
    if (signal && getEventListeners(signal, 'abort').length > 0) world.violate(7, 'signal-listener-after-final', 'the signal option still has an abort listener, state closed for good');
    for (const inner of sockets) {
      if (!isDetached(inner)) world.violate(7, 'socket-listeners-after-final', `inner socket #${sockets.indexOf(inner)} still has [${inner.listenerTypes()}], state closed for good`);
    }
  }
  if (socket.isDisposed && !world.sentinels) await afterDispose(world);
}

/** First quiescent check after dispose(): later events are violations; opened() rejects and messages() ends. */
async function afterDispose(world: World): Promise<void> {
  const { socket } = world;
  world.sentinels = true;
  for (const type of EVENT_TYPES) socket.on(type, () => world.violate(7, `event-after-dispose:${type}`, `a ${type} event after dispose()`));
  const seen = { opened: 'pending', ended: false };
  world.call('opened', () => opened(socket))?.then(
    () => (seen.opened = 'resolved'),
    () => (seen.opened = 'rejected'),
  );
  world.call('messages', () => messages(socket))?.next().then((result) => (seen.ended = result.done === true));
  await flushMicrotasks();
  if (seen.opened !== 'rejected') world.violate(7, 'opened-after-dispose', `opened() after dispose() is ${seen.opened}, expected a rejection`);
  if (!seen.ended) world.violate(7, 'messages-after-dispose', 'messages() after dispose() did not end');
}
