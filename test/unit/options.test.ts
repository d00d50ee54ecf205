import { describe, expect, it } from 'vitest';
import { createManualEnvironment } from '../../src/environment.js';
import type { CloseRecord } from '../../src/machine.js';
import { rawCodec } from '../../src/codec.js';
import { DEFAULTS, NO_RECONNECT, defaultShouldReconnect, resolveOptions, type ReconnectingSocketOptions } from '../../src/options.js';
import { ReconnectingSocket } from '../../src/index.js';

type Bad = [label: string, options: unknown, error: typeof TypeError | typeof RangeError, name: string, expected: RegExp, received: string];

/** Each row: a bad value, the error class, the option named, the expected range (as it must appear), the value received. */
const BAD: Bad[] = [
  ['connectTimeoutMs 0', { connectTimeoutMs: 0 }, RangeError, 'connectTimeoutMs', />= 1/, 'got 0'],
  ['connectTimeoutMs Infinity', { connectTimeoutMs: Infinity }, RangeError, 'connectTimeoutMs', /<= 2147483647/, 'got Infinity'],
  ['closeTimeoutMs 2^31', { closeTimeoutMs: 2 ** 31 }, RangeError, 'closeTimeoutMs', /<= 2147483647/, 'got 2147483648'],
  ['heartbeat.timeoutMs 2^31', { heartbeat: { timeoutMs: 2 ** 31 } }, RangeError, 'heartbeat.timeoutMs', /<= 2147483647/, 'got 2147483648'],
  ['connectTimeoutMs string', { connectTimeoutMs: '10' }, TypeError, 'connectTimeoutMs', /number/, 'got "10"'],
  ['connectTimeoutMs NaN', { connectTimeoutMs: NaN }, TypeError, 'connectTimeoutMs', /number/, 'got NaN'],
  ['closeTimeoutMs -1', { closeTimeoutMs: -1 }, RangeError, 'closeTimeoutMs', />= 0/, 'got -1'],
  ['initialDelayMs -5', { initialDelayMs: -5 }, RangeError, 'initialDelayMs', />= 0/, 'got -5'],
  ['delayFactor 0.5', { delayFactor: 0.5 }, RangeError, 'delayFactor', />= 1/, 'got 0.5'],
  ['delayFactor null', { delayFactor: null }, TypeError, 'delayFactor', /number/, 'got null'],
  ['maxDelayMs -1', { maxDelayMs: -1 }, RangeError, 'maxDelayMs', />= 0/, 'got -1'],
  ['maxRetries -1', { maxRetries: -1 }, RangeError, 'maxRetries', />= 0 \(or Infinity\)/, 'got -1'],
  ['maxRetries 1.5', { maxRetries: 1.5 }, RangeError, 'maxRetries', /whole number/, 'got 1.5'],
  ['maxRetries true', { maxRetries: true }, TypeError, 'maxRetries', /number/, 'got true'],
  ['stableAfterMs -1', { stableAfterMs: -1 }, RangeError, 'stableAfterMs', />= 0/, 'got -1'],
  ['autoConnect "yes"', { autoConnect: 'yes' }, TypeError, 'autoConnect', /boolean/, 'got "yes"'],
  ['jitter 1', { jitter: 1 }, TypeError, 'jitter', /true, false, 'full' or 'decorrelated'/, 'got 1'],
  ['jitter "equal"', { jitter: 'equal' }, TypeError, 'jitter', /'decorrelated'/, 'got "equal"'],
  ['pauseWhenHidden "false"', { pauseWhenHidden: 'false' }, TypeError, 'pauseWhenHidden', /boolean/, 'got "false"'],
  ['unrefRetryTimer 0', { unrefRetryTimer: 0 }, TypeError, 'unrefRetryTimer', /boolean/, 'got 0'],
  ['delay 100', { delay: 100 }, TypeError, 'delay', /function/, 'got 100'],
  ['random 0.5', { random: 0.5 }, TypeError, 'random', /function/, 'got 0.5'],
  ['shouldReconnect true', { shouldReconnect: true }, TypeError, 'shouldReconnect', /function/, 'got true'],
  ['WebSocket string', { WebSocket: 'ws' }, TypeError, 'WebSocket', /function/, 'got "ws"'],
  ['debug object', { debug: {} }, TypeError, 'debug', /function/, 'got object'],
  ['binaryType "text"', { binaryType: 'text' }, TypeError, 'binaryType', /'arraybuffer' or 'blob'/, 'got "text"'],
  ['codec without decode', { codec: { encode: () => '' } }, TypeError, 'codec', /encode\(\), decode\(\)/, 'got object'],
  ['codec string', { codec: 'json' }, TypeError, 'codec', /encode\(\), decode\(\)/, 'got "json"'],
  ['signal string', { signal: 'abort' }, TypeError, 'signal', /AbortSignal/, 'got "abort"'],
  ['signal plain object', { signal: {} }, TypeError, 'signal', /AbortSignal/, 'got object'],
  ['environment without subscribe', { environment: {} }, TypeError, 'environment', /subscribe\(\)/, 'got object'],
  ['heartbeat true', { heartbeat: true }, TypeError, 'heartbeat', /object or false/, 'got true'],
  ['heartbeat null', { heartbeat: null }, TypeError, 'heartbeat', /object or false/, 'got null'],
  ['heartbeat.intervalMs 0', { heartbeat: { intervalMs: 0 } }, RangeError, 'heartbeat.intervalMs', />= 1/, 'got 0'],
  ['heartbeat.timeoutMs -1', { heartbeat: { timeoutMs: -1 } }, RangeError, 'heartbeat.timeoutMs', />= 1/, 'got -1'],
  ['heartbeat.probeTimeoutMs "3s"', { heartbeat: { probeTimeoutMs: '3s' } }, TypeError, 'heartbeat.probeTimeoutMs', /number/, 'got "3s"'],
  ['heartbeat.isPong "pong"', { heartbeat: { isPong: 'pong' } }, TypeError, 'heartbeat.isPong', /function/, 'got "pong"'],
  ['heartbeat.anyMessageIsAlive 1', { heartbeat: { anyMessageIsAlive: 1 } }, TypeError, 'heartbeat.anyMessageIsAlive', /boolean/, 'got 1'],
  ['heartbeat.message 42', { heartbeat: { message: 42 } }, TypeError, 'heartbeat.message', /string|function/, 'got 42'],
  ['queue "big"', { queue: 'big' }, TypeError, 'queue', /object/, 'got "big"'],
  ['queue.maxMessages -1', { queue: { maxMessages: -1 } }, RangeError, 'queue.maxMessages', />= 0/, 'got -1'],
  ['queue.maxMessages 2.5', { queue: { maxMessages: 2.5 } }, RangeError, 'queue.maxMessages', /whole number/, 'got 2.5'],
  ['queue.maxBytes -1', { queue: { maxBytes: -1 } }, RangeError, 'queue.maxBytes', />= 0/, 'got -1'],
  ['queue.ttlMs 0', { queue: { ttlMs: 0 } }, RangeError, 'queue.ttlMs', />= 1/, 'got 0'],
  ['queue.overflow "drop"', { queue: { overflow: 'drop' } }, TypeError, 'queue.overflow', /'drop-oldest', 'drop-newest' or 'reject'/, 'got "drop"'],
  ['queue.queueWhileClosed "yes"', { queue: { queueWhileClosed: 'yes' } }, TypeError, 'queue.queueWhileClosed', /boolean/, 'got "yes"'],
];

const resolve = (options: unknown) => resolveOptions(options as ReconnectingSocketOptions);

describe('resolveOptions: bad values', () => {
  it.each(BAD)('%s → %o naming the option, the expected range and the value', (_label, options, ErrorClass, name, expected, received) => {
    let caught: unknown;
    try {
      resolve(options);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ErrorClass);
    const message = (caught as Error).message;
    expect(message).toContain(`"${name}"`);
    expect(message).toMatch(expected);
    expect(message).toContain(received);
  });

  it('rejects an unknown option, naming it', () => {
    expect(() => resolve({ reconnectInterval: 100 })).toThrow(TypeError);
    expect(() => resolve({ reconnectInterval: 100 })).toThrow(/"reconnectInterval"/);
    expect(() => resolve({ connectTimeoutMS: 100 })).toThrow(/"connectTimeoutMS"/);
  });

  it('rejects an unknown nested option, naming it', () => {
    expect(() => resolve({ heartbeat: { interval: 100 } })).toThrow(/"heartbeat\.interval"/);
    expect(() => resolve({ queue: { maxMessage: 10 } })).toThrow(/"queue\.maxMessage"/);
  });

  it('rejects options that are not an object', () => {
    expect(() => resolve(5)).toThrow(TypeError);
    expect(() => resolve('fast')).toThrow(/got "fast"/);
    expect(() => resolve(null)).toThrow(/got null/);
  });
});

describe('resolveOptions: defaults', () => {
  const { heartbeat, queue, ...flat } = DEFAULTS;

  /** Every option a resolved object answers with, its own or inherited from the shared defaults. */
  const plain = (options: object) => {
    const out: Record<string, unknown> = {};
    for (const key in options) out[key] = (options as Record<string, unknown>)[key];
    return out;
  };

  it('with no options, applies every default from DEFAULTS', () => {
    const resolved = resolveOptions();
    expect(resolved).toMatchObject(flat);
    expect(resolved.heartbeat).toEqual(heartbeat);
    expect(resolved.queue).toEqual(queue);
    expect(resolved.random).toBe(Math.random);
    expect(resolved.shouldReconnect).toBe(defaultShouldReconnect);
    expect(resolved.codec).toBe(rawCodec);
    for (const key of ['protocols', 'headers', 'delay', 'signal', 'environment', 'WebSocket', 'debug'] as const) {
      expect(resolved[key], key).toBeUndefined();
    }
    expect(plain(resolveOptions({}))).toEqual(plain(resolved));
  });

  it('treats an explicit undefined as "use the default"', () => {
    const resolved = resolveOptions({ connectTimeoutMs: undefined, jitter: undefined, queue: { maxBytes: undefined } });
    expect(resolved.connectTimeoutMs).toBe(DEFAULTS.connectTimeoutMs);
    expect(resolved.jitter).toBe(DEFAULTS.jitter);
    expect(plain(resolved.queue)).toEqual(queue);
  });

  it('keeps given values and fills nested objects from their defaults', () => {
    const delay = (n: number) => n;
    const environment = createManualEnvironment();
    const resolved = resolveOptions({
      connectTimeoutMs: 1,
      closeTimeoutMs: 0,
      maxRetries: Infinity,
      jitter: false,
      delay,
      environment,
      binaryType: 'blob',
      heartbeat: { intervalMs: 50 },
      queue: { overflow: 'reject', ttlMs: 200 },
    });
    expect(resolved).toMatchObject({ connectTimeoutMs: 1, closeTimeoutMs: 0, maxRetries: Infinity, jitter: false, binaryType: 'blob' });
    expect(resolved.delay).toBe(delay);
    expect(resolved.environment).toBe(environment);
    expect(plain(resolved.heartbeat as object)).toEqual({ ...heartbeat, intervalMs: 50 });
    expect(plain(resolved.queue)).toEqual({ ...queue, overflow: 'reject', ttlMs: 200 });
  });

  it('heartbeat: false turns heartbeats off; environment: null is accepted', () => {
    expect(resolveOptions({ heartbeat: false }).heartbeat).toBe(false);
    expect(resolveOptions({ environment: null }).environment).toBeNull();
  });

  it('accepts the boundary values', () => {
    expect(() =>
      resolveOptions({ connectTimeoutMs: 1, closeTimeoutMs: 0, initialDelayMs: 0, delayFactor: 1, maxDelayMs: 0, maxRetries: 0, stableAfterMs: 0 }),
    ).not.toThrow();
    expect(() => resolveOptions({ queue: { maxMessages: 0, maxBytes: 0, ttlMs: 1 }, heartbeat: { intervalMs: 1, timeoutMs: 1, probeTimeoutMs: 1 } })).not.toThrow();
    expect(() => resolveOptions({ queue: { maxMessages: Infinity, maxBytes: Infinity, ttlMs: Infinity } })).not.toThrow();
  });

  it('does not alter DEFAULTS or the options passed in', () => {
    const snapshot = JSON.stringify(DEFAULTS);
    const options = { heartbeat: { intervalMs: 10 }, queue: { maxMessages: 3 } };
    const resolved = resolveOptions(options);
    expect(resolved.queue.maxMessages).toBe(3);
    expect(JSON.stringify(DEFAULTS)).toBe(snapshot);
    expect(options).toEqual({ heartbeat: { intervalMs: 10 }, queue: { maxMessages: 3 } });
  });
});

describe('resolveOptions: what a socket holds', () => {
  it('a socket given no options shares one object of defaults; one given some holds only those', () => {
    expect(resolveOptions()).toBe(resolveOptions());
    const resolved = resolveOptions({ connectTimeoutMs: 5, heartbeat: { intervalMs: 20 }, queue: {} });
    expect(Object.keys(resolved).sort()).toEqual(['connectTimeoutMs', 'heartbeat', 'queue']);
    expect(Object.keys(resolved.heartbeat as object)).toEqual(['intervalMs']);
    expect(Object.keys(resolved.queue)).toEqual([]);
    expect(Object.getPrototypeOf(resolved)).toBe(resolveOptions());
  });
});


describe('defaultShouldReconnect', () => {
  const close = (code: number): CloseRecord => ({ code, reason: '', wasClean: true, cause: 'server' });

  it.each([1000, 1001, 1005, 1006, 1011, 1012, 1013, 1014, 3001, 3002, 4000, 4999])('reconnects after %i', (code) => {
    expect(defaultShouldReconnect(close(code))).toBe(true);
  });

  it.each([1002, 1003, 1007, 1008, 1009, 1010, 1015, 3000, 3003])('does not reconnect after %i', (code) => {
    expect(defaultShouldReconnect(close(code))).toBe(false);
    expect(NO_RECONNECT.has(code)).toBe(true);
  });
});

describe('the call shape of reconnecting-websocket and partysocket', () => {
  it.each([
    ['(url, protocols)', ['ws://example.test', ['chat']]],
    ['(url, protocol string)', ['ws://example.test', 'chat']],
    ['(url, [], options)', ['ws://example.test', [], { maxRetries: 5 }]],
    ['(url, undefined, options)', ['ws://example.test', undefined, { maxRetries: 5 }]],
  ])('%s throws a TypeError that points at { protocols } and the compat entry', (_, args) => {
    const create = () => new (ReconnectingSocket as any)(...(args as unknown[]));
    expect(create).toThrow(TypeError);
    expect(create).toThrow(/\{ protocols \}.*resilient-websocket\/compat/);
  });
});
