import { HA_PRIORITIES, VM_INPUT_LIMITS } from '@fabric/core/compute/vm.schema';
import { describedBy, Field, Input, Select } from '@/components/ui/input';
import type { HaPriority } from './draft';
import { FormSection, type SectionProps } from './form-section';

const HA_LABEL: Record<HaPriority, string> = { high: 'High', medium: 'Medium', low: 'Low', off: 'Off (no restart)' };

/** HA restart priority, tags, and whether the VM starts at once. */
export function AvailabilitySection({ draft, update, errorOf, touch }: SectionProps) {
  const tagsError = errorOf('tags');
  return (
    <FormSection title="Availability and labels">
      <div className="grid grid-cols-1 gap-4 sm:grid-cols-2">
        <Field label="HA priority" htmlFor="vm-ha" hint="Who restarts first when a host fails; off stays down">
          <Select
            {...describedBy('vm-ha', undefined, true)}
            value={draft.haPriority}
            onChange={(e) => update({ haPriority: HA_PRIORITIES.find((p) => p === e.target.value) ?? 'medium' })}
          >
            {HA_PRIORITIES.map((p) => (
              <option key={p} value={p}>
                {HA_LABEL[p]}
              </option>
            ))}
          </Select>
        </Field>
        <Field
          label="Tags"
          htmlFor="vm-tags"
          error={tagsError}
          hint={`Comma-separated, e.g. web, prod (up to ${VM_INPUT_LIMITS.tagsPerVm})`}
        >
          <Input
            {...describedBy('vm-tags', tagsError, true)}
            value={draft.tags}
            onChange={(e) => update({ tags: e.target.value })}
            onBlur={touch('tags')}
            placeholder="web, prod"
          />
        </Field>
      </div>
      <label className="mt-1 flex items-center gap-2 text-[13px] text-fg">
        <input
          type="checkbox"
          checked={draft.startAfterCreate}
          onChange={(e) => update({ startAfterCreate: e.target.checked })}
          className="size-3.5 accent-[var(--color-accent)]"
        />
        Start after create
        <span className="text-muted">(counts against your running quota too)</span>
      </label>
    </FormSection>
  );
}
