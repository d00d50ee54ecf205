import { describe, expect, it, vi } from 'vitest';
import { backoffDelay, type BackoffCurve } from '../../src/backoff.js';

const ALMOST_ONE = 1 - Number.EPSILON;

function curve(overrides: Partial<BackoffCurve> = {}): BackoffCurve {
  return { initialDelayMs: 1000, delayFactor: 2, maxDelayMs: 30_000, jitter: false, random: () => 0.5, ...overrides };
}

describe('backoffDelay without jitter (the ceiling itself)', () => {
  it('grows from initialDelayMs by delayFactor per retry', () => {
    const delays = [1, 2, 3, 4, 5].map((attempt) => backoffDelay(attempt, curve()));
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000]);
  });

  it('is capped at maxDelayMs, also for huge attempt numbers', () => {
    expect(backoffDelay(6, curve())).toBe(30_000); // 32 000 capped
    expect(backoffDelay(100, curve())).toBe(30_000);
    expect(backoffDelay(1e6, curve())).toBe(30_000); // 2 ** 999 999 overflows to Infinity, still capped
  });

  it('attempt 1 waits initialDelayMs; attempt 0 (or below) is treated as the first retry', () => {
    expect(backoffDelay(1, curve({ initialDelayMs: 250 }))).toBe(250);
    expect(backoffDelay(0, curve({ initialDelayMs: 250 }))).toBe(250);
    expect(backoffDelay(-3, curve({ initialDelayMs: 250 }))).toBe(250);
  });

  it('a cap below initialDelayMs wins from the first retry', () => {
    expect(backoffDelay(1, curve({ initialDelayMs: 5000, maxDelayMs: 1200 }))).toBe(1200);
  });

  it('honours other factors: 1 (constant) and 1.5', () => {
    expect([1, 2, 10].map((a) => backoffDelay(a, curve({ delayFactor: 1 })))).toEqual([1000, 1000, 1000]);
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, curve({ delayFactor: 1.5 })))).toEqual([1000, 1500, 2250, 3375]);
  });

  it('initialDelayMs 0 means retry at once', () => {
    expect(backoffDelay(5, curve({ initialDelayMs: 0 }))).toBe(0);
  });

  it('never consults random', () => {
    const random = vi.fn(() => 0.3);
    backoffDelay(3, curve({ random }));
    expect(random).not.toHaveBeenCalled();
  });
});

describe('backoffDelay with full jitter', () => {
  const jittered = (attempt: number, value: number, overrides: Partial<BackoffCurve> = {}) =>
    backoffDelay(attempt, curve({ jitter: true, random: () => value, ...overrides }));

  it('random 0 → 0', () => {
    expect(jittered(1, 0)).toBe(0);
    expect(jittered(7, 0)).toBe(0);
  });

  it('random 0.5 → half the ceiling', () => {
    expect(jittered(1, 0.5)).toBe(500);
    expect(jittered(3, 0.5)).toBe(2000);
    expect(jittered(10, 0.5)).toBe(15_000); // ceiling capped at 30 000 first
  });

  it('random just below 1 → just below the ceiling, never reaching it', () => {
    expect(jittered(1, ALMOST_ONE)).toBe(999);
    expect(jittered(3, 0.9999)).toBe(3999);
    expect(jittered(20, ALMOST_ONE)).toBe(29_999);
  });

  it('returns whole milliseconds within [0, ceiling]', () => {
    for (const value of [0, 0.1, 0.123456, 0.5, 0.77, ALMOST_ONE]) {
      for (const attempt of [1, 2, 3, 8]) {
        const delay = jittered(attempt, value, { delayFactor: 1.7, initialDelayMs: 333 });
        expect(Number.isInteger(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(Math.min(30_000, 333 * 1.7 ** (attempt - 1)));
      }
    }
  });

  it('clamps an out-of-range random source into [0, ceiling]', () => {
    expect(jittered(1, -0.5)).toBe(0);
    expect(jittered(1, 1.5)).toBe(1000);
  });

  it('consults random exactly once per delay', () => {
    const random = vi.fn(() => 0.25);
    expect(backoffDelay(2, curve({ jitter: true, random }))).toBe(500);
    expect(random).toHaveBeenCalledTimes(1);
  });
});

describe("backoffDelay with jitter 'decorrelated' (the default curve)", () => {
  const decorrelated = (random: () => number, overrides: Partial<BackoffCurve> = {}) => curve({ jitter: 'decorrelated', random, initialDelayMs: 1500, maxDelayMs: 10_000, ...overrides });

  it('the first retry is uniform in [0, initialDelayMs)', () => {
    expect(backoffDelay(1, decorrelated(() => 0))).toBe(0);
    expect(backoffDelay(1, decorrelated(() => 0.5))).toBe(750);
    expect(backoffDelay(1, decorrelated(() => ALMOST_ONE))).toBe(1499);
  });

  it('a later retry is uniform in [initialDelayMs, delayFactor × previous), whatever the attempt number', () => {
    expect(backoffDelay(2, decorrelated(() => 0), 4000)).toBe(1500);
    expect(backoffDelay(2, decorrelated(() => 0.5), 4000)).toBe(4750); // 1500 + 0.5 × (8000 - 1500)
    expect(backoffDelay(9, decorrelated(() => 0.5), 4000)).toBe(4750);
    // A previous delay below initialDelayMs gives the floor itself.
    expect(backoffDelay(2, decorrelated(() => 0.9), 100)).toBe(1500);
  });

  it('never exceeds maxDelayMs; a cap below initialDelayMs wins from the first retry', () => {
    expect(backoffDelay(5, decorrelated(() => ALMOST_ONE), 9000)).toBe(10_000);
    expect(backoffDelay(1, decorrelated(() => ALMOST_ONE, { maxDelayMs: 400 }))).toBe(399);
    expect(backoffDelay(3, decorrelated(() => 0.5, { maxDelayMs: 400 }), 1000)).toBe(400);
  });

  it('a chain of draws grows while the server stays away and stays within the cap', () => {
    let previous = 0;
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((attempt) => (previous = backoffDelay(attempt, decorrelated(() => ALMOST_ONE), previous)));
    expect(delays).toEqual([1499, 2998, 5995, 10_000, 10_000, 10_000, 10_000, 10_000]);
  });

  it("jitter true is the 'full' curve", () => {
    for (const attempt of [1, 2, 3, 7]) expect(backoffDelay(attempt, curve({ jitter: true }))).toBe(backoffDelay(attempt, curve({ jitter: 'full' })));
  });
});
