import { formatCount, plural } from '../placement/format';
import { NO_FIT_PHRASE, type PlacementDecision } from '../placement/place';

/**
 * The engine's words for a migration to "best", with the VM's own host left
 * out. The engine is shown the source as a host in maintenance (so it is never
 * a candidate, while its VMs still count for affinity and the cluster's
 * limits); its summary would then count the source among the hosts, and as one
 * "in maintenance" when nothing fits ("No host fits: 1 host in maintenance"
 * in a cluster where no host is). Here the source is not counted at all: the
 * hosts are the other hosts, and the maintenance count is the real one.
 */
export function explainBestMove(decision: PlacementDecision, sourceHostId: string): string {
  const others = Math.max(0, decision.hostsTotal - 1);
  if (decision.hostId && decision.hostName) {
    const score = decision.trace.find((t) => t.hostId === decision.hostId)?.total ?? null;
    const scored = score === null ? '' : `score ${score.toFixed(1)} of 100; `;
    return `Placed on ${decision.hostName} (${scored}${formatCount(decision.candidates)} of ${plural(others, 'other host', 'other hosts')} fit)`;
  }
  if (others === 0) return 'No other host: the cluster has only the one this VM runs on';
  // The source is rejected as in maintenance (the first filter): take it out of that count.
  const rejections = decision.rejections
    .map((r) =>
      r.code === 'HOST_MAINTENANCE'
        ? { ...r, hosts: r.hosts - 1, sourceExample: r.example.hostId === sourceHostId }
        : { ...r, sourceExample: false },
    )
    .filter((r) => r.hosts > 0);
  const only = rejections.length === 1 && rejections[0]?.hosts === 1 ? rejections[0] : undefined;
  // One other host: its own reason carries the numbers, unless the example kept was the source.
  if (only && !only.sourceExample) return `No other host fits: ${only.example.hostName}: ${only.example.reason}`;
  const parts = rejections.map(({ code, hosts }) => {
    const [one, many] = NO_FIT_PHRASE[code];
    return `${formatCount(hosts)} ${hosts === 1 ? one : many}`;
  });
  return `No other host fits: ${parts.join(', ')}`;
}
