import type { createManyVmsInput } from '@fabric/core/compute/vm.schema';
import type { z } from 'zod';

export type DiskKind = 'fixed' | 'dynamic' | 'differencing';
export type HaPriority = 'high' | 'medium' | 'low' | 'off';
/** A NIC's minimum bandwidth: none, absolute (Mbps) or a relative weight; the schema allows one of the two. */
export type MinMode = 'none' | 'mbps' | 'weight';

/** What the user typed, as typed: numbers stay strings until the schema reads them. */
export interface DiskDraft {
  /** Stable React key; indexes shift when a disk is removed. */
  key: number;
  name: string;
  sizeGiB: string;
  sector: '512' | '4096';
  kind: DiskKind;
  parent: string;
}

export interface NicDraft {
  key: number;
  name: string;
  network: string;
  minMode: MinMode;
  min: string;
  maxMbps: string;
}

export interface Draft {
  name: string;
  count: string;
  vcpus: string;
  memoryMode: 'static' | 'dynamic';
  memoryGiB: string;
  startupGiB: string;
  minimumGiB: string;
  maximumGiB: string;
  bufferPercent: string;
  weight: string;
  disks: DiskDraft[];
  nics: NicDraft[];
  haPriority: HaPriority;
  tags: string;
  startAfterCreate: boolean;
}

let nextKey = 1;
export const newDisk = (index: number): DiskDraft => ({
  key: nextKey++,
  name: `disk${index}`,
  sizeGiB: index === 0 ? '64' : '128',
  sector: '4096',
  kind: 'dynamic',
  parent: '',
});
export const newNic = (index: number): NicDraft => ({
  key: nextKey++,
  name: `nic${index}`,
  network: 'default',
  minMode: 'none',
  min: '',
  maxMbps: '',
});

export function initialDraft(): Draft {
  return {
    name: '',
    count: '1',
    vcpus: '2',
    memoryMode: 'static',
    memoryGiB: '4',
    startupGiB: '2',
    minimumGiB: '1',
    maximumGiB: '8',
    bufferPercent: '20',
    weight: '5000',
    disks: [newDisk(0)],
    nics: [newNic(0)],
    haPriority: 'medium',
    tags: '',
    startAfterCreate: true,
  };
}

/** A blank field is NaN, which the schema reports as "… is required". */
export function num(value: string): number {
  return value.trim() === '' ? Number.NaN : Number(value);
}
/** Memory is typed in GiB and sent in MiB (whole, as the schema wants). */
export const gibToMiB = (gib: number) => Math.round(gib * 1024);

export function tagsOf(text: string): string[] {
  const tags = text
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  return [...new Set(tags)];
}

/** How many VMs the draft asks for: 1 while the field is not a usable number (its error says why). */
export function countOf(d: Draft, max: number): number {
  const n = num(d.count);
  return Number.isInteger(n) && n >= 1 && n <= max ? n : 1;
}

export type CandidateInput = z.input<typeof createManyVmsInput>;

/** The draft as the API input, unchecked: the schema decides what is wrong with it. */
export function candidateOf(d: Draft): CandidateInput {
  return {
    count: num(d.count),
    vm: {
      name: d.name,
      vcpus: num(d.vcpus),
      memory:
        d.memoryMode === 'static'
          ? { mode: 'static', sizeMiB: gibToMiB(num(d.memoryGiB)) }
          : {
              mode: 'dynamic',
              startupMiB: gibToMiB(num(d.startupGiB)),
              minimumMiB: gibToMiB(num(d.minimumGiB)),
              maximumMiB: gibToMiB(num(d.maximumGiB)),
              bufferPercent: num(d.bufferPercent),
              weight: num(d.weight),
            },
      disks: d.disks.map((disk) => ({
        name: disk.name,
        sizeGiB: num(disk.sizeGiB),
        logicalSectorBytes: disk.sector === '512' ? 512 : 4096,
        kind: disk.kind,
        ...(disk.kind === 'differencing' ? { parent: disk.parent } : {}),
      })),
      nics: d.nics.map((nic) => ({
        name: nic.name,
        network: nic.network,
        ...(nic.minMode === 'mbps' ? { minimumBandwidthMbps: num(nic.min) } : {}),
        ...(nic.minMode === 'weight' ? { minimumBandwidthWeight: num(nic.min) } : {}),
        ...(nic.maxMbps.trim() ? { maximumBandwidthMbps: num(nic.maxMbps) } : {}),
      })),
      haPriority: d.haPriority,
      tags: tagsOf(d.tags),
      startAfterCreate: d.startAfterCreate,
    },
  };
}
