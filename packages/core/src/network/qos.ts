/**
 * QoS enforced by the simulated switch: a host NIC's capacity is shared among
 * the vNICs pinned to it by weighted max-min fairness with floors.
 *
 * - Each vNIC wants min(offered, maximum): the maximum is a cap, never passed.
 * - An absolute minimum (Hyper-V's MinimumBandwidthAbsolute, the Mbps that
 *   placement admitted) is a floor: a vNIC gets at least min(offered, minimum)
 *   whatever its neighbours offer, since admission keeps a NIC's minimums
 *   within its speed.
 * - Above the floors, capacity is water-filled in proportion to the weights
 *   (Hyper-V's MinimumBandwidthWeight, 1–100; default 1): a vNIC whose demand
 *   is met gives its unused share back to the others, so the NIC is never idle
 *   while someone wants more (work-conserving).
 *
 * Formally each vNIC gets min(demand, max(floor, λ·weight)) with the one water
 * level λ at which the NIC is exactly full (or everyone is satisfied). A
 * vNIC's bandwidth is its bytes in both directions per second.
 */
export interface QosFlow {
  nicId: string;
  offeredMbps: number;
  /** Absolute minimum bandwidth, a floor; none: 0. */
  minimumMbps?: number | undefined;
  /** Minimum bandwidth as a weight (Hyper-V's MinimumBandwidthWeight, 1–100); default 1. */
  weight?: number | undefined;
  maximumMbps?: number | undefined;
}

export type QosLimit = 'demand' | 'maximum' | 'share';

export interface QosShare {
  nicId: string;
  achievedMbps: number;
  /** What limited it: its own demand, its maximum, or contention (its fair share). */
  limitedBy: QosLimit;
}

/** A vNIC's QoS as compiled into its host's switch (port item `qos`). */
export interface PortQos {
  minimumMbps?: number | undefined;
  weight?: number | undefined;
  maximumMbps?: number | undefined;
}

/**
 * The QoS a switch enforces on a vNIC: the absolute minimum admitted at
 * placement, the port policy's weight (else the NIC's own), and the lower of
 * the NIC's and the port policy's maximums. Undefined when none is set.
 */
export function effectiveQos(
  nic: {
    minimumBandwidthMbps: number | null;
    minimumBandwidthWeight: number | null;
    maximumBandwidthMbps: number | null;
  },
  policy: { minimumBandwidthWeight?: number | undefined; maximumBandwidthMbps?: number | undefined },
): PortQos | undefined {
  const maxima = [nic.maximumBandwidthMbps ?? undefined, policy.maximumBandwidthMbps].filter(
    (m): m is number => m !== undefined,
  );
  const qos: PortQos = {};
  if (nic.minimumBandwidthMbps) qos.minimumMbps = nic.minimumBandwidthMbps;
  const weight = policy.minimumBandwidthWeight ?? nic.minimumBandwidthWeight ?? undefined;
  if (weight !== undefined) qos.weight = weight;
  if (maxima.length > 0) qos.maximumMbps = Math.min(...maxima);
  return Object.keys(qos).length > 0 ? qos : undefined;
}

export function shareBandwidth(capacityMbps: number, flows: readonly QosFlow[]): QosShare[] {
  const capacity = Math.max(0, capacityMbps);
  const demand = flows.map((f) => Math.max(0, Math.min(f.offeredMbps, f.maximumMbps ?? Number.POSITIVE_INFINITY)));
  const floor = flows.map((f, i) => Math.min(demand[i] ?? 0, Math.max(0, f.minimumMbps ?? 0)));
  const weight = flows.map((f) => Math.max(f.weight ?? 1, 1e-9));
  const sum = (values: readonly number[]) => values.reduce((s, v) => s + v, 0);
  let achieved: number[];
  if (sum(demand) <= capacity) {
    achieved = demand;
  } else if (sum(floor) >= capacity) {
    // Floors beyond the NIC (admission prevents it; a NIC that lost link speed does not): each in proportion.
    const scale = sum(floor) > 0 ? capacity / sum(floor) : 0;
    achieved = floor.map((f) => f * scale);
  } else {
    const at = (level: number) =>
      flows.map((_, i) => Math.min(demand[i] ?? 0, Math.max(floor[i] ?? 0, level * (weight[i] ?? 1))));
    // The fill is piecewise linear in the level, bending where a vNIC rises above its floor or reaches its demand.
    const rises = flows.map((_, i) => (floor[i] ?? 0) / (weight[i] ?? 1));
    const stops = flows.map((_, i) => (demand[i] ?? 0) / (weight[i] ?? 1));
    const bends = [...new Set([0, ...rises, ...stops])].sort((a, b) => a - b);
    let lo = 0;
    let hi = bends.length - 1;
    // The last bend at which the NIC is not yet over-full (level 0 gives the floors, which fit).
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (sum(at(bends[mid] ?? 0)) <= capacity) lo = mid;
      else hi = mid - 1;
    }
    const base = bends[lo] ?? 0;
    const filled = sum(at(base));
    // Compared with the bends themselves (the same divisions), not level × weight, so rounding cannot drop a vNIC.
    const slope = flows.reduce(
      (s, _, i) => ((rises[i] ?? 0) <= base && (stops[i] ?? 0) > base ? s + (weight[i] ?? 1) : s),
      0,
    );
    achieved = at(slope > 0 ? base + (capacity - filled) / slope : base);
  }
  return flows.map((f, i) => {
    const a = achieved[i] ?? 0;
    const d = demand[i] ?? 0;
    const limitedBy: QosLimit =
      a < d - 1e-9 * Math.max(1, d)
        ? 'share'
        : f.maximumMbps !== undefined && f.maximumMbps < f.offeredMbps
          ? 'maximum'
          : 'demand';
    return { nicId: f.nicId, achievedMbps: Math.min(a, d), limitedBy };
  });
}

/** A host NIC the virtual switch is bound to. */
export interface Uplink {
  name: string;
  linkSpeedMbps: number;
}

/**
 * Which host NIC each vNIC uses: vNICs with an absolute minimum first (largest
 * first), each on the NIC with the most capacity not yet reserved, the rule
 * placement admits minimums with; then the others, each on the NIC carrying
 * the fewest vNICs. Deterministic (ties by name and id), so the same VMs give
 * the same shares every interval. NICs without link speed carry nothing.
 */
export function pinToUplinks(
  uplinks: readonly Uplink[],
  vnics: readonly { nicId: string; minimumMbps?: number | undefined }[],
): Map<string, Uplink> {
  const live = uplinks.filter((u) => u.linkSpeedMbps > 0).map((u) => ({ uplink: u, reserved: 0, count: 0 }));
  const pinned = new Map<string, Uplink>();
  if (live.length === 0) return pinned;
  const byId = (a: { nicId: string }, b: { nicId: string }) => (a.nicId < b.nicId ? -1 : a.nicId > b.nicId ? 1 : 0);
  const withMin = vnics.filter((v) => (v.minimumMbps ?? 0) > 0);
  withMin.sort((a, b) => (b.minimumMbps ?? 0) - (a.minimumMbps ?? 0) || byId(a, b));
  const rest = vnics.filter((v) => !((v.minimumMbps ?? 0) > 0)).sort(byId);
  for (const v of withMin) {
    const best = live.reduce((x, y) =>
      y.uplink.linkSpeedMbps - y.reserved > x.uplink.linkSpeedMbps - x.reserved ? y : x,
    );
    best.reserved += v.minimumMbps ?? 0;
    best.count += 1;
    pinned.set(v.nicId, best.uplink);
  }
  for (const v of rest) {
    const best = live.reduce((x, y) => (y.count < x.count ? y : x));
    best.count += 1;
    pinned.set(v.nicId, best.uplink);
  }
  return pinned;
}

export interface HostShare extends QosShare {
  offeredMbps: number;
  /** The host NIC it shares; null on a host with no NIC up (an internal switch: only its own maximum limits it). */
  uplink: string | null;
}

/** Every vNIC of a host: pinned to a host NIC, then each NIC shared among its vNICs. */
export function shareHost(uplinks: readonly Uplink[], flows: readonly QosFlow[]): HostShare[] {
  const pins = pinToUplinks(uplinks, flows);
  const groups = new Map<Uplink | null, QosFlow[]>();
  for (const f of flows) {
    const u = pins.get(f.nicId) ?? null;
    const group = groups.get(u) ?? [];
    group.push(f);
    groups.set(u, group);
  }
  const out = new Map<string, HostShare>();
  for (const [uplink, group] of groups) {
    const shares = shareBandwidth(uplink ? uplink.linkSpeedMbps : Number.POSITIVE_INFINITY, group);
    group.forEach((f, i) => {
      const s = shares[i];
      if (s) out.set(f.nicId, { ...s, offeredMbps: f.offeredMbps, uplink: uplink?.name ?? null });
    });
  }
  return flows.flatMap((f) => {
    const s = out.get(f.nicId);
    return s ? [s] : [];
  });
}
