import { formatCount } from '../format';
import { type Filter, PASS, reject } from '../plugin';
import { vcpuCapacity } from '../snapshot';

/**
 * vCPUs may overcommit logical processors up to the cluster's ratio, but one
 * VM never gets more vCPUs than the host has logical processors (Hyper-V
 * refuses to start it).
 */
export const cpuFilter: Filter = {
  name: 'cpu',
  check(host, ctx) {
    const { request, cluster } = ctx;
    if (request.vcpus > host.logicalProcessors) {
      return reject(
        ctx.explain,
        'VCPUS_EXCEED_LPS',
        () => `VM has ${request.vcpus} vCPUs, host has ${host.logicalProcessors} logical processors`,
        { requestVcpus: request.vcpus, logicalProcessors: host.logicalProcessors },
      );
    }
    const capacityVcpus = vcpuCapacity(host, cluster.cpuOvercommitRatio);
    const freeVcpus = capacityVcpus - host.allocated.vcpus;
    if (request.vcpus > freeVcpus) {
      return reject(
        ctx.explain,
        'CPU_SHORT',
        () =>
          `CPU short by ${formatCount(request.vcpus - freeVcpus)} vCPUs (needs ${request.vcpus}, ${formatCount(Math.max(0, freeVcpus))} of ${formatCount(capacityVcpus)} free at ${cluster.cpuOvercommitRatio}:1)`,
        {
          requestVcpus: request.vcpus,
          allocatedVcpus: host.allocated.vcpus,
          capacityVcpus,
          freeVcpus,
          cpuOvercommitRatio: cluster.cpuOvercommitRatio,
        },
      );
    }
    return PASS;
  },
};
