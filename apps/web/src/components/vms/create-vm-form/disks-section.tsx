import { VHDX_MAX_BYTES, VM_INPUT_LIMITS } from '@fabric/core/compute/vm.schema';
import { Plus, Trash2 } from 'lucide-react';
import { Button } from '@/components/ui/button';
import { InlineError } from '@/components/ui/error-state';
import { describedBy, Field, Input, Select } from '@/components/ui/input';
import { formatBytes } from '@/lib/format';
import { type DiskDraft, type DiskKind, newDisk } from './draft';
import { FormSection, type SectionProps } from './form-section';

const KINDS: readonly DiskKind[] = ['dynamic', 'fixed', 'differencing'];
const KIND_LABEL: Record<DiskKind, string> = { dynamic: 'Dynamic', fixed: 'Fixed', differencing: 'Differencing' };

/** VHDX disks: at least one, each with a unique name; a differencing disk names its parent. */
export function DisksSection({ draft, update, errorOf, touch }: SectionProps) {
  const { disks } = draft;
  const setDisk = (i: number, patch: Partial<DiskDraft>) =>
    update({ disks: disks.map((d, j) => (j === i ? { ...d, ...patch } : d)) });
  const listError = errorOf('disks');
  return (
    <FormSection
      title="Disks"
      description="Dynamic disks grow as the guest writes, fixed ones are allocated at once; a differencing disk records changes over a parent disk"
      action={
        <Button
          size="sm"
          icon={<Plus />}
          onClick={() => update({ disks: [...disks, newDisk(disks.length)] })}
          disabled={disks.length >= VM_INPUT_LIMITS.disksPerVm}
        >
          Add disk
        </Button>
      }
    >
      {listError ? <InlineError>{listError}</InlineError> : null}
      <div className="flex flex-col divide-y divide-border">
        {disks.map((disk, i) => {
          const id = (field: string) => `disk-${disk.key}-${field}`;
          const nameError = errorOf(`disks.${i}.name`);
          const sizeError = errorOf(`disks.${i}.sizeGiB`);
          const parentError = errorOf(`disks.${i}.parent`);
          const parents = disks.filter((p, j) => j !== i && p.name.trim());
          return (
            <fieldset
              key={disk.key}
              className="grid grid-cols-2 items-start gap-3 py-3 first:pt-0 last:pb-0 sm:grid-cols-[minmax(0,1fr)_minmax(0,0.8fr)_minmax(0,1fr)_minmax(0,1fr)_auto]"
            >
              <legend className="sr-only">Disk {i + 1}</legend>
              <Field label="Name" htmlFor={id('name')} error={nameError}>
                <Input
                  {...describedBy(id('name'), nameError)}
                  value={disk.name}
                  onChange={(e) => setDisk(i, { name: e.target.value })}
                  onBlur={touch(`disks.${i}.name`)}
                  className="font-mono"
                  spellCheck={false}
                />
              </Field>
              <Field label="Size (GiB)" htmlFor={id('size')} error={sizeError}>
                <Input
                  {...describedBy(id('size'), sizeError)}
                  type="number"
                  min={1}
                  max={VHDX_MAX_BYTES / 1024 ** 3}
                  title={`Up to ${formatBytes(VHDX_MAX_BYTES)} per VHDX`}
                  value={disk.sizeGiB}
                  onChange={(e) => setDisk(i, { sizeGiB: e.target.value })}
                  onBlur={touch(`disks.${i}.sizeGiB`)}
                />
              </Field>
              <Field label="Type" htmlFor={id('kind')}>
                <Select
                  id={id('kind')}
                  value={disk.kind}
                  onChange={(e) => {
                    const kind = KINDS.find((k) => k === e.target.value) ?? 'dynamic';
                    // Offer the first other disk as the parent, so the usual case is one choice;
                    // with none to offer, say so at once.
                    setDisk(i, { kind, parent: kind === 'differencing' ? (parents[0]?.name.trim() ?? '') : '' });
                    if (kind === 'differencing') touch(`disks.${i}.parent`)();
                  }}
                >
                  {KINDS.map((k) => (
                    <option key={k} value={k}>
                      {KIND_LABEL[k]}
                    </option>
                  ))}
                </Select>
              </Field>
              {disk.kind === 'differencing' ? (
                <Field label="Parent disk" htmlFor={id('parent')} error={parentError}>
                  <Select
                    {...describedBy(id('parent'), parentError)}
                    value={disk.parent}
                    onChange={(e) => setDisk(i, { parent: e.target.value })}
                    onBlur={touch(`disks.${i}.parent`)}
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
                <Field label="Sector size" htmlFor={id('sector')}>
                  <Select
                    id={id('sector')}
                    value={disk.sector}
                    onChange={(e) => setDisk(i, { sector: e.target.value === '512' ? '512' : '4096' })}
                  >
                    <option value="4096">4,096 B</option>
                    <option value="512">512 B</option>
                  </Select>
                </Field>
              )}
              <div className="flex h-full items-end pb-0.5">
                <Button
                  size="sm"
                  variant="ghost"
                  aria-label={`Remove disk ${disk.name || i + 1}`}
                  icon={<Trash2 />}
                  onClick={() => update({ disks: disks.filter((_, j) => j !== i) })}
                />
              </div>
            </fieldset>
          );
        })}
      </div>
    </FormSection>
  );
}
