/** The inputs of the built-in backoff curve. */
export interface BackoffCurve {
  initialDelayMs: number;
  delayFactor: number;
  maxDelayMs: number;
  jitter: boolean;
  random: () => number;
}

/**
 * The delay before retry number `attempt` (1, 2, …): exponential growth from `initialDelayMs` by
 * `delayFactor`, capped at `maxDelayMs`, then with full jitter a uniform pick in [0, ceiling).
 * Pure: the only randomness is the injected `random`.
 */
export function backoffDelay(attempt: number, curve: BackoffCurve): number {
  const exponent = Math.max(0, attempt - 1);
  const ceiling = Math.min(curve.maxDelayMs, curve.initialDelayMs * curve.delayFactor ** exponent);
  if (!curve.jitter) return ceiling;
  return Math.floor(Math.min(Math.max(curve.random(), 0), 1) * ceiling);
}
