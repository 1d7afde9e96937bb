import { VM_INPUT_LIMITS } from '@fabric/core/compute/vm.schema';
import { HYPERV_LIMITS } from '@fabric/core/shared/limits';
import { InlineError } from '@/components/ui/error-state';
import { describedBy, Field, Input } from '@/components/ui/input';
import { cn } from '@/lib/cn';
import { formatCount, formatMiB } from '@/lib/format';
import { type Draft, gibToMiB, num } from './draft';
import { FormSection, type SectionProps } from './form-section';

const L = VM_INPUT_LIMITS;
const MEMORY_RANGE = `${L.memoryMiBMin} MiB – ${formatMiB(HYPERV_LIMITS.memoryMiBPerVm)}`;

/** vCPUs and memory: static, or Dynamic Memory (startup, minimum, maximum, buffer, weight). */
export function ComputeSection(props: SectionProps) {
  const { draft, update, errorOf, touch } = props;
  const vcpusError = errorOf('vcpus');
  return (
    <FormSection title="Compute" description="Processors, and memory that is static or grows with the guest's demand">
      <div className="grid grid-cols-1 gap-4 sm:grid-cols-3">
        <Field label="vCPUs" htmlFor="vm-vcpus" error={vcpusError} hint={`1–${HYPERV_LIMITS.vcpusPerVm}`}>
          <Input
            {...describedBy('vm-vcpus', vcpusError, true)}
            type="number"
            inputMode="numeric"
            min={1}
            max={HYPERV_LIMITS.vcpusPerVm}
            value={draft.vcpus}
            onChange={(e) => update({ vcpus: e.target.value })}
            onBlur={touch('vcpus')}
          />
        </Field>
        <fieldset className="flex flex-col gap-1.5 sm:col-span-2">
          <legend className="mb-1.5 text-[12.5px] font-medium text-fg">Memory</legend>
          <div className="inline-flex self-start rounded-md border border-border-strong p-0.5">
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
                  onChange={() => update({ memoryMode: mode })}
                  className="sr-only"
                />
                {mode === 'static' ? 'Static' : 'Dynamic Memory'}
              </label>
            ))}
          </div>
        </fieldset>
      </div>
      {errorOf('memory') ? <InlineError>{errorOf('memory')}</InlineError> : null}
      {draft.memoryMode === 'static' ? (
        <div className="grid grid-cols-1 gap-4 sm:grid-cols-3">
          <GiBField {...props} id="mem-size" label="Memory" field="memoryGiB" schemaKey="memory.sizeMiB" />
        </div>
      ) : (
        <DynamicMemoryFields {...props} />
      )}
    </FormSection>
  );
}

function DynamicMemoryFields(props: SectionProps) {
  const { draft, update, errorOf, touch } = props;
  const bufferError = errorOf('memory.bufferPercent');
  const weightError = errorOf('memory.weight');
  return (
    <div className="grid grid-cols-1 gap-4 sm:grid-cols-3">
      <GiBField
        {...props}
        id="mem-startup"
        label="Startup"
        field="startupGiB"
        schemaKey="memory.startupMiB"
        hint="Reserved on the host at boot"
      />
      <GiBField {...props} id="mem-min" label="Minimum" field="minimumGiB" schemaKey="memory.minimumMiB" />
      <GiBField {...props} id="mem-max" label="Maximum" field="maximumGiB" schemaKey="memory.maximumMiB" />
      <Field
        label="Buffer (%)"
        htmlFor="mem-buffer"
        error={bufferError}
        hint={`${L.bufferPercent.min}–${L.bufferPercent.max} % spare over the guest's demand`}
      >
        <Input
          {...describedBy('mem-buffer', bufferError, true)}
          type="number"
          min={L.bufferPercent.min}
          max={L.bufferPercent.max}
          value={draft.bufferPercent}
          onChange={(e) => update({ bufferPercent: e.target.value })}
          onBlur={touch('memory.bufferPercent')}
        />
      </Field>
      <Field
        label="Weight"
        htmlFor="mem-weight"
        error={weightError}
        hint={`${L.memoryWeight.min}–${L.memoryWeight.max}; who gets memory first`}
      >
        <Input
          {...describedBy('mem-weight', weightError, true)}
          type="number"
          min={L.memoryWeight.min}
          max={L.memoryWeight.max}
          step={100}
          value={draft.weight}
          onChange={(e) => update({ weight: e.target.value })}
          onBlur={touch('memory.weight')}
        />
      </Field>
    </div>
  );
}

type GiBKey = 'memoryGiB' | 'startupGiB' | 'minimumGiB' | 'maximumGiB';

/** A memory size typed in GiB; the hint shows the MiB the schema checks, or the allowed range. */
function GiBField({
  draft,
  update,
  errorOf,
  touch,
  id,
  label,
  field,
  schemaKey,
  hint,
}: SectionProps & { id: string; label: string; field: GiBKey; schemaKey: string; hint?: string }) {
  const error = errorOf(schemaKey);
  const gib = num(draft[field]);
  const mib = Number.isFinite(gib) && gib > 0 ? gibToMiB(gib) : null;
  const help = hint ?? (mib !== null ? `${formatCount(mib)} MiB` : MEMORY_RANGE);
  return (
    <Field label={`${label} (GiB)`} htmlFor={id} error={error} hint={help}>
      <Input
        {...describedBy(id, error, true)}
        type="number"
        min={L.memoryMiBMin / 1024}
        step={0.5}
        value={draft[field]}
        onChange={(e) => update({ [field]: e.target.value } satisfies Partial<Draft>)}
        onBlur={touch(schemaKey)}
      />
    </Field>
  );
}
