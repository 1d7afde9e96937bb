import {
  byIdInput,
  type HostChangeEvent,
  hostDetailSchema,
  hostListSchema,
  listHostsInput,
  setDedicationInput,
  setMaintenanceInput,
} from '@fabric/core/fabric/fabric.schema';
import { HOST_STATES } from '@fabric/core/fabric/host-state';
import { hostBmcInput, hostBmcSchema, setHostBmcInput } from '@fabric/core/ha/bmc.schema';
import {
  hostPowerInput,
  hostPowerResultSchema,
  hostPowerViewSchema,
  simulateHostFailureInput,
} from '@fabric/core/ha/power-drill.schema';
import { actorOf } from '@fabric/core/shared/tenant-scope';
import { z } from 'zod';
import { eventsUntilAborted } from '../../events/events-until-aborted';
import { t } from '../../trpc/init';
import { providerAdmin } from '../../trpc/procedures';

export const hostsRouter = t.router({
  list: providerAdmin
    .input(listHostsInput)
    .output(hostListSchema)
    .query(({ ctx, input }) => ctx.services.fabric.listHosts(input)),
  get: providerAdmin
    .input(byIdInput)
    .output(hostDetailSchema)
    .query(({ ctx, input }) => ctx.services.fabric.getHost(input.id)),
  setMaintenance: providerAdmin
    .input(setMaintenanceInput)
    .output(z.object({ state: z.enum(HOST_STATES) }))
    .mutation(async ({ ctx, input }) => ({
      state: await ctx.services.fabric.setMaintenance(actorOf(ctx.caller), input.id, input.enabled, input.reason),
    })),
  /** Dedicate the host to one tenant (only its VMs land there), or share it again. */
  setDedication: providerAdmin
    .input(setDedicationInput)
    .output(z.object({ ok: z.literal(true) }))
    .mutation(async ({ ctx, input }) => {
      await ctx.services.fabric.setDedication(actorOf(ctx.caller), input.id, input.tenantId);
      return { ok: true as const };
    }),
  /** The host's BMC for HA fencing: URL, username and whether a password is set (never the password). */
  bmc: providerAdmin
    .input(hostBmcInput)
    .output(hostBmcSchema)
    .query(({ ctx, input }) => ctx.services.hostBmcs.view(input.hostId)),
  /** Sets or replaces the host's BMC login (audited; the password sealed at rest, kept when omitted). */
  setBmc: providerAdmin
    .input(setHostBmcInput)
    .output(hostBmcSchema)
    .mutation(({ ctx, input }) => ctx.services.hostBmcs.set(actorOf(ctx.caller), input)),
  removeBmc: providerAdmin
    .input(hostBmcInput)
    .output(z.object({ ok: z.literal(true) }))
    .mutation(async ({ ctx, input }) => {
      await ctx.services.hostBmcs.remove(actorOf(ctx.caller), input.hostId);
      return { ok: true as const };
    }),
  /**
   * Host failure drills (simulated hosts only): the host's power as its BMC reads it and what a power loss
   * would do. Null on a fabric of real hosts, where the console shows no drill.
   */
  power: providerAdmin
    .input(hostPowerInput)
    .output(hostPowerViewSchema)
    .query(({ ctx, input }) => ctx.services.hostPowerDrills.view(input.hostId)),
  /** Cuts a simulated host's power through its BMC (audited); HA then handles it as any host failure. */
  simulateFailure: providerAdmin
    .input(simulateHostFailureInput)
    .output(hostPowerResultSchema)
    .mutation(({ ctx, input }) => ctx.services.hostPowerDrills.simulateFailure(actorOf(ctx.caller), input)),
  /** Gives a simulated host its power back through its BMC (audited), so the drill can run again. */
  powerOn: providerAdmin
    .input(hostPowerInput)
    .output(hostPowerResultSchema)
    .mutation(({ ctx, input }) => ctx.services.hostPowerDrills.powerOn(actorOf(ctx.caller), input.hostId)),
  remove: providerAdmin
    .input(byIdInput)
    .output(z.object({ ok: z.literal(true) }))
    .mutation(async ({ ctx, input }) => {
      await ctx.services.fabric.removeHost(actorOf(ctx.caller), input.id);
      return { ok: true as const };
    }),
  /** Live host changes (heartbeats, state changes, inventory, registration, removal) over SSE. */
  onChange: providerAdmin.subscription(async function* ({ ctx, signal }) {
    for await (const event of eventsUntilAborted<HostChangeEvent>(ctx.services.hostEvents, 'event', signal)) {
      yield event;
    }
  }),
});
