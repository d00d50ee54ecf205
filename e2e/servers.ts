import { WebSocketServer, type WebSocket as ServerSocket } from 'ws';

/** A `ws` server on 127.0.0.1 with a port chosen by the OS; the caller attaches its connection handler. */
async function listen(options: ConstructorParameters<typeof WebSocketServer>[0] = {}): Promise<{ wss: WebSocketServer; base: string }> {
  const wss = new WebSocketServer({ ...options, host: '127.0.0.1', port: 0 });
  wss.on('error', () => {});
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  return { wss, base: `ws://127.0.0.1:${(wss.address() as { port: number }).port}/` };
}

function stop(wss: WebSocketServer, sockets: Iterable<ServerSocket>): Promise<void> {
  for (const ws of sockets) ws.terminate();
  return new Promise((resolve) => wss.close(() => resolve()));
}

/**
 * A `ws` echo server for one test. Text `ping` is echoed, answered with `pong` or ignored (a silent peer), as
 * `pings` says; `{"binary":value}` with the JSON of value in a binary frame; anything else comes back as it came. While
 * `refusing`, upgrades are answered with 503. `onConnection` may misbehave on purpose.
 */
export class EchoServer {
  readonly sockets = new Set<ServerSocket>();
  /** Close frames from clients (not 1005/1006, which are no frame). */
  readonly closeFrames: { code: number; reason: string }[] = [];
  /** Text messages from clients, in order. */
  readonly received: string[] = [];
  /** `Date.now()` of every upgrade request, accepted or refused. */
  readonly attempts: number[] = [];
  connections = 0;
  pings: 'echo' | 'pong' | 'ignore' = 'echo';
  refusing = false;
  onConnection: ((ws: ServerSocket, index: number) => void) | undefined;
  #wss!: WebSocketServer;

  async start(): Promise<string> {
    const verifyClient = (_info: unknown, accept: (ok: boolean, code?: number) => void) => {
      this.attempts.push(Date.now());
      accept(!this.refusing, 503);
    };
    const { wss, base } = await listen({ verifyClient });
    this.#wss = wss;
    wss.on('connection', (ws) => {
      const index = this.connections++;
      this.sockets.add(ws);
      ws.on('error', () => {});
      ws.on('close', (code, reason) => {
        this.sockets.delete(ws);
        if (code !== 1005 && code !== 1006) this.closeFrames.push({ code, reason: reason.toString() });
      });
      ws.on('message', (data, isBinary) => {
        const text = data.toString();
        if (!isBinary) this.received.push(text);
        if (!isBinary && text === 'ping' && this.pings !== 'echo') return this.pings === 'pong' && ws.send('pong');
        if (!isBinary && text.startsWith('{"binary":')) return ws.send(Buffer.from(JSON.stringify(JSON.parse(text).binary)), { binary: true });
        ws.send(data, { binary: isBinary });
      });
      this.onConnection?.(ws, index);
    });
    return base;
  }

  stop(): Promise<void> {
    return stop(this.#wss, this.sockets);
  }
}

/**
 * A `ws` server that sorts connections into rooms (`?room=` of the url): it counts them, records what each room
 * received and the close codes, and the most connections of a room open at once. With `echo`, messages come back.
 */
export class RoomServer {
  /** The room of every connection, in the order they came. */
  readonly connections: string[] = [];
  readonly received: { room: string; text: string }[] = [];
  readonly closes: { room: string; code: number }[] = [];
  /** The most connections of one room open (readyState OPEN) at the same time. */
  readonly maxOpen = new Map<string, number>();
  readonly #live = new Map<string, Set<ServerSocket>>();
  readonly #echo: boolean;
  #wss!: WebSocketServer;
  #base = '';

  constructor(options: { echo?: boolean } = {}) {
    this.#echo = options.echo ?? false;
  }

  async start(): Promise<void> {
    const { wss, base } = await listen();
    this.#wss = wss;
    this.#base = base;
    wss.on('connection', (ws, request) => {
      const room = new URL(request.url ?? '/', 'http://x').searchParams.get('room') ?? '';
      this.connections.push(room);
      const live = this.#live.get(room) ?? new Set();
      this.#live.set(room, live.add(ws));
      this.maxOpen.set(room, Math.max(this.maxOpen.get(room) ?? 0, this.openCount(room)));
      ws.on('error', () => {});
      ws.on('close', (code) => {
        live.delete(ws);
        this.closes.push({ room, code });
      });
      ws.on('message', (data, isBinary) => {
        this.received.push({ room, text: data.toString() });
        if (this.#echo) ws.send(data, { binary: isBinary });
      });
    });
  }

  url(room: string): string {
    return `${this.#base}?room=${room}`;
  }

  /** Connections ever made to `room`. */
  total(room: string): number {
    return this.connections.filter((r) => r === room).length;
  }

  /** Connections to `room` not yet closed. */
  live(room: string): number {
    return this.#live.get(room)?.size ?? 0;
  }

  /** Connections to `room` open now (readyState OPEN). */
  openCount(room: string): number {
    return [...(this.#live.get(room) ?? [])].filter((ws) => ws.readyState === ws.OPEN).length;
  }

  broadcast(room: string, text: string): void {
    for (const ws of this.#live.get(room) ?? []) if (ws.readyState === ws.OPEN) ws.send(text);
  }

  /** The text messages `room` received, in order. */
  texts(room: string): string[] {
    return this.received.filter((r) => r.room === room).map((r) => r.text);
  }

  stop(): Promise<void> {
    return stop(this.#wss, [...this.#live.values()].flatMap((live) => [...live]));
  }
}
