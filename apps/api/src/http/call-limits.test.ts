import { describe, expect, it } from 'vitest';
import { CallLimits } from './call-limits';

const limits = (nowMs: () => number) =>
  new CallLimits(
    {
      user: { burst: 20, refillPerSecond: 2, inFlight: 2, streams: 1 },
      tenant: { burst: 30, refillPerSecond: 5, inFlight: 3, streams: 2 },
    },
    nowMs,
  );

describe('CallLimits', () => {
  it('lets a burst through, then refuses with the seconds until the bucket holds the cost again', () => {
    let now = 0;
    const l = limits(() => now);
    const alice = { user: 'alice', tenant: 'blue' };
    const first = l.admitRequest(alice, 15);
    expect(first.ok).toBe(true);
    if (first.ok) first.release();
    const refused = l.admitRequest(alice, 10);
    expect(refused).toMatchObject({ ok: false, retryAfterSeconds: 3 });
    if (!refused.ok) expect(refused.message).toContain('this user');
    now = 3_000;
    expect(l.admitRequest(alice, 10).ok).toBe(true);
  });

  it('limits the tenant as a whole across its users, and nobody else', () => {
    const l = limits(() => 0);
    for (const user of ['a', 'b']) {
      const r = l.admitRequest({ user, tenant: 'blue' }, 15);
      if (r.ok) r.release();
    }
    const refused = l.admitRequest({ user: 'c', tenant: 'blue' }, 1);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.message).toContain('this tenant');
    expect(l.admitRequest({ user: 'yara', tenant: 'yellow' }, 15).ok).toBe(true);
  });

  it('counts requests in flight and open streams until released, and a refusal costs nothing', () => {
    const l = limits(() => 0);
    const bob = { user: 'bob', tenant: 'blue' };
    const a = l.admitRequest(bob, 1);
    const b = l.admitRequest(bob, 1);
    const c = l.admitRequest(bob, 1);
    expect([a.ok, b.ok, c.ok]).toEqual([true, true, false]);
    if (!c.ok) expect(c.message).toMatch(/requests in flight for this user \(at most 2\)/);
    if (a.ok) a.release();
    expect(l.admitRequest(bob, 1).ok).toBe(true);
    const s1 = l.admitStream(bob);
    expect(s1.ok).toBe(true);
    expect(l.admitStream(bob)).toMatchObject({ ok: false, retryAfterSeconds: 1 });
    if (s1.ok) s1.release();
    expect(l.admitStream(bob).ok).toBe(true);
  });

  it('charges a request dearer than the bucket the whole bucket, so it can pass when full', () => {
    const l = limits(() => 0);
    expect(l.admitRequest({ user: 'x', tenant: 't' }, 500).ok).toBe(true);
    expect(l.admitRequest({ user: 'x', tenant: 't' }, 1).ok).toBe(false);
  });
});
