import { describe, expect, it } from 'vitest';
import { FakeSocket } from '../helpers/fake-socket.js';
import { settle } from './fake-tabs.js';
import { tabs, useTabs } from './handles.js';

// Issue 19, items 1 to 5: the shared-tabs hand-over (data loss after the back-forward cache, a departed leader's
// late announcement adopted, a send carried out by an earlier leadership), errors that vanish with no `error`
// listener, and a token in the error of an unparseable URL. Each test failed on the code before its fix.

const open = useTabs({ connectTimeoutMs: 1000 });

describe('issue 19.1: a tab that leads again after the back-forward cache', () => {
  it('delivers the messages of its new connection, however many the earlier one relayed', async () => {
    const tab = tabs.open();
    const handle = open(tab);
    const got: unknown[] = [];
    handle.on('message', ({ data }) => got.push(data));
    await settle();
    FakeSocket.latest().serverOpen();
    for (const n of [1, 2, 3, 4, 5]) FakeSocket.latest().serverMessage(`before-${n}`);
    await settle();
    tab.pagehide(true);
    tab.pageshow();
    await settle();
    expect(FakeSocket.instances).toHaveLength(2);
    expect(handle.isLeader).toBe(true);
    FakeSocket.latest().serverOpen();
    for (const n of [1, 2, 3, 4, 5, 6]) FakeSocket.latest().serverMessage(`after-${n}`);
    await settle();
    expect(handle.state).toBe('open');
    expect(got).toEqual([1, 2, 3, 4, 5].map((n) => `before-${n}`).concat([1, 2, 3, 4, 5, 6].map((n) => `after-${n}`)));
  });

  it('and so do the other tabs following it', async () => {
    const [a, b] = [tabs.open(), tabs.open()];
    const leader = open(a);
    await settle();
    const follower = open(b);
    const got: unknown[] = [];
    follower.on('message', ({ data }) => got.push(data));
    await settle();
    FakeSocket.latest().serverOpen();
    for (const n of [1, 2, 3]) FakeSocket.latest().serverMessage(`first-${n}`);
    await settle();
    // a leaves and comes back; b leads in between and leaves too, so that a leads again.
    a.pagehide(true);
    a.pageshow();
    await settle();
    expect(follower.isLeader).toBe(true);
    b.pagehide(true);
    b.pageshow();
    await settle();
    expect(leader.isLeader).toBe(true);
    FakeSocket.latest().serverOpen();
    for (const n of [1, 2, 3]) FakeSocket.latest().serverMessage(`again-${n}`);
    await settle();
    expect(got).toEqual(['first-1', 'first-2', 'first-3', 'again-1', 'again-2', 'again-3']);
  });
});
