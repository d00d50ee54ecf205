import { ReconnectingSocket, type ReconnectingSocketOptions, type UrlProvider } from '../../src/index.js';
import { cleanup } from './teardown.js';

/**
 * Small real timings for tests against loopback servers: the first retry after 50 ms, doubling up to 200 ms,
 * no jitter, no heartbeat unless a test asks. Some tests assert these exact delays.
 */
export const FAST: ReconnectingSocketOptions<any, any> = {
  connectTimeoutMs: 3_000,
  closeTimeoutMs: 1_000,
  initialDelayMs: 50,
  maxDelayMs: 200,
  jitter: false,
  heartbeat: false,
};

/** `FAST` with a shorter backoff: the first retry after 30 ms, doubling up to 150 ms. */
export const FASTER: ReconnectingSocketOptions<any, any> = { ...FAST, initialDelayMs: 30, maxDelayMs: 150 };

/** Creates sockets with the options a test file starts from. */
export type SocketFactory = <In = any, Out = any>(url: UrlProvider, options?: ReconnectingSocketOptions<In, Out>) => ReconnectingSocket<In, Out>;

/**
 * Returns the `createSocket(url, options)` of a test file: each socket gets `base` overridden by `options`
 * and is disposed once the current test finishes.
 */
export function socketFactory(base: ReconnectingSocketOptions<any, any>): SocketFactory {
  return <In = any, Out = any>(url: UrlProvider, options: ReconnectingSocketOptions<In, Out> = {}) => {
    // Tests pick their message types freely, codec or not: the constructor's codec check is for users.
    const socket: ReconnectingSocket<In, Out> = new ReconnectingSocket<any, any>(url, { ...base, ...options });
    cleanup(() => socket.dispose());
    return socket;
  };
}
