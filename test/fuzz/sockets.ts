import type { WireData } from '../../src/options.js';
import { FakeSocket, FakeWsSocket } from '../helpers/fake-socket.js';

// The fake sockets of test/helpers, with faults a step can switch on for one socket: a send() that throws
// (a socket that refuses data), a close()/terminate() that throws (a broken implementation). Subclassed here
// rather than edited there, so the unit tests keep their plain fake.

/** The faults a step can switch on; shared by both flavours. */
export interface Faults {
  sendThrows: boolean;
  closeThrows: boolean;
  /** A close() or terminate() threw at least once: the socket may stay live for good, and that is not a leak. */
  refusedClose?: boolean;
}

function refuse(socket: Faults, method: string): Error {
  socket.refusedClose = true;
  return new Error(`fuzz: this socket refuses ${method}`);
}

export class FuzzSocket extends FakeSocket implements Faults {
  sendThrows = false;
  closeThrows = false;

  override send(data: WireData): void {
    if (this.sendThrows) throw new Error('fuzz: this socket refuses send()');
    super.send(data);
  }

  override close(code?: number, reason?: string): void {
    if (this.closeThrows) throw refuse(this, 'close()');
    super.close(code, reason);
  }
}

export class FuzzWsSocket extends FakeWsSocket implements Faults {
  sendThrows = false;
  closeThrows = false;

  override send(data: WireData): void {
    if (this.sendThrows) throw new Error('fuzz: this socket refuses send()');
    super.send(data);
  }

  override ping(data?: unknown): void {
    if (this.sendThrows) throw new Error('fuzz: this socket refuses ping()');
    super.ping(data);
  }

  override close(code?: number, reason?: string): void {
    if (this.closeThrows) throw refuse(this, 'close()');
    super.close(code, reason);
  }

  override terminate(): void {
    if (this.closeThrows) throw refuse(this, 'terminate()');
    super.terminate();
  }
}

/** Sockets whose constructor a step made throw: half-built, never handed to the library. */
export const unborn = new WeakSet<FakeSocket>();

/** The newest inner socket, where world events happen (none if its constructor threw). */
export function newest(): (FakeSocket & Faults) | undefined {
  const socket = FakeSocket.instances.at(-1);
  return socket && !unborn.has(socket) ? (socket as FakeSocket & Faults) : undefined;
}

/**
 * Whether a socket is detached: no listener at all, or only the no-op absorber that `retire()` (src/connection.ts)
 * leaves for late errors.
 */
export function isDetached(socket: FakeSocket): boolean {
  if (unborn.has(socket)) return true;
  const total = socket.listenerCount();
  return total === 0 || (total === 1 && socket.listenerCount('error') === 1);
}
