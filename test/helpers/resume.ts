import { WebSocketServer } from 'ws';
import type { UrlProvider } from '../../src/index.js';
import { ResumableSocket, type ResumableSocketOptions } from '../../src/resume/index.js';
import { attachResume, type ResumeServer, type ResumeServerOptions, type ResumeSession } from '../../src/server/index.js';
import { HOST } from './listen.js';
import { FAST } from './socket.js';
import { cleanup } from './teardown.js';

/** A `ws` server on loopback with the resume helper attached, torn down after the test. */
export interface ResumeTestServer {
  readonly url: string;
  readonly port: number;
  readonly wss: WebSocketServer;
  readonly resume: ResumeServer;
  /** Every session the helper announced, in order. */
  readonly sessions: ResumeSession[];
  /** Errors the helper reported. */
  readonly errors: Error[];
  /** Ends every session (BYE), terminates every connection and stops listening. */
  close(): Promise<void>;
}

export interface ResumeTestServerOptions extends ResumeServerOptions {
  /** Listen on this port (to come back after a restart); 0 lets the OS choose. */
  port?: number;
  /** handleProtocols of the ws server itself. */
  handleProtocols?: (protocols: Set<string>) => string | false;
  /** Called for each new session, after the helper's bookkeeping. */
  onSession?: (session: ResumeSession) => void;
}

/** Starts a resume server for the current test. */
export async function startResumeServer(options: ResumeTestServerOptions = {}): Promise<ResumeTestServer> {
  const { port = 0, handleProtocols, onSession, ...resumeOptions } = options;
  const wss = new WebSocketServer({ host: HOST, port, ...(handleProtocols && { handleProtocols }) });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  wss.on('error', () => {});
  const resume = attachResume(wss, { pingIntervalMs: false, ...resumeOptions });
  const sessions: ResumeSession[] = [];
  const errors: Error[] = [];
  resume.on('error', ({ error }) => errors.push(error));
  resume.on('session', ({ session }) => {
    sessions.push(session);
    onSession?.(session);
  });
  const actualPort = (wss.address() as { port: number }).port;
  let closing: Promise<void> | undefined;
  const server: ResumeTestServer = {
    url: `ws://${HOST}:${actualPort}`,
    port: actualPort,
    wss,
    resume,
    sessions,
    errors,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        resume.close();
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      })),
  };
  cleanup(() => server.close());
  return server;
}

/** Creates a ResumableSocket with the fast test timings, disposed after the test. */
export function resumable<In = any, Out = any>(url: UrlProvider, options: ResumableSocketOptions<In, Out> = {}): ResumableSocket<In, Out> {
  const socket: ResumableSocket<In, Out> = new ResumableSocket<any, any>(url, { ...FAST, ...options } as ResumableSocketOptions<any, any>);
  cleanup(() => socket.dispose());
  return socket;
}

/** Resolves when `check()` holds, polling; rejects after `timeoutMs` with `what` and the last `detail()`. */
export async function until(check: () => boolean, what: string, timeoutMs = 15_000, detail: () => unknown = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} ${JSON.stringify(detail())}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The next event of `type`, as a promise. */
export function next<T>(on: (type: any, listener: (event: T) => void) => () => void, type: string): Promise<T> {
  return new Promise((resolve) => {
    const off = on(type, (event: T) => {
      off();
      resolve(event);
    });
  });
}
