import { describe, expect, it } from 'vitest';
import type { CoreError } from '../shared/errors';
import type { Actor, TenantScope } from '../shared/tenant-scope';
import { MigrateByPattern } from './migrate-by-pattern';
import type { MigrateRequest, MigrationPlan } from './migrate-vm';
import { MobilityError } from './mobility.errors';
import { migrateByPatternInput } from './mobility.schema';

const provider: TenantScope = { kind: 'provider' };
const actor: Actor = { type: 'user', id: 'a', label: 'admin@fabric.local' };
const BLUE = '10000000-0000-4000-8000-000000000001';
const VMS = [
  { id: 'vm-1', name: 'web-01', tenantId: BLUE },
  { id: 'vm-2', name: 'web-02', tenantId: BLUE },
  { id: 'vm-3', name: 'web-03', tenantId: 'yellow' },
];

/** A fake single migration: web-02 is migrating already; the others go live to hv-02. */
function world(limit?: number) {
  const requested: MigrateRequest[] = [];
  const decide = (request: MigrateRequest): MigrationPlan => {
    if (request.vmId === 'vm-2') throw new MobilityError('MIGRATION_ALREADY_ACTIVE', 'web-02 is already migrating');
    return {
      vmId: request.vmId,
      vmName: request.vmId,
      fromHostId: 'h1',
      toHostId: 'h2',
      toHostName: 'hv-02',
      toClusterId: 'c1',
      live: true,
      explanation: 'Placed on hv-02 (score 90.0 of 100; 3 of 4 hosts fit)',
      predicted: { totalSeconds: 12.4 } as MigrationPlan['predicted'],
      linkMbps: 10_000,
      concurrent: 1,
    };
  };
  const byPattern = new MigrateByPattern({
    migrate: {
      preview: async (_scope, request) => decide(request),
      request: async (_actor, _scope, request) => {
        const plan = decide(request);
        requested.push(request);
        return { taskId: `task-${request.vmId}`, plan };
      },
    },
    findVms: async (scope, re) =>
      VMS.filter((vm) => (scope.kind === 'provider' || scope.tenantId === vm.tenantId) && re.test(vm.name)),
    ...(limit ? { limit } : {}),
  });
  return { byPattern, requested };
}

const input = (pattern: string, over: Record<string, unknown> = {}) =>
  migrateByPatternInput.parse({ pattern, to: 'best', ...over });

describe('migrate by pattern', () => {
  it("previews each VM's destination or the single migration's refusal, then requests exactly the previewed ones", async () => {
    const w = world();
    const preview = await w.byPattern.preview(provider, input('WEB-0*', { tenantId: BLUE }));
    expect(preview.items).toEqual([
      {
        vmId: 'vm-1',
        name: 'web-01',
        ok: true,
        reason: null,
        detail: 'Live to hv-02 (about 12 s): Placed on hv-02 (score 90.0 of 100; 3 of 4 hosts fit)',
      },
      { vmId: 'vm-2', name: 'web-02', ok: false, reason: 'web-02 is already migrating', detail: null },
    ]);
    expect(w.requested).toEqual([]);
    const result = await w.byPattern.migrate(actor, provider, input('WEB-0*', { tenantId: BLUE }));
    expect(result.items.map((i) => [i.name, i.ok, i.taskId])).toEqual([
      ['web-01', true, 'task-vm-1'],
      ['web-02', false, null],
    ]);
    expect(w.requested).toEqual([{ vmId: 'vm-1', to: 'best', toClusterId: undefined }]);
  });

  it('refuses acting on no match and more matches than the cap, naming it', async () => {
    const w = world(2);
    expect((await w.byPattern.preview(provider, input('db*'))).items).toEqual([]);
    const none = await w.byPattern.migrate(actor, provider, input('db*')).catch((e: unknown) => e);
    expect((none as CoreError).code).toBe('PATTERN_NO_MATCH');
    const many = await w.byPattern.preview(provider, input('web*')).catch((e: unknown) => e);
    expect((many as CoreError).code).toBe('PATTERN_TOO_MANY');
    expect((many as CoreError).message).toMatch(/at most 2/);
    expect(w.requested).toEqual([]);
  });

  it('refuses a host id that is not a uuid and a pattern over 64 characters, naming the limit', () => {
    expect(migrateByPatternInput.safeParse({ pattern: 'web*', to: 'hv-02' }).error?.issues[0]?.message).toMatch(
      /host id \(uuid\) or 'best'/,
    );
    expect(migrateByPatternInput.safeParse({ pattern: 'w'.repeat(65), to: 'best' }).error?.issues[0]?.message).toMatch(
      /at most 64 characters/,
    );
  });
});
