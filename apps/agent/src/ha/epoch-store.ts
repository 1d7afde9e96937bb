import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { AgentTask } from '@fabric/core/tasks/task-protocol.schema';
import { writeFileAtomic } from '../state-store';

/**
 * The highest ownership epoch this host heard for each VM (packages/core/src/compute/ownership.ts),
 * kept in `epochs.json` under the state directory so it survives a restart.
 * A task under an older epoch than the one recorded is refused (STALE_EPOCH):
 * the VM moved to another host after it was queued.
 */
export class EpochStore {
  readonly path: string;
  private epochs = new Map<string, number>();
  private loaded = false;
  private writing: Promise<void> = Promise.resolve();

  constructor(stateDir: string) {
    this.path = path.join(stateDir, 'epochs.json');
  }

  async load(): Promise<void> {
    if (this.loaded) return;
    this.loaded = true;
    try {
      const raw = JSON.parse(await readFile(this.path, 'utf8')) as unknown;
      if (raw && typeof raw === 'object') {
        for (const [vmId, epoch] of Object.entries(raw)) {
          if (Number.isInteger(epoch) && (epoch as number) >= 0) this.epochs.set(vmId, epoch as number);
        }
      }
    } catch {
      // No file yet (or an unreadable one): every VM's epoch is unknown (0) until a task says it.
    }
  }

  /** The recorded epoch, 0 when none was heard. */
  get(vmId: string): number {
    return this.epochs.get(vmId) ?? 0;
  }

  entries(): [string, number][] {
    return [...this.epochs];
  }

  /**
   * Admits a task: null when it may run (its epoch, if higher, is recorded first),
   * or the epoch on record when the task's is older.
   */
  async admit(task: Pick<AgentTask, 'vmId' | 'epoch'>): Promise<number | null> {
    await this.load();
    const epoch = task.epoch ?? null;
    if (epoch === null) return null;
    const known = this.get(task.vmId);
    if (epoch < known) return known;
    if (epoch > known) {
      this.epochs.set(task.vmId, epoch);
      await this.save();
    }
    return null;
  }

  async forget(vmId: string): Promise<void> {
    await this.load();
    if (this.epochs.delete(vmId)) await this.save();
  }

  private save(): Promise<void> {
    const body = `${JSON.stringify(Object.fromEntries(this.epochs))}\n`;
    this.writing = this.writing.then(async () => {
      await mkdir(path.dirname(this.path), { recursive: true });
      await writeFileAtomic(this.path, body);
    });
    return this.writing;
  }
}
