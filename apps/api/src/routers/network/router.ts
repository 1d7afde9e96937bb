import {
  addPaPoolInput,
  attachNicInput,
  attachNicResultSchema,
  createExtensionInput,
  createLogicalNetworkInput,
  createSubnetInput,
  createVmNetworkInput,
  detachNicInput,
  detachNicResultSchema,
  extensionSchema,
  hostPolicyStatusSchema,
  idInput,
  isolationStatusSchema,
  logicalNetworkSchema,
  logicalNetworksSchema,
  macPoolSchema,
  paPoolSchema,
  portPolicySchema,
  setMacPoolInput,
  setPortPolicyInput,
  subnetSchema,
  tenantTraceResultSchema,
  topologySchema,
  traceInput,
  traceResultSchema,
  updateSubnetInput,
  updateVmNetworkInput,
  vmNetworkSchema,
  vmPortsInput,
  vmPortsSchema,
} from '@fabric/core/network/network.schema';
import { actorOf, scopeOf } from '@fabric/core/shared/tenant-scope';
import { z } from 'zod';
import { t } from '../../trpc/init';
import { procedureFor, providerAdmin, tenantAdmin } from '../../trpc/procedures';

/** Tenants read their networks; provider admins and tenant members see topology. */
const networkReader = procedureFor('provider-admin', 'tenant-admin', 'tenant-user');
const tenantMember = procedureFor('tenant-admin', 'tenant-user');

/** Tenant networks (issue 13): VM networks, subnets, addresses and port policies; the provider's logical networks, PA pools, policy status, isolation proof, trace and extensions. */
export const networkRouter = t.router({
  vmNetworks: networkReader
    .output(z.array(vmNetworkSchema))
    .query(({ ctx }) => ctx.services.network.listVmNetworks(scopeOf(ctx.caller))),
  topology: networkReader.output(topologySchema).query(({ ctx }) => ctx.services.network.topology(scopeOf(ctx.caller))),
  createVmNetwork: tenantAdmin
    .input(createVmNetworkInput)
    .output(vmNetworkSchema)
    .mutation(({ ctx, input }) =>
      ctx.services.network.createVmNetwork(actorOf(ctx.caller), scopeOf(ctx.caller), input),
    ),
  createSubnet: tenantAdmin
    .input(createSubnetInput)
    .output(subnetSchema)
    .mutation(({ ctx, input }) => ctx.services.network.createSubnet(actorOf(ctx.caller), scopeOf(ctx.caller), input)),
  updateVmNetwork: tenantAdmin
    .input(updateVmNetworkInput)
    .output(vmNetworkSchema)
    .mutation(({ ctx, input }) =>
      ctx.services.network.updateVmNetwork(actorOf(ctx.caller), scopeOf(ctx.caller), input),
    ),
  deleteVmNetwork: tenantAdmin
    .input(idInput)
    .output(idInput)
    .mutation(({ ctx, input }) =>
      ctx.services.network.deleteVmNetwork(actorOf(ctx.caller), scopeOf(ctx.caller), input.id),
    ),
  updateSubnet: tenantAdmin
    .input(updateSubnetInput)
    .output(subnetSchema)
    .mutation(({ ctx, input }) => ctx.services.network.updateSubnet(actorOf(ctx.caller), scopeOf(ctx.caller), input)),
  deleteSubnet: tenantAdmin
    .input(idInput)
    .output(idInput)
    .mutation(({ ctx, input }) =>
      ctx.services.network.deleteSubnet(actorOf(ctx.caller), scopeOf(ctx.caller), input.id),
    ),
  /** A VM's NICs with their address and port policy (ACLs, guards, mirroring, QoS). */
  vmPorts: networkReader
    .input(vmPortsInput)
    .output(vmPortsSchema)
    .query(({ ctx, input }) => ctx.services.network.vmPorts(scopeOf(ctx.caller), input.vmId)),
  /** A tenant traces from its own VM and sees the verdicts on its own ports. */
  tenantTrace: tenantMember
    .input(traceInput)
    .output(tenantTraceResultSchema)
    .mutation(({ ctx, input }) => ctx.services.network.tenantTrace(scopeOf(ctx.caller), input)),
  detachNic: tenantAdmin
    .input(detachNicInput)
    .output(detachNicResultSchema)
    .mutation(({ ctx, input }) => ctx.services.network.detachNic(actorOf(ctx.caller), scopeOf(ctx.caller), input)),
  attachNic: tenantAdmin
    .input(attachNicInput)
    .output(attachNicResultSchema)
    .mutation(({ ctx, input }) => ctx.services.network.attachNic(actorOf(ctx.caller), scopeOf(ctx.caller), input)),
  setPortPolicy: tenantAdmin
    .input(setPortPolicyInput)
    .output(portPolicySchema)
    .mutation(({ ctx, input }) => ctx.services.network.setPortPolicy(actorOf(ctx.caller), scopeOf(ctx.caller), input)),

  macPool: providerAdmin.output(macPoolSchema).query(({ ctx }) => ctx.services.network.macPool()),
  setMacPool: providerAdmin
    .input(setMacPoolInput)
    .output(macPoolSchema)
    .mutation(({ ctx, input }) => ctx.services.network.setMacPool(actorOf(ctx.caller), input)),
  logicalNetworks: providerAdmin
    .output(logicalNetworksSchema)
    .query(({ ctx }) => ctx.services.network.logicalNetworks()),
  createLogicalNetwork: providerAdmin
    .input(createLogicalNetworkInput)
    .output(logicalNetworkSchema)
    .mutation(({ ctx, input }) => ctx.services.network.createLogicalNetwork(actorOf(ctx.caller), input.name)),
  addPaPool: providerAdmin
    .input(addPaPoolInput)
    .output(paPoolSchema)
    .mutation(({ ctx, input }) => ctx.services.network.addPaPool(actorOf(ctx.caller), input)),
  hostPolicies: providerAdmin
    .output(hostPolicyStatusSchema)
    .query(({ ctx }) => ctx.services.network.hostPolicyStatus()),
  isolation: providerAdmin.output(isolationStatusSchema).query(({ ctx }) => ctx.services.network.isolationStatus()),
  trace: providerAdmin
    .input(traceInput)
    .output(traceResultSchema)
    .mutation(({ ctx, input }) => ctx.services.network.trace(input)),
  extensions: providerAdmin.output(z.array(extensionSchema)).query(({ ctx }) => ctx.services.network.listExtensions()),
  registerExtension: providerAdmin
    .input(createExtensionInput)
    .output(extensionSchema)
    .mutation(({ ctx, input }) => ctx.services.network.createExtension(actorOf(ctx.caller), input)),
});
