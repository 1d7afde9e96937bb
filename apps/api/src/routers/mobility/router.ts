import {
  cancelMigrationInput,
  evacuateInput,
  leaveMaintenanceInput,
  migrateByPatternInput,
  migrateInput,
  migrationHistoryInput,
  moveStorageInput,
} from '@fabric/core/mobility/mobility.schema';
import { actorOf, scopeOf } from '@fabric/core/shared/tenant-scope';
import { patternPreviewSchema, patternResultSchema } from '@fabric/core/shared/vm-pattern.schema';
import { z } from 'zod';
import { t } from '../../trpc/init';
import { providerAdmin } from '../../trpc/procedures';

const json = z.record(z.string(), z.unknown());

/** Live migration (issue 12): preview ("best" with the engine's explanation, the model's prediction), migrate, cancel, history. */
export const mobilityRouter = t.router({
  preview: providerAdmin
    .input(migrateInput)
    .output(json)
    .query(async ({ ctx, input }) => ({ ...(await ctx.services.migrateVm.preview(scopeOf(ctx.caller), input)) })),
  migrate: providerAdmin
    .input(migrateInput)
    .output(z.object({ taskId: z.string(), plan: json }))
    .mutation(async ({ ctx, input }) => {
      const { taskId, plan } = await ctx.services.migrateVm.request(actorOf(ctx.caller), scopeOf(ctx.caller), input);
      return { taskId, plan: { ...plan } };
    }),
  /** Migrate by pattern (`Move-VM -Name web*`): each matching VM's destination, or why it cannot move; nothing written. */
  previewMigrateByPattern: providerAdmin
    .input(migrateByPatternInput)
    .output(patternPreviewSchema)
    .query(({ ctx, input }) => ctx.services.migrateByPattern.preview(scopeOf(ctx.caller), input)),
  /** Requests each matching VM's migration (queued under the caps); per VM started or refused. No match is NOT_FOUND. */
  migrateByPattern: providerAdmin
    .input(migrateByPatternInput)
    .output(patternResultSchema)
    .mutation(({ ctx, input }) =>
      ctx.services.migrateByPattern.migrate(actorOf(ctx.caller), scopeOf(ctx.caller), input),
    ),
  cancel: providerAdmin
    .input(cancelMigrationInput)
    .output(z.object({ ok: z.literal(true) }))
    .mutation(async ({ ctx, input }) => {
      await ctx.services.migrateVm.cancel(scopeOf(ctx.caller), input.taskId);
      return { ok: true as const };
    }),
  /** Maintenance that evacuates: the plan (where each VM goes, which cannot move and why); nothing written. */
  evacuationPlan: providerAdmin
    .input(evacuateInput)
    .output(json)
    .query(async ({ ctx, input }) => ({ ...(await ctx.services.evacuateHost.preview(input.hostId)) })),
  /** The host into maintenance, then every VM migrated per the plan (queued under the caps). */
  evacuate: providerAdmin
    .input(evacuateInput)
    .output(json)
    .mutation(async ({ ctx, input }) => ({
      ...(await ctx.services.evacuateHost.evacuate(actorOf(ctx.caller), scopeOf(ctx.caller), input.hostId)),
    })),
  /** Leaving maintenance: the VMs its evacuation moved off that would come back, and those that cannot, with why. */
  bringBackPlan: providerAdmin
    .input(evacuateInput)
    .output(json)
    .query(async ({ ctx, input }) => ({ ...(await ctx.services.bringBackVms.preview(input.hostId)) })),
  /** The host out of maintenance; with bringBack, one task migrates those VMs back (running live, off cold). */
  leaveMaintenance: providerAdmin
    .input(leaveMaintenanceInput)
    .output(z.object({ state: z.string(), taskId: z.string().nullable(), plan: json }))
    .mutation(async ({ ctx, input }) => {
      const { state, taskId, plan } = await ctx.services.bringBackVms.leave(
        actorOf(ctx.caller),
        input.hostId,
        input.bringBack,
      );
      return { state, taskId, plan: { ...plan } };
    }),
  /** Live storage migration: what would move to which pool and the room there; nothing written. */
  storagePreview: providerAdmin
    .input(moveStorageInput)
    .output(json)
    .query(async ({ ctx, input }) => ({ ...(await ctx.services.moveVmStorage.preview(scopeOf(ctx.caller), input)) })),
  /** Live storage migration: the VM's disks to another pool of its host while it runs (a task with phases). */
  moveStorage: providerAdmin
    .input(moveStorageInput)
    .output(z.object({ taskId: z.string(), plan: json }))
    .mutation(async ({ ctx, input }) => {
      const { taskId, plan } = await ctx.services.moveVmStorage.request(
        actorOf(ctx.caller),
        scopeOf(ctx.caller),
        input,
      );
      return { taskId, plan: { ...plan } };
    }),
  history: providerAdmin
    .input(migrationHistoryInput)
    .output(z.array(json))
    .query(async ({ ctx, input }) =>
      (await ctx.services.mobilityStore.history(scopeOf(ctx.caller), input.limit)).map((row) => ({ ...row })),
    ),
});
