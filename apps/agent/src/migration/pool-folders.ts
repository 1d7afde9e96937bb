import { createHash } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';

/**
 * Where a simulated host keeps the disks it moved to a storage pool: one
 * folder per pool under the state directory, one per VM inside it:
 * `<stateDir>/pools/<pool folder>/<vmId>/d<i>.img`. A VM's disks start in its
 * own folder (`<stateDir>/disks/<vmId>/`, vm-disks.ts); a live storage
 * migration moves them into the destination pool's folder, and `disks.json`
 * names them relative to the VM's folder (`../../pools/…`).
 *
 * Pool names are the host's ("Local", "\\\\sofs01\\vms"): the folder is the
 * name with every character outside [A-Za-z0-9._-] replaced, plus a short hash
 * of the exact name, so two names never share a folder.
 */
export function poolFolderName(pool: string): string {
  const readable = pool.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 48) || 'pool';
  return `${readable}-${createHash('sha256').update(pool).digest('hex').slice(0, 8)}`;
}

/** `<stateDir>/pools/<pool folder>/<vmId>`, given the VM's own folder `<stateDir>/disks/<vmId>`. */
export function poolVmDir(vmDir: string, pool: string): string {
  const stateDir = path.dirname(path.dirname(vmDir));
  return path.join(stateDir, 'pools', poolFolderName(pool), path.basename(vmDir));
}

/** Deletes the VM's folder in every pool (the VM is deleted; idempotent). */
export async function removePoolFolders(vmDir: string): Promise<void> {
  const pools = path.join(path.dirname(path.dirname(vmDir)), 'pools');
  let names: string[];
  try {
    names = await readdir(pools);
  } catch {
    return;
  }
  for (const name of names) await rm(path.join(pools, name, path.basename(vmDir)), { recursive: true, force: true });
}
