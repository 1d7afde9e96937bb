import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { HaHeartbeat, HaHeartbeatAnswer, IsolationResponse } from '@fabric/core/ha/ha-protocol.schema';
import type { VmOperationContext } from '../drivers/driver';
import type { Logger } from '../log';
import type { EpochStore } from './epoch-store';
import { isLive, type RunLoggingDriver } from './run-logging-driver';

/**
 * The agent's side of high availability (docs/high-availability.md):
 *
 * - Ownership: after it starts and after every outage the agent lists the VMs
 *   it holds with their epochs in its next heartbeat; the API answers with the
 *   ones that moved while it was away, which it turns off and deletes (never
 *   starts).
 * - Isolation response: when the API has not answered a heartbeat for the
 *   cluster's isolation timeout, it applies the cluster's response to its live
 *   VMs (power off, shut down, or keep running), records when in the run log and
 *   says so on the shared heartbeat directory (self-fencing, confirmed).
 * - Second channel: every `peerIntervalMs` it writes its own heartbeat file in
 *   the cluster's folder of a directory all hosts share (`FABRIC_HA_DIR`) and
 *   reads its peers', which it reports in each heartbeat: the control plane
 *   tells a dead host (no file written) from one cut off from it (file fresh).
 */
export interface HaAgentOptions {
  /** The driver that logs runs (RunLoggingDriver), so isolation and discards land in the run log. */
  driver: RunLoggingDriver;
  epochs: EpochStore;
  log: Logger;
  stateDir: string;
  /** The shared heartbeat directory (simulated shared storage); none: no second channel. */
  sharedDir?: string | null;
  /** How often the shared heartbeat file is written and the isolation timer looks. Default 1 s. */
  peerIntervalMs?: number;
  /** Called with a discarded VM off, before it is deleted: what happens to its disk files (disks/agent-disks.ts). */
  discardDisks?: (vmId: string) => Promise<unknown>;
  now?: () => number;
}

interface PeerFile {
  hostId: string;
  at: number;
  fencedAt: number | null;
}

interface KnownSettings {
  clusterId: string;
  enabled: boolean;
  isolationTimeoutMs: number;
  isolationResponse: IsolationResponse;
}

export class HaAgent {
  private readonly now: () => number;
  private readonly peerIntervalMs: number;
  private settings: KnownSettings | null = null;
  private hostId: string | null = null;
  /** Last time the API answered a heartbeat (agent start counts as contact). */
  private lastContact: number;
  /** List held VMs in the next heartbeat. */
  private checkOwnership = true;
  private isolatedAt: number | null = null;
  private isolatedReported = true;
  /** The VMs the last isolation response stopped (with their epochs), reported with it. */
  private stoppedByIsolation: { vmId: string; epoch: number }[] = [];
  private isolating: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly discarding = new Set<string>();

  constructor(private readonly options: HaAgentOptions) {
    this.now = options.now ?? Date.now;
    this.peerIntervalMs = options.peerIntervalMs ?? 1000;
    this.lastContact = this.now();
    // Nothing becomes live here while this host is (or is about to be) isolated: see startRefusal.
    options.driver.setStartGate(() => this.startRefusal());
  }

  /**
   * Why no VM may start on this host now, or null: HA is on with a response that stops VMs, and the
   * control plane has been silent past the isolation timeout (isolated, or about to be). Its lease
   * may then run out and its VMs restart elsewhere, so a start pulled before the silence must not run.
   */
  startRefusal(): string | null {
    const s = this.settings;
    if (!s?.enabled || s.isolationResponse === 'keep-running') return null;
    const silentMs = this.now() - this.lastContact;
    if (this.isolatedAt === null && !this.isolating && silentMs < s.isolationTimeoutMs) return null;
    return `this host is isolated (no answer from the control plane for ${silentMs} ms, isolation timeout ${s.isolationTimeoutMs} ms): it starts no VM until the control plane answers`;
  }

  private get settingsPath() {
    return path.join(this.options.stateDir, 'ha-settings.json');
  }

  /** Reads the settings kept from the last answer (an agent restarted while cut off still knows its response). */
  async start(): Promise<void> {
    try {
      const kept = JSON.parse(await readFile(this.settingsPath, 'utf8')) as KnownSettings & { hostId?: string };
      if (kept && typeof kept.isolationTimeoutMs === 'number') {
        this.settings = kept;
        this.hostId = kept.hostId ?? null;
      }
    } catch {
      // none yet
    }
    this.timer = setInterval(() => void this.tick(), this.peerIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The `ha` part of the next heartbeat. */
  async heartbeat(hostId: string): Promise<HaHeartbeat> {
    this.hostId = hostId;
    const out: HaHeartbeat = {};
    if (this.checkOwnership) {
      const vms = await this.options.driver.listVms();
      out.vms = vms.slice(0, 1024).map((vm) => ({
        vmId: vm.vmId,
        epoch: this.options.epochs.get(vm.vmId),
        state: vm.state,
      }));
    }
    const peers = await this.readPeers();
    if (peers.length) out.peers = peers;
    if (this.isolatedAt !== null && !this.isolatedReported) {
      out.isolatedAt = this.isolatedAt;
      if (this.stoppedByIsolation.length) out.isolationStopped = this.stoppedByIsolation.slice(0, 1024);
    }
    return out;
  }

  /** The API answered a heartbeat: contact, settings, and the VMs to discard. */
  async answered(hostId: string, answer: HaHeartbeatAnswer | undefined, sentVms: boolean): Promise<void> {
    this.lastContact = this.now();
    this.hostId = hostId;
    if (this.isolatedAt !== null) {
      this.options.log.info('ha: the control plane answers again; isolation over (its VMs stay as they are)');
      this.isolatedReported = true;
      this.isolatedAt = null;
      this.stoppedByIsolation = [];
      await this.writeOwnFile();
    }
    if (sentVms) this.checkOwnership = false;
    if (!answer) return;
    const next: KnownSettings = {
      clusterId: answer.clusterId,
      enabled: answer.enabled,
      isolationTimeoutMs: answer.isolationTimeoutMs,
      isolationResponse: answer.isolationResponse,
    };
    if (JSON.stringify(next) !== JSON.stringify(this.settings)) {
      this.settings = next;
      await mkdir(this.options.stateDir, { recursive: true });
      await writeFile(this.settingsPath, `${JSON.stringify({ ...next, hostId })}\n`);
      this.options.log.info(
        `ha: ${next.enabled ? 'on' : 'off'}, isolation response ${next.isolationResponse} after ${next.isolationTimeoutMs} ms`,
      );
    }
    // The API asks for the held VMs again while this host's VMs are being restarted elsewhere: a VM that
    // moves after this heartbeat is discarded on the next one.
    if (answer.listVms) this.checkOwnership = true;
    for (const stale of answer.discard) await this.discard(stale.vmId, stale.reason, stale.currentEpoch);
  }

  /** A heartbeat failed: list the held VMs again once the API answers. */
  failed(): void {
    this.checkOwnership = true;
  }

  /** True once the isolation response was applied and the API has not answered since. */
  get isolated(): boolean {
    return this.isolatedAt !== null;
  }

  private async discard(vmId: string, reason: string, currentEpoch: number): Promise<void> {
    if (this.discarding.has(vmId)) return;
    this.discarding.add(vmId);
    const context: VmOperationContext = { signal: new AbortController().signal, onProgress: () => undefined };
    try {
      const vm = (await this.options.driver.listVms()).find((v) => v.vmId === vmId);
      this.options.log.warn(
        `ha: VM ${vmId.slice(0, 8)} ${reason === 'moved' ? `moved to another host (epoch ${currentEpoch})` : 'was deleted'}; discarding this host's copy`,
      );
      if (vm && isLive(vm.state)) await this.options.driver.turnOffVm(vmId, context, 'discard');
      await this.options.discardDisks?.(vmId);
      if (vm) await this.options.driver.deleteVm(vmId, context, 'discard');
      await this.options.epochs.forget(vmId);
    } catch (error) {
      this.options.log.error(`ha: could not discard VM ${vmId.slice(0, 8)}: ${String(error)}`);
      this.checkOwnership = true;
    } finally {
      this.discarding.delete(vmId);
    }
  }

  private async tick(): Promise<void> {
    try {
      await this.writeOwnFile();
      const s = this.settings;
      if (!s?.enabled || this.isolatedAt !== null || this.isolating) return;
      if (this.now() - this.lastContact < s.isolationTimeoutMs) return;
      this.isolating = this.isolate(s).finally(() => {
        this.isolating = null;
      });
      await this.isolating;
    } catch (error) {
      this.options.log.error(`ha: ${String(error)}`);
    }
  }

  /** Applies the isolation response to every live VM, then says so (run log, shared directory). */
  private async isolate(s: KnownSettings): Promise<void> {
    const silentMs = this.now() - this.lastContact;
    this.options.log.warn(
      `ha: no answer from the control plane for ${silentMs} ms (isolation timeout ${s.isolationTimeoutMs} ms): ` +
        `isolation response ${s.isolationResponse}`,
    );
    if (s.isolationResponse !== 'keep-running') {
      const context: VmOperationContext = { signal: new AbortController().signal, onProgress: () => undefined };
      const live = (await this.options.driver.listVms()).filter((vm) => isLive(vm.state));
      this.stoppedByIsolation = live.map((vm) => ({ vmId: vm.vmId, epoch: this.options.epochs.get(vm.vmId) }));
      await Promise.all(
        live.map(async (vm) => {
          try {
            if (s.isolationResponse === 'power-off') await this.options.driver.turnOffVm(vm.vmId, context, 'isolation');
            else await this.options.driver.stopVm(vm.vmId, context, 'isolation');
          } catch (error) {
            // A shutdown that fails still has to end: pull the plug.
            this.options.log.warn(`ha: ${vm.name}: ${String(error)}; turning it off`);
            await this.options.driver.turnOffVm(vm.vmId, context, 'isolation');
          }
        }),
      );
      this.options.log.warn(`ha: isolation response applied to ${live.length} VM(s)`);
    }
    this.isolatedAt = this.now();
    this.isolatedReported = false;
    this.checkOwnership = true;
    await this.writeOwnFile();
  }

  private ownFile(): string | null {
    const dir = this.options.sharedDir;
    const clusterId = this.settings?.clusterId;
    if (!dir || !clusterId || !this.hostId) return null;
    return path.join(dir, clusterId, `${this.hostId}.json`);
  }

  private async writeOwnFile(): Promise<void> {
    const file = this.ownFile();
    if (!file || !this.hostId) return;
    const body: PeerFile = {
      hostId: this.hostId,
      at: this.now(),
      // Self-fencing confirmed: only when the response really stopped the VMs.
      fencedAt:
        this.isolatedAt !== null && this.settings?.isolationResponse !== 'keep-running' ? this.isolatedAt : null,
    };
    await mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(tmp, JSON.stringify(body));
    await rename(tmp, file);
  }

  private async readPeers(): Promise<NonNullable<HaHeartbeat['peers']>> {
    const dir = this.options.sharedDir;
    const clusterId = this.settings?.clusterId;
    if (!dir || !clusterId) return [];
    const folder = path.join(dir, clusterId);
    let names: string[];
    try {
      names = (await readdir(folder)).filter((n) => n.endsWith('.json'));
    } catch {
      return [];
    }
    const now = this.now();
    const peers: NonNullable<HaHeartbeat['peers']> = [];
    for (const name of names) {
      try {
        const peer = JSON.parse(await readFile(path.join(folder, name), 'utf8')) as PeerFile;
        if (peer.hostId === this.hostId || typeof peer.at !== 'number') continue;
        peers.push({
          hostId: peer.hostId,
          ageMs: clampAge(now - peer.at),
          fencedAgeMs: typeof peer.fencedAt === 'number' ? clampAge(now - peer.fencedAt) : null,
        });
      } catch {
        // a file being replaced, or not a peer's
      }
      if (peers.length >= 64) break;
    }
    return peers;
  }
}

function clampAge(ms: number): number {
  return Math.max(0, Math.min(86_400_000, Math.round(ms)));
}
