import type { VmSample } from '@fabric/core/metering/sample-protocol.schema';
import { evaluateAcls, type PortItem } from '@fabric/core/network/network-protocol.schema';
import { portKey } from './simulated-switch';

/** A port's meter ACLs as its host applied them, and the remote addresses its VM talks to in its VM network. */
export interface PortMeters {
  acls: PortItem['policy']['acls'];
  /** The other customer addresses of the port's routing domain (its lookup records); none: its gateway. */
  peers: readonly string[];
}

/** Ports with meter ACLs, by `<vmId>/<MAC>` (network-agent.ts reads them from the applied policy). */
export type PortMetersLookup = () => ReadonlyMap<string, PortMeters>;

/** Where the simulation's internet traffic goes: a public address (TEST-NET-3), matched only by a meter on it. */
export const INTERNET_REMOTE = '203.0.113.1';

type Fractions = { datacenter: number; internet: number };

/**
 * Metering port ACLs (issue 13: "metering ACLs feed the existing metered
 * address classes"), counted by the host's switch. A VM's traffic is spread
 * evenly over its vNICs; a port's datacenter traffic goes evenly to its VM
 * network's other addresses, its internet traffic to a public address. For
 * each metered class the API defined, the bytes are those of the flows a
 * meter ACL of that class matches, per direction, on every port of the VM
 * that meters it: so a class a port meters shows exactly what the switch
 * counted (all of the VM's datacenter bytes for a meter on its own subnet,
 * none for a prefix it never talks to) instead of the simulated share a
 * class gets on ports that do not meter it. A flow is counted once per
 * class, and each figure is at most the sample's traffic in its direction.
 */
export function meterPortAcls(
  sample: VmSample,
  nics: readonly { macAddress: string }[],
  meters: ReadonlyMap<string, PortMeters>,
): VmSample {
  if (!sample.networkAcls?.length || nics.length === 0) return sample;
  const classes = new Set(sample.networkAcls.map((a) => a.acl));
  const share = 1 / nics.length;
  const counted = new Map<string, { inbound: Fractions; outbound: Fractions }>();
  for (const nic of nics) {
    const port = meters.get(portKey(sample.vmId, nic.macAddress));
    if (!port) continue;
    for (const acl of port.acls)
      if (
        acl.action === 'meter' &&
        acl.meterClass !== undefined &&
        classes.has(acl.meterClass) &&
        !counted.has(acl.meterClass)
      )
        counted.set(acl.meterClass, {
          inbound: { datacenter: 0, internet: 0 },
          outbound: { datacenter: 0, internet: 0 },
        });
    for (const direction of ['inbound', 'outbound'] as const) {
      const matched = (remote: string) => new Set(evaluateAcls(port.acls, direction, remote, '', undefined).meters);
      for (const peer of port.peers)
        for (const c of matched(peer)) {
          const f = counted.get(c);
          if (f) f[direction].datacenter += share / port.peers.length;
        }
      for (const c of matched(INTERNET_REMOTE)) {
        const f = counted.get(c);
        if (f) f[direction].internet += share;
      }
    }
  }
  if (counted.size === 0) return sample;
  // Fractions of the directions' totals, floored once, so a class meeting every flow gets the whole figure.
  const bytes = (f: Fractions, datacenter: number, internet: number) =>
    Math.min(
      datacenter + internet,
      Math.floor(datacenter * Math.min(1, f.datacenter) + internet * Math.min(1, f.internet)),
    );
  return {
    ...sample,
    networkAcls: sample.networkAcls.map((a) => {
      const f = counted.get(a.acl);
      if (!f) return a;
      return {
        acl: a.acl,
        inBytes: bytes(f.inbound, sample.networkInDatacenterBytes, sample.networkInInternetBytes),
        outBytes: bytes(f.outbound, sample.networkOutDatacenterBytes, sample.networkOutInternetBytes),
      };
    }),
  };
}
