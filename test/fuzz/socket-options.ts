import { defaultShouldReconnect, type Environment, type ManualEnvironment, type ReconnectingSocketOptions } from '../../src/index.js';
import { seededRandom } from '../helpers/random.js';
import type { Config } from './scenario.js';
import { FuzzSocket, FuzzWsSocket } from './sockets.js';
import type { World } from './world.js';

export const URL_STRING = 'ws://fuzz.test/feed';

/**
 * The url and options of the socket under test, from the configuration. Every user callback goes through
 * `world.callback()`, where a step may have armed misbehaviour; a url provider function counts attempts.
 */
export function socketOptions(config: Config, env: ManualEnvironment | undefined, optionSignal: AbortController | undefined, world: World) {
  const random = seededRandom(0x5eed);
  const environment: Environment | null = env
    ? {
        subscribe: (listener) => env.subscribe(listener),
        isOnline: () => world.callback('isOnline', () => env.isOnline!()),
        isHidden: () => world.callback('isHidden', () => env.isHidden!()),
      }
    : null;
  const { heartbeat: beat, queue } = config;
  const options: ReconnectingSocketOptions<unknown, string> = {
    WebSocket: config.flavour === 'ws' ? FuzzWsSocket : FuzzSocket,
    environment,
    autoConnect: config.autoConnect,
    connectTimeoutMs: config.connectTimeoutMs,
    closeTimeoutMs: config.closeTimeoutMs,
    initialDelayMs: config.initialDelayMs,
    maxDelayMs: config.maxDelayMs,
    ...(config.jitter !== 'default' && { jitter: config.jitter }),
    maxRetries: config.maxRetries,
    stableAfterMs: config.stableAfterMs,
    pauseWhenHidden: config.pauseWhenHidden,
    random: () => world.callback('random', random),
    heartbeat: beat && {
      intervalMs: beat.intervalMs,
      timeoutMs: beat.timeoutMs,
      probeTimeoutMs: beat.probeTimeoutMs,
      anyMessageIsAlive: beat.anyMessageIsAlive,
      ...(beat.kind === 'message' && { message: 'PING' }),
      ...(beat.kind === 'messageFn' && { message: () => world.callback('heartbeatMessage', () => 'PING') }),
      ...(beat.isPong && { isPong: (data: unknown) => world.callback('isPong', () => data === 'PONG') }),
    },
    queue: Object.fromEntries(Object.entries(queue).filter(([, value]) => value !== undefined)),
    debug: (message) => world.debugLog.push(message),
  };
  if (config.shouldReconnect) options.shouldReconnect = (close) => world.callback('shouldReconnect', () => defaultShouldReconnect(close));
  if (config.delay) options.delay = (attempt) => world.callback('delay', () => Math.min(config.initialDelayMs * attempt, config.maxDelayMs));
  if (config.codec) options.codec = { encode: (message) => world.callback('encode', () => message), decode: (data) => world.callback('decode', () => data) };
  if (optionSignal) options.signal = optionSignal.signal;
  const url =
    config.url === 'string'
      ? URL_STRING
      : () => {
          world.attemptsByProvider++;
          const value = world.callback<unknown>('url', () => URL_STRING);
          return (config.url === 'async' && typeof value === 'string' ? Promise.resolve(value) : value) as string;
        };
  return { url, options };
}
