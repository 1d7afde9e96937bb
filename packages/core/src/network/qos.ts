/**
 * QoS enforced by the simulated switch: a host NIC's capacity is shared by
 * weighted max-min fairness. Each vNIC wants min(offered, maximum); capacity
 * is handed out in proportion to minimum-bandwidth weights, a vNIC that is
 * satisfied gives its unused share back to the others (water-filling). So a
 * noisy neighbour never pushes a VM below its weighted share (its minimum)
 * and never gets more than its own maximum.
 */
export interface QosFlow {
  nicId: string;
  offeredMbps: number;
  /** Minimum bandwidth as a weight (Hyper-V's MinimumBandwidthWeight, 1–100); default 1. */
  weight?: number | undefined;
  maximumMbps?: number | undefined;
}

export interface QosShare {
  nicId: string;
  achievedMbps: number;
  /** What limited it: its own demand, its maximum, or contention (its fair share). */
  limitedBy: 'demand' | 'maximum' | 'share';
}

export function shareBandwidth(capacityMbps: number, flows: readonly QosFlow[]): QosShare[] {
  const want = new Map<string, { cap: number; weight: number; limitedBy: 'demand' | 'maximum' }>();
  for (const f of flows) {
    const max = f.maximumMbps ?? Number.POSITIVE_INFINITY;
    const cap = Math.max(0, Math.min(f.offeredMbps, max));
    want.set(f.nicId, {
      cap,
      weight: Math.max(f.weight ?? 1, 1e-9),
      limitedBy: max < f.offeredMbps ? 'maximum' : 'demand',
    });
  }
  const achieved = new Map<string, number>();
  let remaining = capacityMbps;
  let active = flows.map((f) => f.nicId);
  while (active.length > 0 && remaining > 1e-9) {
    const totalWeight = active.reduce((s, id) => s + (want.get(id)?.weight ?? 0), 0);
    const satisfied: string[] = [];
    for (const id of active) {
      const w = want.get(id);
      if (!w) continue;
      const share = (remaining * w.weight) / totalWeight;
      if ((achieved.get(id) ?? 0) + share >= w.cap - 1e-9) satisfied.push(id);
    }
    if (satisfied.length === 0) {
      for (const id of active) {
        const w = want.get(id);
        if (w) achieved.set(id, (achieved.get(id) ?? 0) + (remaining * w.weight) / totalWeight);
      }
      remaining = 0;
      break;
    }
    for (const id of satisfied) {
      const w = want.get(id);
      if (!w) continue;
      remaining -= w.cap - (achieved.get(id) ?? 0);
      achieved.set(id, w.cap);
    }
    active = active.filter((id) => !satisfied.includes(id));
  }
  return flows.map((f) => {
    const w = want.get(f.nicId);
    const a = achieved.get(f.nicId) ?? 0;
    const full = w !== undefined && a >= w.cap - 1e-6;
    return {
      nicId: f.nicId,
      achievedMbps: Math.round(a * 1000) / 1000,
      limitedBy: full ? (w?.limitedBy ?? 'demand') : 'share',
    };
  });
}
