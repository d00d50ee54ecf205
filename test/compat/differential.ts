import OriginalPartyWebSocket from 'partysocket/ws';
import OriginalReconnectingWebSocket from 'reconnecting-websocket';
import { expect } from 'vitest';
import { WebSocket as WS } from 'ws';
import PartyWebSocket from '../../src/compat/partysocket-ws.js';
import ReconnectingWebSocket from '../../src/compat/reconnecting-websocket.js';
import type { Options } from '../../src/compat/options.js';
import { StuckOnErrorWebSocket } from './whatwg-socket.js';

/** What both a compat class and its original offer to a test. */
export interface AnySocket extends EventTarget {
  readonly readyState: number;
  readonly retryCount: number;
  readonly url: string;
  readonly bufferedAmount: number;
  readonly protocol: string;
  readonly extensions: string;
  readonly shouldReconnect?: boolean;
  readonly CONNECTING: number;
  readonly OPEN: number;
  readonly CLOSING: number;
  readonly CLOSED: number;
  binaryType: string;
  send(data: unknown): unknown;
  close(code?: number, reason?: string): void;
  reconnect(code?: number, reason?: string): void;
  onopen: unknown;
  onclose: unknown;
  onmessage: unknown;
  onerror: unknown;
}

export type AnyClass = (new (url: any, protocols?: any, options?: any) => AnySocket) & { readonly CONNECTING: number; readonly OPEN: number; readonly CLOSING: number; readonly CLOSED: number };

/** The flavours: each compat class with its original. */
export const PAIRS = [
  { flavour: 'partysocket', theirs: OriginalPartyWebSocket as unknown as AnyClass, ours: PartyWebSocket as unknown as AnyClass },
  { flavour: 'reconnecting-websocket', theirs: OriginalReconnectingWebSocket as unknown as AnyClass, ours: ReconnectingWebSocket as unknown as AnyClass },
] as const;

/** The inner socket classes every scenario runs with. */
export const SOCKET_KINDS = [
  { kind: 'ws', WebSocket: WS as unknown },
  { kind: 'WHATWG, error without close', WebSocket: StuckOnErrorWebSocket as unknown },
] as const;

/** Small real timings: retries after 30 ms, no growth, no randomness. */
export const QUICK: Options = { minReconnectionDelay: 30, maxReconnectionDelay: 30, reconnectionDelayGrowFactor: 1, connectionTimeout: 2_000 };

/** One observed event (or a named moment) with the values a user can read at that moment. */
export type Seen = Record<string, unknown>;

/** Ports change from run to run; the rest of a URL or a message must not. */
export const portless = (text: unknown) => (typeof text === 'string' ? text.replace(/:\d{2,5}\b/g, ':PORT') : text);

function describeData(data: unknown): unknown {
  if (typeof data === 'string' || data === undefined) return data;
  return (data as object)?.constructor?.name;
}

/** The values readable on the socket now. */
export function snapshot(socket: AnySocket, what: string): Seen {
  const seen: Seen = {
    what,
    readyState: socket.readyState,
    retryCount: socket.retryCount,
    url: portless(socket.url),
    binaryType: socket.binaryType,
  };
  if ('shouldReconnect' in socket) seen.shouldReconnect = socket.shouldReconnect;
  return seen;
}

/** Records every open, message, close and error event with what the listener sees. */
export function observe(socket: AnySocket, log: Seen[]): void {
  for (const type of ['open', 'message', 'close', 'error']) {
    socket.addEventListener(type, (event: any) => {
      const seen = snapshot(socket, type);
      if (type === 'close') Object.assign(seen, { code: event.code, reason: event.reason, wasClean: event.wasClean });
      if (type === 'error') seen.message = portless(event.message);
      if (type === 'message') seen.data = describeData(event.data);
      log.push(seen);
    });
  }
}

/** Resolves once `predicate` holds (polling), or rejects after `timeoutMs` with what the log holds. */
export async function until(predicate: () => boolean, log: Seen[], timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out; seen: ${JSON.stringify(log)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const count = (log: Seen[], what: string) => log.filter((seen) => seen.what === what).length;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export type Scenario = (Class: AnyClass, WebSocket: unknown, log: Seen[]) => Promise<unknown>;

/** What a scenario observed: its log and what it returned. */
export interface Run {
  log: Seen[];
  result: unknown;
}

/** Runs the scenario against theirs, then ours (one after the other: no two share a server), and returns both runs. */
export async function runBoth(theirs: AnyClass, ours: AnyClass, WebSocket: unknown, scenario: Scenario): Promise<[theirs: Run, ours: Run]> {
  const runs: Run[] = [];
  for (const Class of [theirs, ours]) {
    const log: Seen[] = [];
    runs.push({ log, result: await scenario(Class, WebSocket, log) });
  }
  return runs as [Run, Run];
}

/** Runs the scenario against theirs, then ours, and expects the same log (and the same result, if any). */
export async function compare(theirs: AnyClass, ours: AnyClass, WebSocket: unknown, scenario: Scenario): Promise<Seen[]> {
  const [their, our] = await runBoth(theirs, ours, WebSocket, scenario);
  expect(our.log).toEqual(their.log);
  expect(our.result).toEqual(their.result);
  return our.log;
}
