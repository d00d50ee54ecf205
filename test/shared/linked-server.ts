import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { WebSocketServer } from 'ws';
import type { WireData } from '../../src/index.js';
import { attachResume, type ResumeServer, type ResumeServerOptions } from '../../src/server/index.js';
import { FakeSocket } from '../helpers/fake-socket.js';

/**
 * The resume server helper (src/server) behind fake sockets, in memory, for tests under fake timers: `LinkedSocket`
 * is a `FakeSocket` (a browser's WebSocket, scripted by the test) whose frames reach a server end that speaks `ws`'s
 * API, attached to the helper through a stand-in `WebSocketServer`. Frames cross on a microtask each way, in order;
 * the test still decides when a connection opens (`accept`), drops (`serverDrop()`) or finishes closing
 * (`serverClose()`), as with any FakeSocket.
 */
export class LinkedServer {
  readonly #wss = Object.assign(new EventEmitter(), { options: {} as { handleProtocols?: (protocols: Set<string>, request: IncomingMessage) => string | false } });
  readonly resume: ResumeServer;

  constructor(options: ResumeServerOptions = {}) {
    this.resume = attachResume(this.#wss as unknown as WebSocketServer, { pingIntervalMs: false, ...options });
  }

  /** Completes the handshake of a connecting socket: the helper picks the subprotocol and gets the connection. */
  accept(socket: FakeSocket): void {
    const request = { url: '/', headers: {} } as IncomingMessage;
    this.#wss.emit('connection', this.#upgrade(socket, request), request);
  }

  /** Completes the handshake as `accept()` does, but the helper never gets the connection: a server that hangs before its WELCOME. */
  stall(socket: FakeSocket): void {
    this.#upgrade(socket, { url: '/', headers: {} } as IncomingMessage);
  }

  #upgrade(socket: FakeSocket, request: IncomingMessage): ServerEnd {
    const offered = socket.protocols === undefined ? [] : [socket.protocols].flat();
    const selected = offered.length ? this.#wss.options.handleProtocols?.(new Set(offered), request) || '' : '';
    const end = new ServerEnd(socket, selected);
    if (socket instanceof LinkedSocket) socket.peer = end;
    socket.serverOpen(selected);
    return end;
  }
}

/** A FakeSocket whose frames go to its server end, and whose end (either side's) the server end hears. */
export class LinkedSocket extends FakeSocket {
  peer: ServerEnd | undefined;

  override send(data: WireData): void {
    const isOpen = this.readyState === FakeSocket.OPEN;
    super.send(data);
    const peer = this.peer;
    if (isOpen && peer) {
      const [payload, isBinary] = typeof data === 'string' ? [Buffer.from(data), false] : [Buffer.from(data as Uint8Array), true];
      queueMicrotask(() => peer.fromClient(payload, isBinary));
    }
  }

  protected override finish(code: number, reason: string, wasClean: boolean): void {
    const wasClosed = this.isClosed;
    super.finish(code, reason, wasClean);
    if (!wasClosed) this.peer?.ended(code);
  }
}

/** The server's side of one connection, with the part of `ws`'s WebSocket the helper uses. */
class ServerEnd extends EventEmitter {
  readyState = 1;
  binaryType = 'nodebuffer';

  constructor(
    readonly client: FakeSocket,
    readonly protocol: string,
  ) {
    super();
  }

  send(data: string | Uint8Array): void {
    if (this.readyState !== 1) return;
    const client = this.client;
    const payload = typeof data === 'string' ? data : Uint8Array.from(data);
    queueMicrotask(() => (client.readyState === FakeSocket.OPEN || client.readyState === FakeSocket.CLOSING) && client.serverMessage(payload));
  }

  /** The server closes: its close frame reaches the client, which is closed then. */
  close(code = 1005, reason = ''): void {
    if (this.readyState !== 1) return;
    this.readyState = 2;
    const client = this.client;
    queueMicrotask(() => !client.isClosed && client.serverClose(code, reason));
  }

  terminate(): void {
    const client = this.client;
    this.ended(1006);
    queueMicrotask(() => !client.isClosed && client.serverDrop());
  }

  ping(): void {}

  /** A frame from the client. */
  fromClient(data: Buffer, isBinary: boolean): void {
    if (this.readyState === 1) this.emit('message', data, isBinary);
  }

  /** The connection is over, from either side: `close`, once. */
  ended(code: number): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.emit('close', code, Buffer.from(''));
  }
}
