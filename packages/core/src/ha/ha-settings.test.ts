import { expect, it } from 'vitest';
import { haSettingsPatchSchema, haSettingsSchema, haSettingsViolations } from './ha-settings';

it('a patch carries only what it names', () => {
  expect(haSettingsPatchSchema.parse({ fenceMethod: 'self-confirm' })).toEqual({ fenceMethod: 'self-confirm' });
});
it('defaults keep the rules', () => {
  expect(haSettingsViolations(haSettingsSchema.parse({}), 10_000)).toEqual([]);
});
it('a fencing timeout shorter than isolation + a heartbeat breaks its rule', () => {
  const v = haSettingsViolations(haSettingsSchema.parse({ fencingTimeoutMs: 25_000 }), 10_000);
  expect(v.map((x) => x.rule)).toEqual(['fencing-after-isolation']);
});
it('keep-running cannot be fenced by a lease', () => {
  const v = haSettingsViolations(haSettingsSchema.parse({ isolationResponse: 'keep-running' }), 10_000);
  expect(v.map((x) => x.rule)).toContain('fencing-needs-isolation-response');
});

// The console's fields take seconds, so limits and rules are said in seconds (they said "at most 600000 ms").
it('a timeout past its limit is refused in seconds', () => {
  const refused = haSettingsPatchSchema.safeParse({ detectionTimeoutMs: 700_000, fencingTimeoutMs: 500 });
  expect(refused.error?.issues.map((i) => i.message)).toEqual([
    'detection timeout must be at most 600 s',
    'fencing timeout must be at least 1 s',
  ]);
});
it('the rules between timeouts are said in seconds', () => {
  const v = haSettingsViolations(
    haSettingsSchema.parse({ detectionTimeoutMs: 15_000, isolationTimeoutMs: 20_000, fencingTimeoutMs: 12_500 }),
    10_000,
  );
  expect(v.map((x) => x.message).join('\n')).not.toMatch(/\bms\b/);
  expect(v.find((x) => x.rule === 'fencing-after-isolation')?.message).toContain(
    'The fencing timeout (12.5 s) must be at least the isolation timeout plus a heartbeat interval (20 s + 10 s = 30 s)',
  );
  expect(v.find((x) => x.rule === 'detection-after-two-heartbeats')?.message).toContain(
    'The detection timeout (15 s) must be at least two heartbeat intervals (20 s)',
  );
});
