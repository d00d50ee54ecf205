import type { IncomingMessage } from 'node:http';
import type { OverflowPolicy } from '../index.js';
import type { ResumeError } from '../resume/errors.js';
import type { ResumeSession } from './session.js';

/** Why a session ended. `disconnected` ends a plain session (one whose client does not speak the protocol). */
export type SessionEndReason = 'closed' | 'bye' | 'expired' | 'failed' | 'moved' | 'disconnected';

/** Why a message will not be resent: the buffer overflowed, it grew older than `maxAgeMs`, or the session ended. */
export type SessionDropReason = 'overflow' | 'expired' | 'closed' | 'failed';

/** What `session.send()` did. */
export type SessionSendResult = 'sent' | 'queued' | 'dropped' | 'rejected' | 'closed';

/** Every event of a session and its payload. */
export type SessionEvents = {
  /** A message from the client: each one once, in order, across connections. `data` is as `ws` gives it. */
  message: { data: Buffer; isBinary: boolean };
  /** The client acknowledged a message. */
  delivered: { data: string | Uint8Array };
  /** A message that will not be resent; `wasSent`: it had been written to a connection and may have arrived. */
  drop: { data: string | Uint8Array; reason: SessionDropReason; wasSent: boolean };
  /** The connection ended; the session waits `sessionTtlMs` for its client. */
  detach: { code: number; reason: string };
  /** The client came back: the session continues on a new connection. */
  resume: { request: IncomingMessage };
  /** The client gave up `missed` messages it never sent (its own buffer overflowed or they expired). */
  gap: { missed: number };
  /** The session is over; nothing more is emitted. */
  end: { reason: SessionEndReason };
};

/**
 * What a session needs from the server that holds it.
 * @internal
 */
export interface SessionHost {
  readonly maxMessages: number;
  readonly maxBytes: number;
  readonly maxAgeMs: number;
  readonly overflow: OverflowPolicy;
  readonly ackDelayMs: number;
  readonly ackEvery: number;
  park(session: ResumeSession): void;
  ended(session: ResumeSession): void;
  error(error: ResumeError, session: ResumeSession): void;
  listenerThrew(type: string, error: unknown): void;
}
