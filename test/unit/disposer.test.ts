import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DisposerScope } from '../../src/disposer.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('DisposerScope', () => {
  it('runs disposers last-in-first-out', () => {
    const order: number[] = [];
    const scope = new DisposerScope();
    for (const n of [1, 2, 3, 4]) scope.add(() => order.push(n));
    scope.dispose();
    expect(order).toEqual([4, 3, 2, 1]);
  });

  it('is idempotent: a second dispose() runs nothing', () => {
    const disposer = vi.fn();
    const scope = new DisposerScope();
    scope.add(disposer);
    expect(scope.isDisposed).toBe(false);
    scope.dispose();
    scope.dispose();
    expect(disposer).toHaveBeenCalledTimes(1);
    expect(scope.isDisposed).toBe(true);
  });

  it('a disposer that disposes its own scope does not re-run anything', () => {
    const calls: string[] = [];
    const scope = new DisposerScope();
    scope.add(() => calls.push('first'));
    scope.add(() => {
      calls.push('reentrant');
      scope.dispose();
    });
    scope.dispose();
    expect(calls).toEqual(['reentrant', 'first']);
  });

  it('runs every disposer when some throw, reporting each error to onError', () => {
    const onError = vi.fn();
    const scope = new DisposerScope(onError);
    const ran: string[] = [];
    const boom1 = new Error('one');
    const boom2 = new Error('two');
    scope.add(() => ran.push('a'));
    scope.add(() => {
      ran.push('b');
      throw boom1;
    });
    scope.add(() => ran.push('c'));
    scope.add(() => {
      ran.push('d');
      throw boom2;
    });
    expect(() => scope.dispose()).not.toThrow();
    expect(ran).toEqual(['d', 'c', 'b', 'a']);
    expect(onError.mock.calls).toEqual([[boom2], [boom1]]);
  });

  it('swallows a throwing disposer without an onError', () => {
    const scope = new DisposerScope();
    const after = vi.fn();
    scope.add(after);
    scope.add(() => {
      throw new Error('x');
    });
    expect(() => scope.dispose()).not.toThrow();
    expect(after).toHaveBeenCalledTimes(1);
  });

  it('runs a disposer added after disposal at once (errors still go to onError)', () => {
    const onError = vi.fn();
    const scope = new DisposerScope(onError);
    scope.dispose();
    const late = vi.fn();
    scope.add(late);
    expect(late).toHaveBeenCalledTimes(1);
    const boom = new Error('late');
    expect(() =>
      scope.add(() => {
        throw boom;
      }),
    ).not.toThrow();
    expect(onError).toHaveBeenCalledWith(boom);
  });

  it('a disposer registered while disposing runs at once', () => {
    const scope = new DisposerScope();
    const nested = vi.fn();
    scope.add(() => scope.add(nested));
    scope.dispose();
    expect(nested).toHaveBeenCalledTimes(1);
  });

  it('a disposer run early runs only once and not again at disposal', () => {
    const disposer = vi.fn();
    const scope = new DisposerScope();
    const runEarly = scope.add(disposer);
    runEarly();
    runEarly();
    expect(disposer).toHaveBeenCalledTimes(1);
    scope.dispose();
    expect(disposer).toHaveBeenCalledTimes(1);
  });

  it('early-run disposers leave the scope: order of the remaining ones is intact', () => {
    const order: string[] = [];
    const scope = new DisposerScope();
    scope.add(() => order.push('a'));
    const b = scope.add(() => order.push('b'));
    scope.add(() => order.push('c'));
    b();
    scope.dispose();
    expect(order).toEqual(['b', 'c', 'a']);
  });

  describe('timeout()', () => {
    it('fires once after the delay, then owns nothing', () => {
      const scope = new DisposerScope();
      const fn = vi.fn();
      scope.timeout(fn, 100);
      expect(vi.getTimerCount()).toBe(1);
      vi.advanceTimersByTime(99);
      expect(fn).not.toHaveBeenCalled();
      vi.advanceTimersByTime(1);
      expect(fn).toHaveBeenCalledTimes(1);
      expect(vi.getTimerCount()).toBe(0);
      scope.dispose();
      expect(fn).toHaveBeenCalledTimes(1);
    });

    it('the returned function cancels it', () => {
      const scope = new DisposerScope();
      const fn = vi.fn();
      const cancel = scope.timeout(fn, 100);
      cancel();
      expect(vi.getTimerCount()).toBe(0);
      vi.advanceTimersByTime(1000);
      expect(fn).not.toHaveBeenCalled();
      cancel();
    });

    it('dispose() cancels pending timeouts', () => {
      const scope = new DisposerScope();
      const fn = vi.fn();
      scope.timeout(fn, 100);
      scope.timeout(fn, 200);
      scope.dispose();
      expect(vi.getTimerCount()).toBe(0);
      vi.advanceTimersByTime(1000);
      expect(fn).not.toHaveBeenCalled();
    });

    it('a timeout scheduled after disposal never fires', () => {
      const scope = new DisposerScope();
      scope.dispose();
      const fn = vi.fn();
      scope.timeout(fn, 10);
      expect(vi.getTimerCount()).toBe(0);
      vi.advanceTimersByTime(100);
      expect(fn).not.toHaveBeenCalled();
    });

    it('a callback that disposes the scope or schedules another timeout works', () => {
      const scope = new DisposerScope();
      const second = vi.fn();
      scope.timeout(() => scope.timeout(second, 10), 10);
      vi.advanceTimersByTime(20);
      expect(second).toHaveBeenCalledTimes(1);
      scope.timeout(() => scope.dispose(), 10);
      scope.timeout(second, 50);
      vi.advanceTimersByTime(100);
      expect(second).toHaveBeenCalledTimes(1);
      expect(vi.getTimerCount()).toBe(0);
    });

    it('unref = true still fires', () => {
      const scope = new DisposerScope();
      const fn = vi.fn();
      scope.timeout(fn, 10, true);
      vi.advanceTimersByTime(10);
      expect(fn).toHaveBeenCalledTimes(1);
    });
  });

  describe('listen()', () => {
    it('adds the listener and removes it at disposal', () => {
      const target = new EventTarget();
      const scope = new DisposerScope();
      const listener = vi.fn();
      scope.listen(target, 'ping', listener);
      target.dispatchEvent(new Event('ping'));
      expect(listener).toHaveBeenCalledTimes(1);
      scope.dispose();
      target.dispatchEvent(new Event('ping'));
      expect(listener).toHaveBeenCalledTimes(1);
    });

    it('the returned function removes it early', () => {
      const target = new EventTarget();
      const scope = new DisposerScope();
      const listener = vi.fn();
      const remove = scope.listen(target, 'ping', listener);
      remove();
      target.dispatchEvent(new Event('ping'));
      expect(listener).not.toHaveBeenCalled();
    });

    it('listening on a disposed scope adds and removes at once', () => {
      const target = new EventTarget();
      const scope = new DisposerScope();
      scope.dispose();
      const listener = vi.fn();
      scope.listen(target, 'ping', listener);
      target.dispatchEvent(new Event('ping'));
      expect(listener).not.toHaveBeenCalled();
    });
  });
});
