/**
 * How retries are spread: `'decorrelated'` (each delay drawn from the range the previous one sets), `'full'`
 * (uniform between 0 and an exponential ceiling; `true` means this too), or `false` (the ceiling itself, no
 * randomness).
 */
export type Jitter = boolean | 'full' | 'decorrelated';

/** The inputs of the built-in backoff curve. */
export interface BackoffCurve {
  initialDelayMs: number;
  delayFactor: number;
  maxDelayMs: number;
  jitter: Jitter;
  random: () => number;
}

/**
 * The delay before retry number `attempt` (1, 2, …). Pure: the only randomness is the injected `random`, and
 * the only memory is `previousMs`, the delay chosen for the retry before this one.
 *
 * - `'decorrelated'`: the first retry is uniform in [0, initialDelayMs), which spreads a crowd that lost its
 *   server at the same moment; each later one is uniform in [initialDelayMs, delayFactor × previous), at most
 *   `maxDelayMs`. Nobody waits long after the server is back, and nobody retries in step with the others.
 * - `'full'` (or `true`): uniform in [0, min(maxDelayMs, initialDelayMs × delayFactor^(attempt - 1))).
 * - `false`: that ceiling itself.
 */
export function backoffDelay(attempt: number, curve: BackoffCurve, previousMs = 0): number {
  const { initialDelayMs: base, maxDelayMs: cap, jitter } = curve;
  const r = () => Math.min(Math.max(curve.random(), 0), 1);
  if (jitter === 'decorrelated') {
    if (attempt <= 1) return Math.floor(r() * Math.min(base, cap));
    const high = Math.max(base, previousMs * curve.delayFactor);
    return Math.floor(Math.min(cap, base + r() * (high - base)));
  }
  const ceiling = Math.min(cap, base * curve.delayFactor ** Math.max(0, attempt - 1));
  return jitter ? Math.floor(r() * ceiling) : ceiling;
}
