import {
  addressClassSchema,
  defineAddressClassInput,
  removeAddressClassInput,
} from '@fabric/core/metering/address-class.schema';
import { measureVmInput, vmMeasurementSchema } from '@fabric/core/metering/metering.schema';
import { actorOf, scopeOf } from '@fabric/core/shared/tenant-scope';
import { z } from 'zod';
import { t } from '../../trpc/init';
import { procedureFor } from '../../trpc/procedures';
import { measure } from './measure';
import { usageSeries } from './usage-series';

/** Tenants measure their own VMs; provider admins and finance anyone's. */
const measurer = procedureFor('provider-admin', 'finance', 'tenant-admin', 'tenant-user');

export const meteringRouter = t.router({
  /** Measure-VM: the whitepaper's metrics for a VM over a period (default: since the last reset). */
  measureVm: measurer
    .input(measureVmInput)
    .output(vmMeasurementSchema)
    .query(({ ctx, input }) => ctx.services.metering.measureVm(scopeOf(ctx.caller), input)),
  /** Reset-VMResourceMetering: starts a new window; history is kept. */
  resetVm: procedureFor('provider-admin', 'tenant-admin')
    .input(z.object({ id: z.string().uuid() }))
    .output(z.object({ since: z.date() }))
    .mutation(async ({ ctx, input }) => ({
      since: await ctx.services.metering.resetMetering(actorOf(ctx.caller), scopeOf(ctx.caller), input.id),
    })),
  usageSeries,
  /** A tenant's or a resource pool's (cluster's) VMs measured together over a period. */
  measure,
  /** Metered address classes (metered port ACLs) beyond internet and datacenter. */
  addressClasses: procedureFor('provider-admin', 'finance')
    .output(z.array(addressClassSchema))
    .query(({ ctx }) => ctx.services.addressClasses.list()),
  defineAddressClass: procedureFor('provider-admin')
    .input(defineAddressClassInput)
    .output(addressClassSchema)
    .mutation(({ ctx, input }) => ctx.services.addressClasses.define(actorOf(ctx.caller), input)),
  /** Only a class without usage: one with usage is refused (CONFLICT) and kept. */
  removeAddressClass: procedureFor('provider-admin')
    .input(removeAddressClassInput)
    .output(z.object({ removed: z.string() }))
    .mutation(async ({ ctx, input }) => {
      await ctx.services.addressClasses.remove(actorOf(ctx.caller), input.name);
      return { removed: input.name };
    }),
});
