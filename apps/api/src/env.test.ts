import { describe, expect, it } from 'vitest';
import { monitorTickSeconds, parseEnv } from './env';

const base = { DATABASE_URL: 'postgresql://u:p@127.0.0.1:5432/fabric', BETTER_AUTH_SECRET: 'x'.repeat(40) };

describe('configuration', () => {
  it('defaults: a 10 s heartbeat, the monitor every 5 s, a stable executor id from the port', () => {
    const config = parseEnv(base);
    expect(config.monitorIntervalMs).toBe(5000);
    expect(monitorTickSeconds(config.monitorIntervalMs)).toBe(5);
    expect(config.workflows.executorId).toMatch(/^api-.+-4000$/);
    expect(config.workflows).toMatchObject({ executorLeaseMs: 30_000, closeWaitMs: 15_000, closeTenantsPerStep: 25 });
  });

  it.each([
    // The monitor ticks on whole seconds: it must fit inside the window between suspect and failed.
    [{ FABRIC_HEARTBEAT_INTERVAL_MS: '300' }, /monitor ticks every 1 s .* 900 ms between suspect and failed/],
    [{ FABRIC_MONITOR_INTERVAL_MS: '31000' }, /monitor ticks every 31 s .* 30000 ms/],
    [{ FABRIC_EXECUTOR_ID: 'has spaces' }, /FABRIC_EXECUTOR_ID: letters, digits/],
    [{ FABRIC_CLOSE_TENANTS_PER_STEP: '0' }, /FABRIC_CLOSE_TENANTS_PER_STEP/],
  ])('refuses %o, saying which setting and why', (env, message) => {
    expect(() => parseEnv({ ...base, ...env })).toThrow(message);
  });

  it('a 1 s heartbeat (the browser tests) leaves a 3 s window: accepted', () => {
    expect(parseEnv({ ...base, FABRIC_HEARTBEAT_INTERVAL_MS: '1000' }).monitorIntervalMs).toBe(500);
  });
});
