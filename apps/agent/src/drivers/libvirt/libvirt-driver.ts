import { DriverError } from '../driver';

/**
 * Placeholder for the libvirt driver. Not implemented yet: it will read the
 * host through libvirt (virConnectGetInfo / virNodeGetInfo for CPU and memory,
 * virConnectListAllInterfaces for NICs, virConnectListAllStoragePools for
 * pools, virNodeGetCPUStats / virNodeGetMemoryStats for usage), which needs a
 * binding to libvirt that Node does not ship. Until then selecting it fails at
 * start with a clear message rather than reporting a made-up host.
 */
export function createLibvirtDriver(): never {
  throw new DriverError('the libvirt driver is not implemented yet; use --driver simulated with a --profile');
}
