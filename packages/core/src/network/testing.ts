import type { CompileInput, RoutingDomainInput } from './compile';
import { DEFAULT_PORT_POLICY, type PortPolicy, type VnicPlacement } from './network';

/**
 * The whitepaper's example ("Network Virtualization example"): Blue Corp and
 * Yellow Corp each run SQL at 10.1.1.1 and WEB at 10.1.1.2; SQL VMs on Host 1,
 * WEB VMs on Host 2. Used by tests, the bench and the demo seed.
 */
export function blueYellowFabric(
  isolation: 'gre' | 'ip-rewrite' = 'gre',
  policy: Partial<PortPolicy> = {},
): CompileInput {
  const hosts = [
    { hostId: 'host-1', pa: '192.168.1.1' },
    { hostId: 'host-2', pa: '192.168.1.2' },
    { hostId: 'host-3', pa: '192.168.1.3' },
  ];
  const rd = (rdid: string, tenantId: string, vsid: number): RoutingDomainInput => ({
    rdid,
    tenantId,
    isolation,
    subnets: [{ vsid, prefix: '10.1.1.0/24', gateway: '10.1.1.254' }],
  });
  const nic = (
    nicId: string,
    vmName: string,
    tenantId: string,
    rdid: string,
    vsid: number,
    ca: string,
    mac: string,
    hostId: string,
    pa: string,
  ): VnicPlacement => ({
    nicId,
    vmId: `vm-${nicId}`,
    vmName,
    tenantId,
    vmNetworkId: rdid,
    subnetId: `${rdid}-s`,
    vsid,
    ca,
    mac,
    hostId,
    pa,
    policy: { ...DEFAULT_PORT_POLICY, ...policy },
  });
  return {
    hosts,
    routingDomains: [rd('blue', 'tenant-blue', 5001), rd('yellow', 'tenant-yellow', 6001)],
    vnics: [
      nic(
        'blue-sql',
        'blue-sql',
        'tenant-blue',
        'blue',
        5001,
        '10.1.1.1',
        '00-15-5D-00-00-01',
        'host-1',
        '192.168.1.10',
      ),
      nic(
        'blue-web',
        'blue-web',
        'tenant-blue',
        'blue',
        5001,
        '10.1.1.2',
        '00-15-5D-00-00-02',
        'host-2',
        '192.168.1.12',
      ),
      nic(
        'yellow-sql',
        'yellow-sql',
        'tenant-yellow',
        'yellow',
        6001,
        '10.1.1.1',
        '00-15-5D-00-00-03',
        'host-1',
        '192.168.1.11',
      ),
      nic(
        'yellow-web',
        'yellow-web',
        'tenant-yellow',
        'yellow',
        6001,
        '10.1.1.2',
        '00-15-5D-00-00-04',
        'host-2',
        '192.168.1.13',
      ),
    ],
  };
}
