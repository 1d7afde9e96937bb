import type { NicBandwidthSample } from '@fabric/core/metering/sample-protocol.schema';
import { effectiveQos, type PortQos, type QosFlow, shareHost } from '@fabric/core/network/network-protocol.schema';
import type { HostVm } from '../driver';
import type { SimulatedProfile } from './profile';
import { offeredMbpsPerNic, type SampleVmInput } from './vm-load';

/** A vNIC's QoS as the host's applied policy has it, by `<vmId>/<MAC>`: the port items' `qos` (network-agent.ts). */
export type PortQosLookup = () => ReadonlyMap<string, PortQos>;

/** The key a port's QoS is found by: its VM and its MAC, written the one way (upper case, colons). */
export function portKey(vmId: string, mac: string): string {
  return `${vmId}/${mac.toUpperCase().replaceAll('-', ':')}`;
}

/**
 * The host's virtual switch under load, one interval: every running VM's
 * vNICs offer their guest's traffic; each vNIC is pinned to a host NIC that
 * is up and each host NIC is shared by weighted max-min fairness (qos.ts) with
 * the QoS Fabric compiled for the port (the applied policy), or, for a NIC on
 * no VM network, the VM's own settings. Returns what each VM's vNICs got.
 */
export function switchInterval(
  profile: SimulatedProfile,
  vms: readonly HostVm[],
  base: Omit<SampleVmInput, 'vm'>,
  portQos: ReadonlyMap<string, PortQos>,
): Map<string, NicBandwidthSample[]> {
  const flows: (QosFlow & { vmId: string; nic: string })[] = [];
  for (const vm of vms) {
    if (vm.state !== 'running') continue; // off, saved and paused VMs move nothing
    const perNic = offeredMbpsPerNic({ ...base, vm, offeredMbps: profile.simulation.offeredMbps[vm.name] });
    for (const nic of vm.spec.nics) {
      const qos = portQos.get(portKey(vm.vmId, nic.macAddress)) ?? effectiveQos(nic, {}) ?? {};
      flows.push({ nicId: `${vm.vmId}/${nic.name}`, vmId: vm.vmId, nic: nic.name, offeredMbps: perNic, ...qos });
    }
  }
  const uplinks = profile.nics.filter((n) => n.linkUp).map((n) => ({ name: n.name, linkSpeedMbps: n.linkSpeedMbps }));
  const shares = new Map(shareHost(uplinks, flows).map((s) => [s.nicId, s]));
  const out = new Map<string, NicBandwidthSample[]>();
  for (const f of flows) {
    const s = shares.get(f.nicId);
    if (!s) continue;
    const list = out.get(f.vmId) ?? [];
    list.push({ nic: f.nic, offeredMbps: f.offeredMbps, achievedMbps: s.achievedMbps, limitedBy: s.limitedBy });
    out.set(f.vmId, list);
  }
  return out;
}
