import { backoffDelay } from './backoff.js';
import type { Environment, EnvironmentSignal } from './environment.js';
import type { CloseRecord, Hold, Retry } from './machine.js';
import { MAX_RETRY_AFTER_MS, defaultShouldReconnect, type ResolvedOptions } from './options.js';
import { MAX_TIMER_MS } from './transport.js';

/** Runs one of the user's callbacks; a throw is reported and `fallback` is used instead. */
export type Call = <T>(option: string, callback: () => T, fallback: T) => T;

/**
 * What holds a retry now: the network (offline) or, with `pauseWhenHidden`, the page (hidden). A `signal` that
 * just came says so before the environment is asked.
 */
export function holdOf(o: ResolvedOptions<any, any>, env: Environment | null, call: Call, signal?: EnvironmentSignal): Hold | undefined {
  if (signal === 'offline' || (signal !== 'online' && env?.isOnline && !call('environment.isOnline', () => env.isOnline!() !== false, true))) return 'offline';
  if (o.pauseWhenHidden && (signal === 'hidden' || (signal !== 'visible' && env?.isHidden && call('environment.isHidden', () => env.isHidden!() === true, false)))) return 'hidden';
  return undefined;
}

/**
 * The retry planned after `close` ended a connection whose attempt number was `attempt`, or none (the policy
 * says stop): `shouldReconnect` and `maxRetries`, then the delay (`delay`, or the curve, which grows from
 * `previousMs`, with what the server said about coming back), then what holds it. Returns the plan and the
 * curve's delay for the next one.
 */
export function planRetry(o: ResolvedOptions<any, any>, env: Environment | null, call: Call, close: CloseRecord, attempt: number, previousMs: number): [Retry | undefined, number] {
  const next = attempt + 1;
  if (!call('shouldReconnect', () => o.shouldReconnect(close), defaultShouldReconnect(close)) || next > o.maxRetries) return [undefined, previousMs];
  const hold = holdOf(o, env, call);
  let ms = o.delay && call('delay', () => o.delay!(next, close), undefined);
  if (ms === undefined) {
    const random = () => call('random', o.random, Math.random());
    ms = previousMs = backoffDelay(next, { initialDelayMs: o.initialDelayMs, delayFactor: o.delayFactor, maxDelayMs: o.maxDelayMs, jitter: o.jitter, random }, previousMs);
    // What the server said about coming back: Retry-After on 429/503 (capped), 1013 "try again later".
    const { status, retryAfterMs } = close;
    if (retryAfterMs !== undefined && (status === 429 || status === 503)) ms = Math.max(ms, Math.min(retryAfterMs, MAX_RETRY_AFTER_MS));
    if (close.code === 1013) ms = Math.max(ms, o.maxDelayMs);
  }
  // Longer than a timer can wait (Infinity too) is cut to the limit; NaN or negative means now.
  const delayMs = ms > 0 ? Math.min(ms, MAX_TIMER_MS) : 0;
  return [hold ? { attempt: next, delayMs, hold } : { attempt: next, delayMs }, previousMs];
}
