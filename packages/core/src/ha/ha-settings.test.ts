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
