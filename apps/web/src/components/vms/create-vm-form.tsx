'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { AlertTriangle, CheckCircle2, ChevronRight, Plus, Trash2 } from 'lucide-react';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { type FormEvent, type ReactNode, useId, useState } from 'react';
import { Button, buttonClass } from '@/components/ui/button';
import { Card, CardHeader } from '@/components/ui/card';
import { ErrorState, InlineError } from '@/components/ui/error-state';
import { describedBy, Field, Input, Select } from '@/components/ui/input';
import { PageHeader } from '@/components/ui/page-header';
import { Skeleton } from '@/components/ui/skeleton';
import { UsageBar } from '@/components/ui/usage-bar';
import { cn } from '@/lib/cn';
import { errorCode, errorMessage, fieldErrors } from '@/lib/errors';
import { formatBytes, formatCount, formatMiB } from '@/lib/format';
import { useTRPC } from '@/trpc/client';
import type { RouterInputs } from '@/trpc/types';
import type { QuotaAndUsage } from './quota-strip';

type CreateInput = RouterInputs['vms']['create'];
type DiskKind = 'fixed' | 'dynamic' | 'differencing';
type HaPriority = 'high' | 'medium' | 'low' | 'off';
type MinMode = 'none' | 'mbps' | 'weight';

interface DiskDraft {
  key: number;
  name: string;
  sizeGiB: string;
  sector: '512' | '4096';
  kind: DiskKind;
  parent: string;
}

interface NicDraft {
  key: number;
  name: string;
  network: string;
  minMode: MinMode;
  min: string;
  maxMbps: string;
}

interface Draft {
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

const GiB = 1024 ** 3;
// Hyper-V limits the server enforces too (core shared/limits.ts): 64 vCPUs, 1 TB memory, 64 TB per VHDX.
const MAX_VCPUS = 64;
const MAX_MEMORY_MIB = 1024 * 1024;
const MAX_DISK_GIB = 64 * 1024;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const MAX_COUNT = 100;

/** How many VMs the draft asks for: 1 unless a whole number of 2–100 is given. */
function countOf(d: Draft): number {
  const n = num(d.count);
  return Number.isInteger(n) && n >= 1 && n <= MAX_COUNT ? n : 1;
}

/** The names vms.createMany gives a tier, like core: `<name>-01` … (3 digits for 100). */
function tierName(name: string, index: number, count: number): string {
  const width = Math.max(2, String(count).length);
  return `${name}-${String(index).padStart(width, '0')}`;
}

let nextKey = 1;
const newDisk = (index: number): DiskDraft => ({
  key: nextKey++,
  name: `disk${index}`,
  sizeGiB: index === 0 ? '64' : '128',
  sector: '4096',
  kind: 'dynamic',
  parent: '',
});
const newNic = (index: number): NicDraft => ({
  key: nextKey++,
  name: `nic${index}`,
  network: 'default',
  minMode: 'none',
  min: '',
  maxMbps: '',
});

const INITIAL: Draft = {
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
  disks: [],
  nics: [],
  haPriority: 'medium',
  tags: '',
  startAfterCreate: true,
};

function num(value: string): number {
  return value.trim() === '' ? Number.NaN : Number(value);
}
const gibToMiB = (gib: number) => Math.round(gib * 1024);

type Errors = Record<string, string>;

/** The same rules as core's createVmInput, phrased for the field they belong to. */
function validate(d: Draft): Errors {
  const e: Errors = {};
  const name = d.name.trim();
  if (!name) e.name = 'VM name is required';
  else if (name.length > 64) e.name = 'VM name must be at most 64 characters';
  else if (!NAME_RE.test(name))
    e.name = 'Use letters, digits, dots, hyphens and underscores; start with a letter or digit';

  const count = num(d.count);
  if (!Number.isInteger(count)) e.count = 'Enter a whole number of VMs';
  else if (count < 1 || count > MAX_COUNT) e.count = `Create 1–${MAX_COUNT} VMs at once`;
  else if (count > 1 && !e.name && tierName(name, count, count).length > 64)
    e.name = `With the -${String(count).padStart(Math.max(2, String(count).length), '0')} suffix the name passes 64 characters`;

  const vcpus = num(d.vcpus);
  if (!Number.isInteger(vcpus)) e.vcpus = 'vCPUs must be a whole number';
  else if (vcpus < 1 || vcpus > MAX_VCPUS) e.vcpus = 'A VM has 1–64 vCPUs (Hyper-V limit)';

  const memory = (key: string, label: string, gib: string) => {
    const mib = gibToMiB(num(gib));
    if (!Number.isFinite(mib)) e[key] = `${label} is required`;
    else if (mib < 32) e[key] = `${label} must be at least 32 MiB`;
    else if (mib > MAX_MEMORY_MIB) e[key] = `${label} must be at most 1 TB (Hyper-V limit)`;
    return mib;
  };
  if (d.memoryMode === 'static') {
    memory('memoryGiB', 'Memory', d.memoryGiB);
  } else {
    const startup = memory('startupGiB', 'Startup memory', d.startupGiB);
    const minimum = memory('minimumGiB', 'Minimum memory', d.minimumGiB);
    const maximum = memory('maximumGiB', 'Maximum memory', d.maximumGiB);
    if (!e.minimumGiB && !e.startupGiB && minimum > startup) e.minimumGiB = 'Minimum must not exceed startup memory';
    if (!e.maximumGiB && !e.startupGiB && startup > maximum) e.maximumGiB = 'Maximum must be at least startup memory';
    const buffer = num(d.bufferPercent);
    if (!Number.isInteger(buffer) || buffer < 5 || buffer > 2000) e.bufferPercent = 'Buffer is 5–2000 %';
    const weight = num(d.weight);
    if (!Number.isInteger(weight) || weight < 0 || weight > 10000) e.weight = 'Weight is 0–10000';
  }

  if (d.disks.length === 0) e.disks = 'A VM needs at least one disk';
  const diskNames = new Set<string>();
  d.disks.forEach((disk, i) => {
    const dn = disk.name.trim();
    if (!dn) e[`disk.${i}.name`] = 'Name is required';
    else if (diskNames.has(dn)) e[`disk.${i}.name`] = 'Disk names must be unique';
    diskNames.add(dn);
    const size = num(disk.sizeGiB);
    if (!Number.isFinite(size) || size <= 0) e[`disk.${i}.size`] = 'Size must be positive';
    else if (size > MAX_DISK_GIB) e[`disk.${i}.size`] = 'A VHDX is at most 64 TB';
    if (disk.kind === 'differencing') {
      if (!disk.parent) e[`disk.${i}.parent`] = 'Choose the parent disk';
      else if (disk.parent === dn) e[`disk.${i}.parent`] = 'A disk cannot be its own parent';
      else if (!d.disks.some((p) => p.name.trim() === disk.parent)) e[`disk.${i}.parent`] = 'The parent disk is gone';
    }
  });

  const nicNames = new Set<string>();
  d.nics.forEach((nic, i) => {
    const nn = nic.name.trim();
    if (!nn) e[`nic.${i}.name`] = 'Name is required';
    else if (nicNames.has(nn)) e[`nic.${i}.name`] = 'Adapter names must be unique';
    nicNames.add(nn);
    if (!nic.network.trim()) e[`nic.${i}.network`] = 'Network is required';
    const min = num(nic.min);
    if (nic.minMode === 'mbps' && (!Number.isInteger(min) || min < 1 || min > 1_000_000))
      e[`nic.${i}.min`] = 'Whole Mbps, 1–1,000,000';
    if (nic.minMode === 'weight' && (!Number.isInteger(min) || min < 1 || min > 100))
      e[`nic.${i}.min`] = 'Weight is 1–100';
    if (nic.maxMbps.trim()) {
      const max = num(nic.maxMbps);
      if (!Number.isInteger(max) || max < 1 || max > 1_000_000) e[`nic.${i}.max`] = 'Whole Mbps, 1–1,000,000';
      else if (nic.minMode === 'mbps' && Number.isInteger(min) && min > max)
        e[`nic.${i}.max`] = 'Maximum must be at least the minimum';
    }
  });
  if (d.nics.length > 12) e.nics = 'At most 12 network adapters per VM';

  const tags = tagsOf(d.tags);
  if (tags.length > 20) e.tags = 'At most 20 tags';
  else if (tags.some((t) => t.length > 32)) e.tags = 'A tag is at most 32 characters';
  return e;
}

function tagsOf(text: string): string[] {
  return [
    ...new Set(
      text
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
    ),
  ];
}

function toInput(d: Draft): CreateInput {
  return {
    name: d.name.trim(),
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
      name: disk.name.trim(),
      sizeGiB: num(disk.sizeGiB),
      logicalSectorBytes: disk.sector === '512' ? 512 : 4096,
      kind: disk.kind,
      ...(disk.kind === 'differencing' ? { parent: disk.parent } : {}),
    })),
    nics: d.nics.map((nic) => ({
      name: nic.name.trim(),
      network: nic.network.trim(),
      ...(nic.minMode === 'mbps' ? { minimumBandwidthMbps: num(nic.min) } : {}),
      ...(nic.minMode === 'weight' ? { minimumBandwidthWeight: num(nic.min) } : {}),
      ...(nic.maxMbps.trim() ? { maximumBandwidthMbps: num(nic.maxMbps) } : {}),
    })),
    haPriority: d.haPriority,
    tags: tagsOf(d.tags),
    startAfterCreate: d.startAfterCreate,
  };
}

/** What the VM takes from the quota: startup memory for Dynamic Memory, like core's demandOf. */
function demandOf(d: Draft) {
  const vcpus = Math.max(0, Number.isFinite(num(d.vcpus)) ? num(d.vcpus) : 0);
  const mem = gibToMiB(num(d.memoryMode === 'static' ? d.memoryGiB : d.startupGiB));
  const storage = d.disks.reduce((sum, disk) => {
    const size = num(disk.sizeGiB);
    return sum + (Number.isFinite(size) && size > 0 ? Math.round(size * GiB) : 0);
  }, 0);
  return { vcpus, memoryMiB: Number.isFinite(mem) ? mem : 0, storageBytes: storage };
}

interface Headroom {
  label: string;
  needs: number;
  used: number;
  max: number;
  format: (n: number) => string;
  unit: string;
}

function headroomOf(q: QuotaAndUsage, d: Draft): Headroom[] {
  const count = countOf(d);
  const one = demandOf(d);
  const need = { vcpus: one.vcpus * count, memoryMiB: one.memoryMiB * count, storageBytes: one.storageBytes * count };
  const rows: Headroom[] = [
    { label: 'VMs', needs: count, used: q.usage.vms, max: q.quota.maxVms, format: formatCount, unit: 'VMs' },
    {
      label: 'vCPUs',
      needs: need.vcpus,
      used: q.usage.vcpus,
      max: q.quota.maxVcpus,
      format: formatCount,
      unit: 'vCPUs',
    },
    {
      label: 'Memory',
      needs: need.memoryMiB,
      used: q.usage.memoryMiB,
      max: q.quota.maxMemoryMiB,
      format: formatMiB,
      unit: 'memory',
    },
    {
      label: 'Storage',
      needs: need.storageBytes,
      used: q.usage.storageBytes,
      max: q.quota.maxStorageBytes,
      format: formatBytes,
      unit: 'storage',
    },
  ];
  if (d.startAfterCreate) {
    rows.push(
      {
        label: 'Running VMs',
        needs: count,
        used: q.usage.runningVms,
        max: q.quota.maxRunningVms,
        format: formatCount,
        unit: 'running VMs',
      },
      {
        label: 'Running vCPUs',
        needs: need.vcpus,
        used: q.usage.runningVcpus,
        max: q.quota.maxRunningVcpus,
        format: formatCount,
        unit: 'running vCPUs',
      },
      {
        label: 'Running memory',
        needs: need.memoryMiB,
        used: q.usage.runningMemoryMiB,
        max: q.quota.maxRunningMemoryMiB,
        format: formatMiB,
        unit: 'running memory',
      },
    );
  }
  return rows;
}

function overQuota(h: Headroom): boolean {
  return h.used + h.needs > h.max;
}

function headroomSentence(h: Headroom, count: number): string {
  const remaining = Math.max(0, h.max - h.used);
  const subject = count > 1 ? `these ${formatCount(count)} VMs` : 'this VM';
  if (h.unit.endsWith('VMs')) {
    if (count > 1) {
      return overQuota(h)
        ? `${subject} need ${h.format(h.needs)} ${h.unit}, only ${h.format(remaining)} remain`
        : `${subject} take ${h.format(h.needs)} of your ${h.format(remaining)} remaining ${h.unit}`;
    }
    return overQuota(h)
      ? `No ${h.unit} left: ${h.format(h.used)} of ${h.format(h.max)} in use`
      : `this VM is 1 of your ${h.format(remaining)} remaining ${h.unit}`;
  }
  return overQuota(h)
    ? `${subject} ${count > 1 ? 'need' : 'needs'} ${h.format(h.needs)} ${h.unit}, only ${h.format(remaining)} remain`
    : `${subject} ${count > 1 ? 'use' : 'uses'} ${h.format(h.needs)} of your ${h.format(remaining)} remaining ${h.unit}`;
}

// Server field errors shown beside their section; any other goes to the banner.
const SHOWN_SERVER_FIELDS = new Set(['name', 'vcpus', 'memory', 'disks', 'nics', 'tags', 'count']);

export function CreateVmForm() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const router = useRouter();
  const quota = useQuery(trpc.vms.myQuota.queryOptions());
  const [draft, setDraft] = useState<Draft>(() => ({ ...INITIAL, disks: [newDisk(0)], nics: [newNic(0)] }));
  const [touched, setTouched] = useState<ReadonlySet<string>>(new Set());
  const [attempted, setAttempted] = useState(false);
  const [lastUsed, setLastUsed] = useState<'one' | 'many'>('one');

  async function refreshAfterCreate() {
    await Promise.all([
      queryClient.invalidateQueries(trpc.vms.list.queryFilter()),
      queryClient.invalidateQueries(trpc.vms.myQuota.queryFilter()),
    ]);
  }
  const createOne = useMutation(
    trpc.vms.create.mutationOptions({
      onSuccess: async (result) => {
        await refreshAfterCreate();
        router.push(`/portal/vms/${result.vm.id}`);
      },
    }),
  );
  // A tier: all placed or none; the list then opens filtered to the new names.
  const createMany = useMutation(
    trpc.vms.createMany.mutationOptions({
      onSuccess: async (_, input) => {
        await refreshAfterCreate();
        router.push(`/portal/vms?q=${encodeURIComponent(`${input.vm.name}-`)}`);
      },
    }),
  );
  const count = countOf(draft);
  const tier = count > 1;
  // The one that ran last, so its error (or pending state) is what the form shows.
  const create = lastUsed === 'many' ? createMany : createOne;

  const errors = validate(draft);
  const shown = (key: string): string | undefined =>
    attempted || touched.has(key) || touched.has(key.split('.')[0] ?? key) ? errors[key] : undefined;
  const touch = (key: string) => () => setTouched((old) => (old.has(key) ? old : new Set(old).add(key)));

  // Server answers: zod field errors go to their section; a duplicate name to the name; quota and placement to a banner.
  const serverFields = create.isError ? fieldErrors(create.error) : {};
  const code = create.isError ? errorCode(create.error) : undefined;
  const serverName = code === 'CONFLICT' ? errorMessage(create.error) : serverFields.name;
  const banner =
    create.isError && code !== 'CONFLICT' && !Object.keys(serverFields).some((k) => SHOWN_SERVER_FIELDS.has(k))
      ? errorMessage(create.error)
      : null;

  const headroom = quota.data ? headroomOf(quota.data, draft) : [];
  const blocked = headroom.filter(overQuota);
  const invalid = Object.keys(errors).length > 0;

  function set<K extends keyof Draft>(key: K, value: Draft[K]) {
    setDraft((old) => ({ ...old, [key]: value }));
    if (create.isError) create.reset();
  }
  function setDisk(i: number, patch: Partial<DiskDraft>) {
    set(
      'disks',
      draft.disks.map((d, j) => (j === i ? { ...d, ...patch } : d)),
    );
  }
  function setNic(i: number, patch: Partial<NicDraft>) {
    set(
      'nics',
      draft.nics.map((n, j) => (j === i ? { ...n, ...patch } : n)),
    );
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    setAttempted(true);
    if (invalid || blocked.length > 0 || create.isPending) {
      // Take the keyboard to the first problem.
      const first = document.querySelector<HTMLElement>('[aria-invalid="true"]');
      first?.focus();
      return;
    }
    const input = toInput(draft);
    if (tier) {
      setLastUsed('many');
      createMany.mutate({ vm: input, count });
    } else {
      setLastUsed('one');
      createOne.mutate(input);
    }
  }

  const breadcrumb = (
    <nav aria-label="Breadcrumb" className="flex items-center gap-1">
      <Link href="/portal/vms" className="hover:text-fg hover:underline">
        Virtual machines
      </Link>
      <ChevronRight className="size-3.5" aria-hidden="true" />
      <span aria-current="page" className="text-fg">
        New
      </span>
    </nav>
  );

  const reason = create.isPending
    ? null
    : invalid && attempted
      ? `Fix ${Object.keys(errors).length} field${Object.keys(errors).length === 1 ? '' : 's'} above`
      : blocked.length > 0
        ? `Over quota: ${blocked.map((h) => headroomSentence(h, count)).join('; ')}`
        : null;

  return (
    <>
      <PageHeader
        breadcrumb={breadcrumb}
        title="New virtual machine"
        description="Fabric checks your quota, then places the VM on the host that fits it best."
      />
      <form onSubmit={submit} noValidate className="grid grid-cols-1 gap-5 xl:grid-cols-3" aria-label="Create a VM">
        <div className="flex flex-col gap-5 xl:col-span-2">
          {banner ? (
            <div data-testid="create-error">
              <InlineError>{banner}</InlineError>
            </div>
          ) : null}

          <Section title="Basics" description="Name, how many and processors">
            <div className="grid grid-cols-1 gap-4 sm:grid-cols-[minmax(0,2fr)_minmax(0,1fr)_minmax(0,1fr)]">
              <Field
                label="Name"
                htmlFor="vm-name"
                error={shown('name') ?? serverName}
                hint={tier ? 'The prefix: each VM gets -01, -02 … after it' : 'Unique in your tenant'}
              >
                <Input
                  {...describedBy('vm-name', shown('name') ?? serverName, true)}
                  value={draft.name}
                  onChange={(e) => set('name', e.target.value)}
                  onBlur={touch('name')}
                  placeholder={tier ? 'web' : 'web-01'}
                  maxLength={64}
                  autoComplete="off"
                  autoFocus
                />
              </Field>
              <Field
                label="How many"
                htmlFor="vm-count"
                error={shown('count') ?? serverFields.count}
                hint={tier ? 'All placed, or none' : `1–${MAX_COUNT} identical VMs`}
              >
                <Input
                  {...describedBy('vm-count', shown('count') ?? serverFields.count, true)}
                  type="number"
                  inputMode="numeric"
                  min={1}
                  max={MAX_COUNT}
                  step={1}
                  value={draft.count}
                  onChange={(e) => set('count', e.target.value)}
                  onBlur={touch('count')}
                  className="tabular"
                />
              </Field>
              <Field label="vCPUs" htmlFor="vm-vcpus" error={shown('vcpus') ?? serverFields.vcpus} hint="1–64">
                <Input
                  {...describedBy('vm-vcpus', shown('vcpus') ?? serverFields.vcpus, true)}
                  type="number"
                  inputMode="numeric"
                  min={1}
                  max={MAX_VCPUS}
                  value={draft.vcpus}
                  onChange={(e) => set('vcpus', e.target.value)}
                  onBlur={touch('vcpus')}
                />
              </Field>
            </div>
            {tier ? <TierNames name={draft.name.trim()} count={count} /> : null}
          </Section>

          <Section
            title="Memory"
            description="Static memory, or Dynamic Memory that grows and shrinks with the guest's demand"
          >
            {serverFields.memory ? <InlineError>{serverFields.memory}</InlineError> : null}
            <fieldset className="mb-4">
              <legend className="sr-only">Memory mode</legend>
              <div className="inline-flex rounded-md border border-border-strong p-0.5">
                {(['static', 'dynamic'] as const).map((mode) => (
                  <label
                    key={mode}
                    className={cn(
                      'cursor-pointer rounded px-3 py-1 text-[12.5px] font-medium has-focus-visible:outline-2 has-focus-visible:outline-ring',
                      draft.memoryMode === mode ? 'bg-fg text-bg' : 'text-muted hover:text-fg',
                    )}
                  >
                    <input
                      type="radio"
                      name="memory-mode"
                      value={mode}
                      checked={draft.memoryMode === mode}
                      onChange={() => set('memoryMode', mode)}
                      className="sr-only"
                    />
                    {mode === 'static' ? 'Static' : 'Dynamic Memory'}
                  </label>
                ))}
              </div>
            </fieldset>
            {draft.memoryMode === 'static' ? (
              <div className="grid grid-cols-1 gap-4 sm:grid-cols-2">
                <GiBField
                  id="mem-size"
                  label="Memory"
                  k="memoryGiB"
                  draft={draft}
                  set={set}
                  shown={shown}
                  touch={touch}
                />
              </div>
            ) : (
              <div className="grid grid-cols-1 gap-4 sm:grid-cols-3">
                <GiBField
                  id="mem-startup"
                  label="Startup"
                  k="startupGiB"
                  draft={draft}
                  set={set}
                  shown={shown}
                  touch={touch}
                  hint="Reserved on the host at boot"
                />
                <GiBField
                  id="mem-min"
                  label="Minimum"
                  k="minimumGiB"
                  draft={draft}
                  set={set}
                  shown={shown}
                  touch={touch}
                />
                <GiBField
                  id="mem-max"
                  label="Maximum"
                  k="maximumGiB"
                  draft={draft}
                  set={set}
                  shown={shown}
                  touch={touch}
                />
                <Field label="Buffer (%)" htmlFor="mem-buffer" error={shown('bufferPercent')} hint="5–2000 %">
                  <Input
                    {...describedBy('mem-buffer', shown('bufferPercent'), true)}
                    type="number"
                    min={5}
                    max={2000}
                    value={draft.bufferPercent}
                    onChange={(e) => set('bufferPercent', e.target.value)}
                    onBlur={touch('bufferPercent')}
                  />
                </Field>
                <Field
                  label="Weight"
                  htmlFor="mem-weight"
                  error={shown('weight')}
                  hint="0–10000; who gets memory first"
                >
                  <Input
                    {...describedBy('mem-weight', shown('weight'), true)}
                    type="number"
                    min={0}
                    max={10000}
                    step={100}
                    value={draft.weight}
                    onChange={(e) => set('weight', e.target.value)}
                    onBlur={touch('weight')}
                  />
                </Field>
              </div>
            )}
          </Section>

          <Section
            title="Disks"
            description="VHDX disks; a differencing disk records changes over a parent disk"
            action={
              <Button
                size="sm"
                icon={<Plus />}
                onClick={() => set('disks', [...draft.disks, newDisk(draft.disks.length)])}
                disabled={draft.disks.length >= 64}
              >
                Add disk
              </Button>
            }
          >
            {errors.disks && (attempted || draft.disks.length === 0) ? <InlineError>{errors.disks}</InlineError> : null}
            {serverFields.disks ? <InlineError>{serverFields.disks}</InlineError> : null}
            <div className="flex flex-col divide-y divide-border">
              {draft.disks.map((disk, i) => {
                const parents = draft.disks.filter((p, j) => j !== i && p.name.trim());
                return (
                  <fieldset
                    key={disk.key}
                    className="grid grid-cols-2 items-start gap-3 py-3 first:pt-0 last:pb-0 sm:grid-cols-[1fr_1fr_1fr_1fr_auto]"
                  >
                    <legend className="sr-only">Disk {i + 1}</legend>
                    <Field label="Name" htmlFor={`disk-${disk.key}-name`} error={shown(`disk.${i}.name`)}>
                      <Input
                        {...describedBy(`disk-${disk.key}-name`, shown(`disk.${i}.name`))}
                        value={disk.name}
                        onChange={(e) => setDisk(i, { name: e.target.value })}
                        onBlur={touch(`disk.${i}.name`)}
                        className="font-mono"
                      />
                    </Field>
                    <Field label="Size (GiB)" htmlFor={`disk-${disk.key}-size`} error={shown(`disk.${i}.size`)}>
                      <Input
                        {...describedBy(`disk-${disk.key}-size`, shown(`disk.${i}.size`))}
                        type="number"
                        min={1}
                        value={disk.sizeGiB}
                        onChange={(e) => setDisk(i, { sizeGiB: e.target.value })}
                        onBlur={touch(`disk.${i}.size`)}
                      />
                    </Field>
                    <Field label="Type" htmlFor={`disk-${disk.key}-kind`}>
                      <Select
                        id={`disk-${disk.key}-kind`}
                        value={disk.kind}
                        onChange={(e) => {
                          const kind =
                            (['fixed', 'dynamic', 'differencing'] as const).find((k) => k === e.target.value) ??
                            'dynamic';
                          setDisk(i, { kind, parent: kind === 'differencing' ? (parents[0]?.name.trim() ?? '') : '' });
                        }}
                      >
                        <option value="dynamic">Dynamically expanding</option>
                        <option value="fixed">Fixed size</option>
                        <option value="differencing">Differencing</option>
                      </Select>
                    </Field>
                    {disk.kind === 'differencing' ? (
                      <Field
                        label="Parent"
                        htmlFor={`disk-${disk.key}-parent`}
                        error={shown(`disk.${i}.parent`) ?? (attempted ? undefined : errors[`disk.${i}.parent`])}
                      >
                        <Select
                          {...describedBy(`disk-${disk.key}-parent`, errors[`disk.${i}.parent`])}
                          value={disk.parent}
                          onChange={(e) => setDisk(i, { parent: e.target.value })}
                        >
                          <option value="">Choose…</option>
                          {parents.map((p) => (
                            <option key={p.key} value={p.name.trim()}>
                              {p.name.trim()}
                            </option>
                          ))}
                        </Select>
                      </Field>
                    ) : (
                      <Field label="Sector size" htmlFor={`disk-${disk.key}-sector`}>
                        <Select
                          id={`disk-${disk.key}-sector`}
                          value={disk.sector}
                          onChange={(e) => setDisk(i, { sector: e.target.value === '512' ? '512' : '4096' })}
                        >
                          <option value="4096">4,096 B (4K native)</option>
                          <option value="512">512 B (legacy)</option>
                        </Select>
                      </Field>
                    )}
                    <div className="flex h-full items-end pb-0.5">
                      <Button
                        size="sm"
                        variant="ghost"
                        aria-label={`Remove disk ${disk.name || i + 1}`}
                        icon={<Trash2 />}
                        onClick={() =>
                          set(
                            'disks',
                            draft.disks.filter((_, j) => j !== i),
                          )
                        }
                      />
                    </div>
                  </fieldset>
                );
              })}
            </div>
          </Section>

          <Section
            title="Network adapters"
            description="A minimum bandwidth is either absolute (Mbps, reserved on the host) or a relative weight"
            action={
              <Button
                size="sm"
                icon={<Plus />}
                onClick={() => set('nics', [...draft.nics, newNic(draft.nics.length)])}
                disabled={draft.nics.length >= 12}
              >
                Add adapter
              </Button>
            }
          >
            {serverFields.nics ? <InlineError>{serverFields.nics}</InlineError> : null}
            {draft.nics.length === 0 ? (
              <p className="text-[12.5px] text-muted">No network adapters: the VM will have no network.</p>
            ) : null}
            <div className="flex flex-col divide-y divide-border">
              {draft.nics.map((nic, i) => (
                <fieldset
                  key={nic.key}
                  className="grid grid-cols-2 items-start gap-3 py-3 first:pt-0 last:pb-0 sm:grid-cols-[1fr_1fr_1.4fr_1fr_auto]"
                >
                  <legend className="sr-only">Network adapter {i + 1}</legend>
                  <Field label="Name" htmlFor={`nic-${nic.key}-name`} error={shown(`nic.${i}.name`)}>
                    <Input
                      {...describedBy(`nic-${nic.key}-name`, shown(`nic.${i}.name`))}
                      value={nic.name}
                      onChange={(e) => setNic(i, { name: e.target.value })}
                      onBlur={touch(`nic.${i}.name`)}
                      className="font-mono"
                    />
                  </Field>
                  <Field label="Network" htmlFor={`nic-${nic.key}-network`} error={shown(`nic.${i}.network`)}>
                    <Input
                      {...describedBy(`nic-${nic.key}-network`, shown(`nic.${i}.network`))}
                      value={nic.network}
                      onChange={(e) => setNic(i, { network: e.target.value })}
                      onBlur={touch(`nic.${i}.network`)}
                    />
                  </Field>
                  <Field label="Minimum bandwidth" htmlFor={`nic-${nic.key}-min`} error={shown(`nic.${i}.min`)}>
                    <div className="flex gap-1.5">
                      <Select
                        aria-label="Minimum bandwidth kind"
                        value={nic.minMode}
                        onChange={(e) =>
                          setNic(i, {
                            minMode: (['none', 'mbps', 'weight'] as const).find((m) => m === e.target.value) ?? 'none',
                            min: '',
                          })
                        }
                        className="w-24"
                      >
                        <option value="none">None</option>
                        <option value="mbps">Mbps</option>
                        <option value="weight">Weight</option>
                      </Select>
                      <Input
                        {...describedBy(`nic-${nic.key}-min`, shown(`nic.${i}.min`))}
                        type="number"
                        min={1}
                        disabled={nic.minMode === 'none'}
                        placeholder={nic.minMode === 'weight' ? '1–100' : nic.minMode === 'mbps' ? 'Mbps' : '—'}
                        value={nic.min}
                        onChange={(e) => setNic(i, { min: e.target.value })}
                        onBlur={touch(`nic.${i}.min`)}
                      />
                    </div>
                  </Field>
                  <Field label="Maximum (Mbps)" htmlFor={`nic-${nic.key}-max`} error={shown(`nic.${i}.max`)}>
                    <Input
                      {...describedBy(`nic-${nic.key}-max`, shown(`nic.${i}.max`))}
                      type="number"
                      min={1}
                      placeholder="no limit"
                      value={nic.maxMbps}
                      onChange={(e) => setNic(i, { maxMbps: e.target.value })}
                      onBlur={touch(`nic.${i}.max`)}
                    />
                  </Field>
                  <div className="flex h-full items-end pb-0.5">
                    <Button
                      size="sm"
                      variant="ghost"
                      aria-label={`Remove adapter ${nic.name || i + 1}`}
                      icon={<Trash2 />}
                      onClick={() =>
                        set(
                          'nics',
                          draft.nics.filter((_, j) => j !== i),
                        )
                      }
                    />
                  </div>
                </fieldset>
              ))}
            </div>
          </Section>

          <Section title="Availability and labels">
            <div className="grid grid-cols-1 gap-4 sm:grid-cols-2">
              <Field label="HA priority" htmlFor="vm-ha" hint="Who restarts first when a host fails; off stays down">
                <Select
                  {...describedBy('vm-ha', undefined, true)}
                  value={draft.haPriority}
                  onChange={(e) =>
                    set(
                      'haPriority',
                      (['high', 'medium', 'low', 'off'] as const).find((p) => p === e.target.value) ?? 'medium',
                    )
                  }
                >
                  <option value="high">High</option>
                  <option value="medium">Medium</option>
                  <option value="low">Low</option>
                  <option value="off">Off (no restart)</option>
                </Select>
              </Field>
              <Field
                label="Tags"
                htmlFor="vm-tags"
                error={shown('tags') ?? serverFields.tags}
                hint="Comma-separated, e.g. web, prod"
              >
                <Input
                  {...describedBy('vm-tags', shown('tags') ?? serverFields.tags, true)}
                  value={draft.tags}
                  onChange={(e) => set('tags', e.target.value)}
                  onBlur={touch('tags')}
                  placeholder="web, prod"
                />
              </Field>
            </div>
            <label className="mt-4 flex items-center gap-2 text-[13px]">
              <input
                type="checkbox"
                checked={draft.startAfterCreate}
                onChange={(e) => set('startAfterCreate', e.target.checked)}
                className="size-3.5 accent-[var(--color-accent)]"
              />
              Start after create
              <span className="text-muted">(counts against your running quota too)</span>
            </label>
          </Section>
        </div>

        <div className="xl:sticky xl:top-16 xl:self-start">
          <Card>
            <CardHeader
              title="Quota headroom"
              description={
                tier
                  ? `What these ${formatCount(count)} VMs take from what your tenant has left`
                  : 'What this VM takes from what your tenant has left'
              }
            />
            <div className="p-4">
              {quota.isPending ? (
                <div role="status" aria-label="Loading quota" className="flex flex-col gap-3">
                  {[0, 1, 2, 3].map((i) => (
                    <Skeleton key={i} className="h-8" />
                  ))}
                </div>
              ) : quota.isError ? (
                <ErrorState
                  error={quota.error}
                  title="Could not load your quota"
                  onRetry={() => void quota.refetch()}
                  retrying={quota.isFetching}
                  className="py-4"
                />
              ) : (
                <ul className="flex flex-col gap-3" data-testid="quota-headroom">
                  {headroom.map((h) => (
                    <HeadroomRow key={h.label} h={h} count={count} />
                  ))}
                </ul>
              )}
            </div>
            <div className="flex flex-col gap-2 border-t border-border bg-surface-2/60 px-4 py-3">
              {reason ? (
                <p id="submit-reason" role="status" className="flex items-start gap-1.5 text-[12.5px] text-danger">
                  <AlertTriangle className="mt-0.5 size-3.5 shrink-0" aria-hidden="true" />
                  {reason}
                </p>
              ) : null}
              <div className="flex items-center justify-end gap-2">
                <Link href="/portal/vms" className={buttonClass('secondary')}>
                  Cancel
                </Link>
                <Button
                  type="submit"
                  variant="primary"
                  loading={create.isPending}
                  disabled={blocked.length > 0 || quota.isPending}
                  aria-describedby={reason ? 'submit-reason' : undefined}
                >
                  {tier ? `Create ${formatCount(count)} VMs` : 'Create VM'}
                </Button>
              </div>
            </div>
          </Card>
        </div>
      </form>
    </>
  );
}

/** The names a tier gets, shown before it is created: "web-01 … web-05". */
function TierNames({ name, count }: { name: string; count: number }) {
  const valid = name !== '' && NAME_RE.test(name);
  const shown = valid ? name : 'name';
  const first = tierName(shown, 1, count);
  const last = tierName(shown, count, count);
  return (
    <p
      className="flex flex-wrap items-baseline gap-x-1.5 rounded-md bg-surface-2 px-3 py-2 text-[12.5px] text-muted"
      data-testid="tier-names"
      aria-live="polite"
    >
      <span>Creates {formatCount(count)} VMs:</span>
      <span className={cn('font-mono text-[12px]', valid ? 'text-fg' : 'text-subtle')}>
        {count === 2 ? `${first}, ${last}` : `${first} … ${last}`}
      </span>
    </p>
  );
}

function HeadroomRow({ h, count }: { h: Headroom; count: number }) {
  const over = overQuota(h);
  const after = h.used + h.needs;
  return (
    <li>
      <div className="flex items-center justify-between gap-2 text-[12.5px]">
        <span className="font-medium text-fg">{h.label}</span>
        <span className={cn('tabular', over ? 'text-danger' : 'text-muted')}>
          {h.format(after)} / {h.format(h.max)}
        </span>
      </div>
      <UsageBar
        used={after}
        capacity={h.max}
        label={`${h.label} after ${count > 1 ? 'these VMs' : 'this VM'}`}
        size="sm"
        className="mt-1"
      />
      <p className={cn('mt-1 flex items-start gap-1 text-[11.5px]', over ? 'text-danger' : 'text-muted')}>
        {over ? (
          <AlertTriangle className="mt-px size-3 shrink-0" aria-hidden="true" />
        ) : (
          <CheckCircle2 className="mt-px size-3 shrink-0 text-emerald-500" aria-hidden="true" />
        )}
        <span className="first-letter:uppercase">{headroomSentence(h, count)}</span>
      </p>
    </li>
  );
}

function Section({
  title,
  description,
  action,
  children,
}: {
  title: string;
  description?: string;
  action?: ReactNode;
  children: ReactNode;
}) {
  const id = useId();
  return (
    <Card role="group" aria-labelledby={id}>
      <CardHeader id={id} title={title} description={description} actions={action} />
      <div className="flex flex-col gap-3 p-4">{children}</div>
    </Card>
  );
}

type GiBKey = 'memoryGiB' | 'startupGiB' | 'minimumGiB' | 'maximumGiB';

function GiBField({
  id,
  label,
  k,
  draft,
  set,
  shown,
  touch,
  hint,
}: {
  id: string;
  label: string;
  k: GiBKey;
  draft: Draft;
  set: (key: GiBKey, value: string) => void;
  shown: (key: string) => string | undefined;
  touch: (key: string) => () => void;
  hint?: string;
}) {
  const value = num(draft[k]);
  const mib = Number.isFinite(value) ? gibToMiB(value) : null;
  const help = hint ?? (mib !== null && mib > 0 ? `${formatCount(mib)} MiB` : '32 MiB – 1 TB');
  return (
    <Field label={`${label} (GiB)`} htmlFor={id} error={shown(k)} hint={help}>
      <Input
        {...describedBy(id, shown(k), true)}
        type="number"
        min={0.03125}
        step={0.5}
        value={draft[k]}
        onChange={(e) => set(k, e.target.value)}
        onBlur={touch(k)}
      />
    </Field>
  );
}
