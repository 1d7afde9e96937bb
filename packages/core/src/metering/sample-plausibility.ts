import type { VmSample } from './sample-protocol.schema';

/**
 * What a sample can be and still be true (issue 9, class 5): a sample is the
 * record of an interval that happened, on a VM that existed, on the host that
 * reports it, within what that VM could use. Anything else is refused with a
 * code per sample and the batch stores nothing; nothing is clamped, since a
 * clamped figure is an invented one and samples are billing data.
 *
 * The schema (sample-protocol.schema.ts) checks each figure alone; these
 * rules check a figure against the clock, the interval, the VM and the host,
 * and samples against one another. Pure: the facts come from the caller.
 */
export type SampleRefusalCode =
  /** `at` is later than now plus the clock skew allowed. */
  | 'SAMPLE_IN_FUTURE'
  /** `at` is not a whole multiple of `intervalSeconds` since the epoch. */
  | 'SAMPLE_NOT_ALIGNED'
  /** The interval ended before the host registered. */
  | 'SAMPLE_BEFORE_HOST'
  /** The interval ended before the VM was created. */
  | 'SAMPLE_BEFORE_VM'
  /** Its span overlaps another sample of the VM (stored, or in the same batch). */
  | 'SAMPLE_OVERLAPS'
  /** `memoryMaxMiB` above the VM's maximum memory. */
  | 'SAMPLE_MEMORY_ABOVE_VM'
  /** `cpuAvgMhz` above the VM's vCPUs × the host's clock. */
  | 'SAMPLE_CPU_ABOVE_VM'
  /** Disk bytes beyond any disk's rate over the interval. */
  | 'SAMPLE_DISK_IMPLAUSIBLE'
  /** Network bytes beyond any link's rate, or a metered ACL's beyond the traffic it is part of. */
  | 'SAMPLE_NETWORK_IMPLAUSIBLE';

/** One refused sample: where it is in the batch, which it is, and why. */
export interface SampleRefusal {
  index: number;
  vmId: string;
  at: string;
  code: SampleRefusalCode;
  message: string;
}

/**
 * Agents' clocks drift (NTP keeps them within a second; a VM host without it
 * drifts seconds a day). Five minutes forgives a badly kept clock and still
 * refuses a sample from tomorrow, next year or 9999.
 */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;
/**
 * 1 Tbit/s per direction and class: above any NIC team (the whitepaper's
 * hosts have 10 GbE) and VM-to-VM traffic on one virtual switch, which no
 * physical link bounds; a counter beyond it is garbage, not a busy VM.
 */
export const MAX_NETWORK_BYTES_PER_SECOND = 125_000_000_000;
/** 100 GB/s per direction: above any storage a VM's virtual disks sit on. */
export const MAX_DISK_BYTES_PER_SECOND = 100_000_000_000;

/** The longest interval a sample may cover (the schema's bound): overlaps are looked for this far ahead. */
export const MAX_SAMPLE_INTERVAL_SECONDS = 3600;

export interface SampleVmFacts {
  createdAt: Date;
  vcpus: number;
  /** Static memory's size, or Dynamic Memory's maximum: the most the VM can hold. */
  maximumMemoryMiB: number;
}

/** What the stored state says about a batch's samples (MeteringRepository.sampleFacts). */
export interface SampleFacts {
  /** Null when the host is gone: the write refuses the batch for its credential. */
  host: { registeredAt: Date; cpuMhz: number } | null;
  /** The VMs of the batch that are on the host, by id; samples of others are ignored, not judged. */
  vms: ReadonlyMap<string, SampleVmFacts>;
  /** Stored samples whose span overlaps batch sample `index` (the same `at` and interval is a resend, not listed). */
  overlaps: readonly { index: number; at: Date; intervalSeconds: number }[];
}

type Verdict = { code: SampleRefusalCode; message: string } | null;

const iso = (ms: number) => new Date(ms).toISOString();

/** Rules that need nothing but the sample and the time. */
function judgeAlone(s: VmSample, nowMs: number): Verdict {
  const atMs = Date.parse(s.at);
  const intervalMs = s.intervalSeconds * 1000;
  if (atMs > nowMs + MAX_CLOCK_SKEW_MS) {
    return {
      code: 'SAMPLE_IN_FUTURE',
      message: `ends at ${s.at}, after the API's clock (${iso(nowMs)}) plus ${MAX_CLOCK_SKEW_MS / 60_000} minutes: check the host's clock`,
    };
  }
  if (atMs % intervalMs !== 0) {
    return {
      code: 'SAMPLE_NOT_ALIGNED',
      message: `ends at ${s.at}, not a wall-clock multiple of its ${s.intervalSeconds} s interval`,
    };
  }
  const diskMax = s.intervalSeconds * MAX_DISK_BYTES_PER_SECOND;
  if (s.diskReadBytes > diskMax || s.diskWriteBytes > diskMax) {
    return {
      code: 'SAMPLE_DISK_IMPLAUSIBLE',
      message: `disk bytes above ${diskMax} (${MAX_DISK_BYTES_PER_SECOND / 1e9} GB/s for ${s.intervalSeconds} s)`,
    };
  }
  const netMax = s.intervalSeconds * MAX_NETWORK_BYTES_PER_SECOND;
  const network = [
    s.networkInInternetBytes,
    s.networkOutInternetBytes,
    s.networkInDatacenterBytes,
    s.networkOutDatacenterBytes,
  ];
  if (network.some((bytes) => bytes > netMax)) {
    return {
      code: 'SAMPLE_NETWORK_IMPLAUSIBLE',
      message: `network bytes above ${netMax} (1 Tbit/s for ${s.intervalSeconds} s)`,
    };
  }
  // A metered ACL's bytes are also counted in `internet` or `datacenter` (docs/agent-protocol.md): never more.
  const inTotal = s.networkInInternetBytes + s.networkInDatacenterBytes;
  const outTotal = s.networkOutInternetBytes + s.networkOutDatacenterBytes;
  const acl = (s.networkAcls ?? []).find((a) => a.inBytes > inTotal || a.outBytes > outTotal);
  if (acl) {
    return {
      code: 'SAMPLE_NETWORK_IMPLAUSIBLE',
      message: `metered ACL "${acl.acl}" counts more bytes (${acl.inBytes} in, ${acl.outBytes} out) than the sample's traffic (${inTotal} in, ${outTotal} out), of which it is part`,
    };
  }
  return null;
}

/** Rules against the VM and host the sample is for. */
function judgeAgainst(s: VmSample, vm: SampleVmFacts, host: NonNullable<SampleFacts['host']>): Verdict {
  const atMs = Date.parse(s.at);
  if (atMs <= host.registeredAt.getTime() - MAX_CLOCK_SKEW_MS) {
    return {
      code: 'SAMPLE_BEFORE_HOST',
      message: `ends at ${s.at}, before this host registered (${host.registeredAt.toISOString()})`,
    };
  }
  if (atMs <= vm.createdAt.getTime() - MAX_CLOCK_SKEW_MS) {
    return {
      code: 'SAMPLE_BEFORE_VM',
      message: `ends at ${s.at}, before the VM was created (${vm.createdAt.toISOString()})`,
    };
  }
  if (s.memoryMaxMiB > vm.maximumMemoryMiB) {
    return {
      code: 'SAMPLE_MEMORY_ABOVE_VM',
      message: `maximum memory ${s.memoryMaxMiB} MiB is above the VM's ${vm.maximumMemoryMiB} MiB`,
    };
  }
  const cpuMaxMhz = vm.vcpus * host.cpuMhz;
  if (s.cpuAvgMhz > cpuMaxMhz) {
    return {
      code: 'SAMPLE_CPU_ABOVE_VM',
      message: `average CPU ${s.cpuAvgMhz} MHz is above the VM's ${vm.vcpus} vCPU × ${host.cpuMhz} MHz = ${cpuMaxMhz} MHz`,
    };
  }
  return null;
}

const span = (atMs: number, intervalSeconds: number) => ({ from: atMs - intervalSeconds * 1000, to: atMs });

/**
 * Every refused sample of a batch, in batch order (at most one verdict each:
 * the first rule it breaks). Empty: the batch is possible. Samples of VMs
 * not on the host (absent from `facts.vms`) are judged by the rules that need
 * no VM only, and are then ignored by the write as before.
 */
export function judgeSamples(samples: readonly VmSample[], facts: SampleFacts, now: Date): SampleRefusal[] {
  const nowMs = now.getTime();
  const verdicts: Verdict[] = samples.map((s) => {
    const alone = judgeAlone(s, nowMs);
    if (alone) return alone;
    const vm = facts.vms.get(s.vmId);
    return vm && facts.host ? judgeAgainst(s, vm, facts.host) : null;
  });

  for (const o of facts.overlaps) {
    const s = samples[o.index];
    if (!s || verdicts[o.index]) continue;
    const stored = span(o.at.getTime(), o.intervalSeconds);
    verdicts[o.index] = {
      code: 'SAMPLE_OVERLAPS',
      message: `its interval overlaps a stored sample of the VM (${iso(stored.from)} – ${iso(stored.to)})`,
    };
  }

  // Within the batch: per VM in time order, each span must end before the next begins. The same
  // (vmId, at, interval) twice is one sample sent twice (stored once), not an overlap.
  const byVm = new Map<string, number[]>();
  samples.forEach((s, i) => {
    if (verdicts[i] || !facts.vms.has(s.vmId)) return;
    const list = byVm.get(s.vmId);
    if (list) list.push(i);
    else byVm.set(s.vmId, [i]);
  });
  for (const indexes of byVm.values()) {
    if (indexes.length < 2) continue;
    const ordered = indexes
      .map((i) => ({ i, s: samples[i] as VmSample, atMs: Date.parse((samples[i] as VmSample).at) }))
      .sort((a, b) => a.atMs - b.atMs || a.i - b.i);
    let previous = ordered[0];
    for (const current of ordered.slice(1)) {
      if (!previous) break;
      const resend = current.atMs === previous.atMs && current.s.intervalSeconds === previous.s.intervalSeconds;
      if (!resend && span(current.atMs, current.s.intervalSeconds).from < previous.atMs) {
        verdicts[current.i] = {
          code: 'SAMPLE_OVERLAPS',
          message: `its interval overlaps the batch's sample of the VM ending at ${previous.s.at}`,
        };
        continue; // the refused one is not the next one's neighbour
      }
      previous = current;
    }
  }

  return verdicts.flatMap((v, index) => {
    const s = samples[index];
    return v && s ? [{ index, vmId: s.vmId, at: s.at, code: v.code, message: v.message }] : [];
  });
}
