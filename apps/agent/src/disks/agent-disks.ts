import path from 'node:path';
import { vmLoadProfile } from '../drivers/simulated/vm-load';
import { ReplicaStore } from '../replica/replica-store';
import { workingSetBytesFromEnv } from './blocks';
import { guestWritesPerSecond } from './guest-writer';
import { PeerServer } from './peer-server';
import { SimDisks } from './vm-disks';

/**
 * The simulated host's disks and peer listener, as the agent's main wires
 * them: disks under `<stateDir>/disks`, each running VM's guest writing at the
 * rate of its load profile (or FABRIC_SIM_DISK_WRITES_PER_SECOND), and a peer
 * listener on 127.0.0.1 and an ephemeral port (FABRIC_PEER_PORT to pin it).
 */
export function simulatedDisks(stateDir: string, env: NodeJS.ProcessEnv = process.env) {
  const disks = new SimDisks({
    stateDir,
    workingSetBytes: workingSetBytesFromEnv(env),
    writesPerSecond: (vmId) => guestWritesPerSecond(vmLoadProfile(0, vmId).diskBytesPerSecond, env),
  });
  const peer = new PeerServer();
  const replicas = new ReplicaStore({ dir: path.join(stateDir, 'replicas'), peer });
  const port = Number(env.FABRIC_PEER_PORT ?? 0);
  return {
    disks,
    peer,
    start: async () => {
      await replicas.start();
      return peer.start(Number.isInteger(port) && port >= 0 && port < 65536 ? port : 0);
    },
    /** Replica storage of this host, served on the peer listener (replica/replica-store.ts). */
    replicas,
    /**
     * The HA discard of a VM this host no longer owns (before the driver deletes it): a VM replicated
     * from here keeps its disk files to seed the reverse direction, unless this host already holds a
     * replica copy of that relationship taking cycles.
     */
    discardDisks: (vmId: string) =>
      disks.discard(vmId, (relationshipId) => replicas.get(relationshipId)?.state !== 'replicating'),
    stop: async () => {
      await peer.stop();
      await replicas.close();
      await disks.close();
    },
  };
}
