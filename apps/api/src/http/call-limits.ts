/**
 * Per-user and per-tenant limits on console and automation calls, so that one
 * tenant's load cannot slow the others (issue 9, class 2):
 *  - a token bucket of call cost each (a cheap call costs 1, an expensive one
 *    more; see procedure-costs.ts): bursts up to `burst`, then
 *    `refillPerSecond` on average;
 *  - requests in flight each (a request holds its slot until answered);
 *  - open streams (SSE subscriptions) each, which hold a connection for hours.
 * A refusal says which limit and when to retry (the caller answers 429 with
 * Retry-After). In memory per API process: with N processes behind a load
 * balancer a tenant gets at most N times these, which still bounds it.
 */
export interface LimitsOf {
  burst: number;
  refillPerSecond: number;
  inFlight: number;
  streams: number;
}

export interface CallLimitsConfig {
  user: LimitsOf;
  tenant: LimitsOf;
}

export interface CallKeys {
  user: string;
  tenant: string;
}

export type Admission = { ok: true; release: () => void } | { ok: false; retryAfterSeconds: number; message: string };

interface Bucket {
  tokens: number;
  atMs: number;
}

/** Buckets idle long enough to be full again are forgotten past this many keys (memory stays bounded). */
const PRUNE_ABOVE_KEYS = 10_000;

export class CallLimits {
  private readonly buckets = new Map<string, Bucket>();
  private readonly inFlight = new Map<string, number>();
  private readonly streams = new Map<string, number>();

  constructor(
    private readonly config: CallLimitsConfig,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** A request of `cost` (Σ of its calls' costs): both buckets pay, and it holds one in-flight slot of each. */
  admitRequest(keys: CallKeys, cost: number): Admission {
    const held = this.hold(this.inFlight, keys, 'inFlight', 'requests in flight');
    if (!held.ok) return held;
    const paid = this.pay(keys, cost);
    if (!paid.ok) held.release();
    return paid.ok ? held : paid;
  }

  /** An open stream holds one stream slot of each until closed; opening one costs 1. */
  admitStream(keys: CallKeys): Admission {
    const held = this.hold(this.streams, keys, 'streams', 'open live-update streams');
    if (!held.ok) return held;
    const paid = this.pay(keys, 1);
    if (!paid.ok) held.release();
    return paid.ok ? held : paid;
  }

  private hold(counts: Map<string, number>, keys: CallKeys, limit: 'inFlight' | 'streams', what: string): Admission {
    const userKey = `user:${keys.user}`;
    const tenantKey = `tenant:${keys.tenant}`;
    const user = counts.get(userKey) ?? 0;
    const tenant = counts.get(tenantKey) ?? 0;
    if (user >= this.config.user[limit]) {
      return {
        ok: false,
        retryAfterSeconds: 1,
        message: `Too many ${what} for this user (at most ${this.config.user[limit]}): wait for one to finish.`,
      };
    }
    if (tenant >= this.config.tenant[limit]) {
      return {
        ok: false,
        retryAfterSeconds: 1,
        message: `Too many ${what} for this tenant (at most ${this.config.tenant[limit]}): wait for one to finish.`,
      };
    }
    counts.set(userKey, user + 1);
    counts.set(tenantKey, tenant + 1);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        decrement(counts, userKey);
        decrement(counts, tenantKey);
      },
    };
  }

  /** Takes `cost` from the user's and the tenant's buckets, or neither. */
  private pay(keys: CallKeys, cost: number): { ok: true } | { ok: false; retryAfterSeconds: number; message: string } {
    const now = this.nowMs();
    const user = this.bucket(`user:${keys.user}`, this.config.user, now);
    const tenant = this.bucket(`tenant:${keys.tenant}`, this.config.tenant, now);
    // A request dearer than a whole bucket would never pass: it pays the whole bucket instead.
    const userCost = Math.min(cost, this.config.user.burst);
    const tenantCost = Math.min(cost, this.config.tenant.burst);
    const waitS = (tokens: number, need: number, rate: number) => Math.max(1, Math.ceil((need - tokens) / rate));
    if (user.tokens < userCost) {
      const after = waitS(user.tokens, userCost, this.config.user.refillPerSecond);
      return {
        ok: false,
        retryAfterSeconds: after,
        message: `Too many requests from this user (at most ${this.config.user.refillPerSecond} units of work a second, bursts of ${this.config.user.burst}): retry in ${after} s.`,
      };
    }
    if (tenant.tokens < tenantCost) {
      const after = waitS(tenant.tokens, tenantCost, this.config.tenant.refillPerSecond);
      return {
        ok: false,
        retryAfterSeconds: after,
        message: `Too many requests from this tenant (at most ${this.config.tenant.refillPerSecond} units of work a second, bursts of ${this.config.tenant.burst}): retry in ${after} s.`,
      };
    }
    user.tokens -= userCost;
    tenant.tokens -= tenantCost;
    return { ok: true };
  }

  private bucket(key: string, limits: LimitsOf, now: number): Bucket {
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= PRUNE_ABOVE_KEYS) this.prune(now);
      bucket = { tokens: limits.burst, atMs: now };
      this.buckets.set(key, bucket);
    }
    const elapsedS = Math.max(0, now - bucket.atMs) / 1000;
    bucket.tokens = Math.min(limits.burst, bucket.tokens + elapsedS * limits.refillPerSecond);
    bucket.atMs = now;
    return bucket;
  }

  private prune(now: number) {
    for (const [key, bucket] of this.buckets) {
      const limits = key.startsWith('user:') ? this.config.user : this.config.tenant;
      if (bucket.tokens + ((now - bucket.atMs) / 1000) * limits.refillPerSecond >= limits.burst)
        this.buckets.delete(key);
    }
  }
}

function decrement(counts: Map<string, number>, key: string) {
  const left = (counts.get(key) ?? 1) - 1;
  if (left > 0) counts.set(key, left);
  else counts.delete(key);
}
