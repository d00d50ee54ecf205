import type { ResumableSocketOptions } from './types.js';
import { PING, PONG, isControl, pingFrame } from './wire.js';

const TIMER_LIMIT = 2_147_483_647;

/**
 * Checks the options the resume client reads itself (the core checks every other one, with its own messages)
 * and returns the protocol's settings. Throws `TypeError`/`RangeError` naming the option, as the core does.
 */
export function checkOptions({ resume, codec, binaryType, signal }: ResumableSocketOptions<any, any>): { ackDelayMs: number; ackEvery: number } {
  if (codec !== undefined && (typeof codec?.encode !== 'function' || typeof codec.decode !== 'function')) {
    throw new TypeError(`ResumableSocket: option "codec" must be { encode(), decode() }, got ${typeof codec}.`);
  }
  if (binaryType !== undefined && binaryType !== 'arraybuffer' && binaryType !== 'blob') {
    throw new TypeError(`ResumableSocket: option "binaryType" must be 'arraybuffer' or 'blob', got ${JSON.stringify(binaryType)}.`);
  }
  if (signal !== undefined && typeof signal?.addEventListener !== 'function') {
    throw new TypeError(`ResumableSocket: option "signal" must be an AbortSignal, got ${signal === null ? 'null' : typeof signal}.`);
  }
  if (resume !== undefined && (typeof resume !== 'object' || resume === null)) {
    throw new TypeError(`ResumableSocket: option "resume" must be an object, got ${resume === null ? 'null' : typeof resume}.`);
  }
  return {
    ackDelayMs: checkNumber('resume.ackDelayMs', resume?.ackDelayMs, 100, 1, TIMER_LIMIT),
    ackEvery: checkNumber('resume.ackEvery', resume?.ackEvery, 64, 1, Number.MAX_SAFE_INTEGER, true),
  };
}

/**
 * The heartbeat for the inner socket: its application-level ping is the protocol's PING while the connection
 * speaks the protocol (`speaksResume()`), yours otherwise. Protocol pings (Node) and no heartbeat pass unchanged.
 */
export function resumeHeartbeat(heartbeat: NonNullable<ResumableSocketOptions['heartbeat']>, speaksResume: () => boolean): ResumableSocketOptions['heartbeat'] {
  if (heartbeat === false || typeof heartbeat !== 'object' || heartbeat.message === undefined) return heartbeat;
  const { message, isPong } = heartbeat;
  return {
    ...heartbeat,
    message: () => (speaksResume() ? pingFrame(PING) : typeof message === 'function' ? message() : message),
    // Without your isPong every message counts as the pong, ours included; with it, ours is recognised here.
    ...(isPong && { isPong: (data: unknown) => (speaksResume() ? isControl(data, PONG) : isPong(data)) }),
  };
}

function checkNumber(name: string, value: unknown, fallback: number, min: number, max: number, isWhole = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value)) throw new TypeError(`ResumableSocket: option "${name}" must be a number, got ${typeof value}.`);
  if (value < min || value > max || (isWhole && !Number.isInteger(value))) {
    throw new RangeError(`ResumableSocket: option "${name}" must be a ${isWhole ? 'whole ' : ''}number >= ${min} and <= ${max}, got ${value}.`);
  }
  return value;
}
