/**
 * The evacuation plan's heading and, when nothing moves, the line that says
 * why: "No VMs on this host" only when the host has none, never when it has
 * VMs that all cannot move ("0 VMs move, 5 cannot" then "No VMs on this host"
 * contradicted itself). Client-safe: no engine imports.
 */
export function describeEvacuation(plan: {
  readonly moves: readonly unknown[];
  readonly unmovable: readonly unknown[];
}): { heading: string; nothingMoves: string | null } {
  const moving = plan.moves.length;
  const stuck = plan.unmovable.length;
  if (moving === 0 && stuck === 0) return { heading: 'No VMs on this host: nothing to evacuate', nothingMoves: null };
  const heading = `Evacuate first: ${moving} ${moving === 1 ? 'VM moves' : 'VMs move'}${stuck ? `, ${stuck} cannot` : ''}`;
  if (moving > 0) return { heading, nothingMoves: null };
  return {
    heading,
    nothingMoves:
      stuck === 1
        ? 'Its VM cannot move to any other host; the reason is below.'
        : `None of its ${stuck} VMs can move to another host; the reasons are below.`,
  };
}
