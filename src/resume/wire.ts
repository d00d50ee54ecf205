import type { WireData } from '../index.js';

/**
 * The resume protocol's wire format, shared by the client (`resilient-websocket/resume`) and the server helper
 * (`resilient-websocket/server`). docs/protocol.md is the specification; this module is its byte layout.
 *
 * Text frames are always data. A binary frame is data unless its first byte is MARK; then byte 1 is the
 * control type. Integers are unsigned, big-endian; sequence counts are u64 limited to 2^53 - 1.
 */

/** The subprotocol that runs the resume protocol with no application subprotocol. */
export const PROTOCOL = 'rws-resume.v1';
/** Offered first when the application offers no subprotocol: a server that picks blindly picks this (plain). */
export const PLAIN_OFFER = 'rws-resume.plain';
/** `rws-resume.v1.session.<token>.<received>`: the session to resume and the count of messages received. */
const SESSION_PREFIX = `${PROTOCOL}.session.`;

/** First byte of every binary control frame. Never valid in UTF-8, and reserved (never used) in MessagePack. */
export const MARK = 0xc1;

/** Control frame types (byte 1). */
export const ESCAPED = 0x00;
export const WELCOME = 0x01;
export const ACK = 0x02;
export const PING = 0x03;
export const PONG = 0x04;
export const BYE = 0x05;
export const NEXT = 0x06;

/** WELCOME outcomes (byte 2). */
export const OUTCOMES = ['new', 'resumed', 'unknown', 'refused'] as const;
/** How the server answered an offer: a fresh session (`new`: none offered, `unknown`, `refused`) or the same one. */
export type Outcome = (typeof OUTCOMES)[number];

/** Tokens: 16 to 64 characters of the base64url alphabet, so they fit in a subprotocol token. */
const TOKEN = /^[A-Za-z0-9_-]{16,64}$/;
const COUNT = /^(0|[1-9][0-9]{0,15})$/;
const MAX_COUNT = Number.MAX_SAFE_INTEGER;
const WELCOME_FIXED = 20;

/** A frame the peer sent that breaks the protocol: the message says which frame and what was wrong. */
export class WireError extends Error {
  override readonly name = 'WireError';
}

/** Whether a selected subprotocol is the resume protocol (alone or around an application subprotocol). */
export const isResumeProtocol = (selected: string): boolean => selected === PROTOCOL || selected.startsWith(`${PROTOCOL}+`);

/** The application's subprotocol inside a selected one: `rws-resume.v1+chat` → `chat`; others pass through. */
export function applicationProtocol(selected: string): string {
  if (selected === PROTOCOL || selected === PLAIN_OFFER) return '';
  return selected.startsWith(`${PROTOCOL}+`) ? selected.slice(PROTOCOL.length + 1) : selected;
}

/**
 * The client's offer: the application's own subprotocols first (a server that picks the first offer without
 * knowing this protocol then runs plain), the resume variants, and the session to resume, if any.
 */
export function buildOffer(application: readonly string[], session?: { token: string; received: number }): string[] {
  const offer = application.length ? [...application, ...application.map((p) => `${PROTOCOL}+${p}`)] : [PLAIN_OFFER, PROTOCOL];
  if (session) offer.push(`${SESSION_PREFIX}${session.token}.${session.received}`);
  return offer;
}

/** What a server reads from an offer. */
export interface ParsedOffer {
  /** The application's subprotocols, in the client's order. */
  readonly application: string[];
  /** Whether the client offered the resume protocol at all. */
  readonly isResumable: boolean;
  /** The session to resume, if offered. */
  readonly session?: { readonly token: string; readonly received: number };
}

/** Parses the offered subprotocols (a `ws` server's `handleProtocols` set). Throws `WireError` on a bad session offer. */
export function parseOffer(offered: Iterable<string>): ParsedOffer {
  const application: string[] = [];
  let isResumable = false;
  let session: ParsedOffer['session'];
  for (const value of offered) {
    if (value === PROTOCOL || value.startsWith(`${PROTOCOL}+`)) isResumable = true;
    else if (value.startsWith(SESSION_PREFIX)) {
      const [token = '', received = ''] = value.slice(SESSION_PREFIX.length).split('.');
      if (!TOKEN.test(token) || !COUNT.test(received) || Number(received) > MAX_COUNT || session) {
        throw new WireError(`bad session offer "${value.slice(0, 80)}": expected ${SESSION_PREFIX}<token>.<count>, once`);
      }
      session = { token, received: Number(received) };
    } else if (value !== PLAIN_OFFER) application.push(value);
  }
  return { application, isResumable, ...(session && { session }) };
}

// ── frames ─────────────────────────────────────────────────────────────────────────────────────────────

function writeCount(bytes: Uint8Array, at: number, value: number): void {
  const high = Math.floor(value / 0x1_0000_0000);
  const low = value >>> 0;
  bytes[at] = high >>> 24;
  bytes[at + 1] = high >>> 16;
  bytes[at + 2] = high >>> 8;
  bytes[at + 3] = high;
  bytes[at + 4] = low >>> 24;
  bytes[at + 5] = low >>> 16;
  bytes[at + 6] = low >>> 8;
  bytes[at + 7] = low;
}

function readCount(bytes: Uint8Array, at: number, what: string): number {
  const high = ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
  const low = ((bytes[at + 4]! << 24) | (bytes[at + 5]! << 16) | (bytes[at + 6]! << 8) | bytes[at + 7]!) >>> 0;
  if (high > 0x1f_ffff) throw new WireError(`${what}: count above 2^53 - 1`);
  return high * 0x1_0000_0000 + low;
}

/** A control frame of `type` carrying one count (ACK, BYE, NEXT). */
export function countFrame(type: number, count: number): Uint8Array {
  const bytes = new Uint8Array(10);
  bytes[0] = MARK;
  bytes[1] = type;
  writeCount(bytes, 2, count);
  return bytes;
}

/** A PING or PONG, with an optional payload (at most 64 bytes) the PONG echoes. */
export function pingFrame(type: typeof PING | typeof PONG, payload?: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(2 + (payload?.length ?? 0));
  bytes[0] = MARK;
  bytes[1] = type;
  if (payload) bytes.set(payload, 2);
  return bytes;
}

/** What WELCOME says. */
export interface Welcome {
  readonly outcome: Outcome;
  /** Data messages the server has received from the client in this session: where the client resends from. */
  readonly received: number;
  /** The sequence number of the server's next data message: where its replay starts. */
  readonly next: number;
  readonly token: string;
}

export function welcomeFrame({ outcome, received, next, token }: Welcome): Uint8Array {
  const bytes = new Uint8Array(WELCOME_FIXED + token.length);
  bytes[0] = MARK;
  bytes[1] = WELCOME;
  bytes[2] = OUTCOMES.indexOf(outcome);
  writeCount(bytes, 3, received);
  writeCount(bytes, 11, next);
  bytes[19] = token.length;
  for (let i = 0; i < token.length; i++) bytes[WELCOME_FIXED + i] = token.charCodeAt(i);
  return bytes;
}

/** A parsed control frame. */
export type Control =
  | { type: typeof WELCOME; welcome: Welcome }
  | { type: typeof ACK | typeof BYE | typeof NEXT; count: number }
  | { type: typeof PING | typeof PONG; payload: Uint8Array };

const NAMES: Record<number, string> = { [WELCOME]: 'WELCOME', [ACK]: 'ACK', [PING]: 'PING', [PONG]: 'PONG', [BYE]: 'BYE', [NEXT]: 'NEXT' };

/** The frame's name for messages: `ACK`, or `control 0x1f` for an unknown type. */
export const frameName = (type: number): string => NAMES[type] ?? `control 0x${type.toString(16).padStart(2, '0')}`;

/** Parses a control frame (its first byte is MARK and its type is not ESCAPED). Throws `WireError`. */
export function parseControl(bytes: Uint8Array): Control {
  if (bytes.length < 2) throw new WireError('control frame of 1 byte: a type byte must follow 0xc1');
  const type = bytes[1]!;
  const name = frameName(type);
  const expect = (length: number, exact = true) => {
    if (exact ? bytes.length !== length : bytes.length < length) {
      throw new WireError(`${name} frame of ${bytes.length} bytes, expected ${exact ? '' : 'at least '}${length}`);
    }
  };
  switch (type) {
    case ACK:
    case BYE:
    case NEXT:
      expect(10);
      return { type, count: readCount(bytes, 2, name) };
    case PING:
    case PONG:
      if (bytes.length > 66) throw new WireError(`${name} frame of ${bytes.length} bytes, expected at most 66`);
      return { type, payload: bytes.subarray(2) };
    case WELCOME: {
      expect(WELCOME_FIXED, false);
      const outcome = OUTCOMES[bytes[2]!];
      if (!outcome) throw new WireError(`WELCOME with unknown outcome ${bytes[2]}`);
      expect(WELCOME_FIXED + bytes[19]!);
      const token = String.fromCharCode(...bytes.subarray(WELCOME_FIXED));
      if (!TOKEN.test(token)) throw new WireError('WELCOME with a token that is not 16 to 64 base64url characters');
      return { type, welcome: { outcome, received: readCount(bytes, 3, name), next: readCount(bytes, 11, name), token } };
    }
    default:
      throw new WireError(`unknown ${name} frame`);
  }
}

// ── data messages ──────────────────────────────────────────────────────────────────────────────────────

const ESCAPE = Uint8Array.of(MARK, ESCAPED);

/** Frames a data message: a binary one that starts with the control mark is escaped; a Blob always is (§2). */
export function frameData(data: WireData): WireData {
  if (typeof data === 'string') return data;
  if (data instanceof Uint8Array) return data.length === 0 || data[0] !== MARK ? data : escape(data);
  if (ArrayBuffer.isView(data) || 'byteLength' in data) {
    const bytes = ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
    return bytes.length === 0 || bytes[0] !== MARK ? data : escape(bytes);
  }
  // A Blob's first byte cannot be read synchronously.
  return new Blob([ESCAPE, data]);
}

function escape(bytes: Uint8Array): Uint8Array {
  const escaped = new Uint8Array(bytes.length + 2);
  escaped.set(ESCAPE);
  escaped.set(bytes, 2);
  return escaped;
}

/** Whether `data` (as the client receives it: text or an ArrayBuffer) is a control frame of `type`. */
export function isControl(data: unknown, type: number): boolean {
  if (!(data instanceof ArrayBuffer) || data.byteLength < 2) return false;
  const bytes = new Uint8Array(data, 0, 2);
  return bytes[0] === MARK && bytes[1] === type;
}
