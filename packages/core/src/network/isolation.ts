import type { HostPolicy } from './compile';
import { egress, ingress, type Packet, SwitchState, type Verdict } from './switch';

/**
 * The isolation proof over every host's compiled policy: can any packet sent
 * by a VM in one VM network (routing domain) be delivered to a VM of another?
 *
 * Guards and ACLs only ever drop, so they are set aside: a packet can be
 * delivered only through a CA→PA lookup record of the sender's routing domain
 * on the sender's host, so enumerating (sending port, lookup record) covers
 * every deliverable packet. Each candidate is forwarded by the same switch
 * code the agents run (egress → wire → ingress), so the proof and a trace
 * cannot disagree about forwarding. A violation comes with an example packet.
 */

export interface IsolationViolation {
  from: { hostId: string; nicId: string; vmName: string; tenantId: string; rdid: string };
  to: { hostId: string; nicId: string; vmName: string; tenantId: string; rdid: string };
  packet: Packet;
  hops: Verdict[];
}

export interface IsolationReport {
  ok: boolean;
  hosts: number;
  ports: number;
  /** (port, lookup record) pairs forwarded. */
  candidates: number;
  violations: IsolationViolation[];
  /** True when more violations exist than are listed. */
  truncated: boolean;
  durationMs: number;
}

export function verifyIsolation(
  policies: ReadonlyMap<string, HostPolicy> | ReadonlyMap<string, SwitchState>,
  now: () => number = () => performance.now(),
  maxViolations = 20,
): IsolationReport {
  const started = now();
  const states = new Map<string, SwitchState>();
  for (const [hostId, p] of policies) states.set(hostId, p instanceof SwitchState ? p : new SwitchState(hostId, p));
  const byPa = new Map<string, SwitchState>();
  for (const s of states.values()) for (const pa of s.pas()) byPa.set(pa, s);
  // Records of each routing domain per host, grouped once.
  const violations: IsolationViolation[] = [];
  let truncated = false;
  let candidates = 0;
  let ports = 0;
  const options = { ignoreFilters: true, quiet: true };
  for (const state of states.values()) {
    const recordsByRd = new Map<string, string[]>();
    for (const key of state.records.keys()) {
      const slash = key.lastIndexOf('/');
      const rd = key.slice(0, slash);
      let list = recordsByRd.get(rd);
      if (!list) {
        list = [];
        recordsByRd.set(rd, list);
      }
      list.push(key.slice(slash + 1));
    }
    for (const [nicId, port] of state.ports) {
      ports++;
      for (const dstCa of recordsByRd.get(port.rdid) ?? []) {
        candidates++;
        const packet: Packet = {
          fromNic: nicId,
          kind: 'ip',
          srcMac: port.mac,
          srcCa: port.ca,
          dstCa,
          protocol: 'tcp',
          bytes: 64,
        };
        const out = egress(state, packet, options);
        if (out.kind === 'drop') continue;
        const dst = out.kind === 'local' ? state : byPa.get(out.wire.outerDst);
        if (!dst) continue;
        const inn = ingress(dst, out.wire, options);
        if (inn.kind !== 'deliver' || inn.rdid === port.rdid) continue;
        if (violations.length >= maxViolations) {
          truncated = true;
          continue;
        }
        // Traced again with every hop's verdict for the report.
        const loud = egress(state, packet, { ignoreFilters: true });
        const loudIn = loud.kind === 'drop' ? null : ingress(dst, loud.wire, { ignoreFilters: true });
        violations.push({
          from: { hostId: state.hostId, nicId, vmName: port.vmName, tenantId: port.tenantId, rdid: port.rdid },
          to: { hostId: dst.hostId, nicId: inn.toNic, vmName: inn.vmName, tenantId: inn.tenantId, rdid: inn.rdid },
          packet,
          hops: [...loud.verdicts, ...(loudIn?.verdicts ?? [])],
        });
      }
    }
  }
  return {
    ok: violations.length === 0,
    hosts: states.size,
    ports,
    candidates,
    violations,
    truncated,
    durationMs: now() - started,
  };
}
