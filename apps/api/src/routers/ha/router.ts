import { HA_PRIORITIES, haSettingsPatchSchema } from '@fabric/core/ha/ha-settings';
import { actorOf, scopeOf } from '@fabric/core/shared/tenant-scope';
import { oneOf, wholeNumber } from '@fabric/core/shared/text.schema';
import { z } from 'zod';
import { t } from '../../trpc/init';
import { procedureFor, providerAdmin } from '../../trpc/procedures';

const clusterInput = z.object({ clusterId: z.string().uuid('cluster id must be a UUID') });

/** High availability (docs/high-availability.md): thin over core's HaService. */
export const haRouter = t.router({
  /** The cluster's HA settings (defaults filled in) and the fabric's heartbeat interval the rules use. */
  settings: providerAdmin.input(clusterInput).query(({ ctx, input }) => ctx.services.ha.settings(input.clusterId)),
  /** Changes some settings; refused with each rule the result would break (INVALID_HA_SETTINGS). */
  updateSettings: providerAdmin
    .input(clusterInput.extend({ settings: haSettingsPatchSchema }))
    .mutation(({ ctx, input }) => ctx.services.ha.updateSettings(actorOf(ctx.caller), input.clusterId, input.settings)),
  /** Failure events, newest first, each with its timeline and every VM's restart and RTO. */
  events: providerAdmin
    .input(
      z.object({
        clusterId: z.string().uuid('cluster id must be a UUID').nullable().default(null),
        limit: wholeNumber('limit (events at once)', 1, 100).default(20),
      }),
    )
    .query(({ ctx, input }) => ctx.services.ha.events(input.clusterId, input.limit)),
  event: providerAdmin
    .input(z.object({ id: z.string().uuid('event id must be a UUID') }))
    .query(({ ctx, input }) => ctx.services.ha.event(input.id)),
  /**
   * Is this VM waiting for capacity or restarting after its host failed (the VM page's banner)? Null when not.
   * Tenants: their own VMs only (NOT_FOUND otherwise), without host names.
   */
  vmRecovery: procedureFor('provider-admin', 'tenant-admin', 'tenant-user')
    .input(z.object({ vmId: z.string().uuid('VM id must be a UUID') }))
    .query(({ ctx, input }) => ctx.services.ha.vmRecovery(scopeOf(ctx.caller), input.vmId)),
  /** A VM's HA priority: tenants for their own VMs (portal), the provider for any (admin). */
  setVmPriority: procedureFor('provider-admin', 'tenant-admin', 'tenant-user')
    .input(z.object({ vmId: z.string().uuid('VM id must be a UUID'), priority: oneOf('HA priority', HA_PRIORITIES) }))
    .mutation(async ({ ctx, input }) => {
      await ctx.services.ha.setVmPriority(actorOf(ctx.caller), scopeOf(ctx.caller), input.vmId, input.priority);
      return { ok: true };
    }),
});
