import { tierVmName, VM_INPUT_LIMITS, vmNameSchema } from '@fabric/core/compute/vm.schema';
import { describedBy, Field, Input } from '@/components/ui/input';
import { cn } from '@/lib/cn';
import { formatCount } from '@/lib/format';
import { FormSection, type SectionProps } from './form-section';

/** The name and how many VMs: more than one makes a tier named `<name>-01` … */
export function IdentitySection({ draft, update, errorOf, touch, count }: SectionProps & { count: number }) {
  const tier = count > 1;
  const nameError = errorOf('name');
  const countError = errorOf('count');
  return (
    <FormSection title="Identity" description="The name, and how many identical VMs to create">
      <div className="grid grid-cols-1 gap-4 sm:grid-cols-[minmax(0,2fr)_minmax(0,1fr)]">
        <Field
          label="Name"
          htmlFor="vm-name"
          error={nameError}
          hint={tier ? 'The prefix: each VM gets -01, -02 … after it' : 'Unique in your tenant'}
        >
          <Input
            {...describedBy('vm-name', nameError, true)}
            value={draft.name}
            onChange={(e) => {
              update({ name: e.target.value });
              // A name pasted past the limit is not cut silently: the field says so at once ("at most 64 characters").
              if (e.target.value.trim().length > VM_INPUT_LIMITS.nameLength) touch('name')();
            }}
            onBlur={touch('name')}
            placeholder={tier ? 'web' : 'web-01'}
            autoComplete="off"
            spellCheck={false}
            autoFocus
          />
        </Field>
        <Field
          label="How many"
          htmlFor="vm-count"
          error={countError}
          hint={tier ? 'All placed, or none' : `1–${VM_INPUT_LIMITS.vmsPerTier} identical VMs`}
        >
          <Input
            {...describedBy('vm-count', countError, true)}
            type="number"
            inputMode="numeric"
            min={1}
            max={VM_INPUT_LIMITS.vmsPerTier}
            step={1}
            value={draft.count}
            onChange={(e) => update({ count: e.target.value })}
            onBlur={touch('count')}
            className="tabular"
          />
        </Field>
      </div>
      {tier ? <TierNames name={draft.name.trim()} count={count} /> : null}
    </FormSection>
  );
}

/** The names a tier gets, shown before it is created: "web-01 … web-05". */
function TierNames({ name, count }: { name: string; count: number }) {
  const valid = vmNameSchema.safeParse(name).success;
  const shown = valid ? name : 'name';
  const first = tierVmName(shown, 1, count);
  const last = tierVmName(shown, count, count);
  return (
    <p
      className="flex flex-wrap items-baseline gap-x-1.5 rounded-md bg-surface-2 px-3 py-2 text-[12.5px] text-muted"
      data-testid="tier-names"
      aria-live="polite"
    >
      <span>Creates {formatCount(count)} VMs:</span>
      <span className={cn('font-mono text-[12px]', valid ? 'text-fg' : 'text-subtle')}>
        {/* Each name isolated: an Arabic or Hebrew name would otherwise pull the -01 and the ellipsis out of order. */}
        <bdi>{first}</bdi>
        {count === 2 ? ', ' : ' … '}
        <bdi>{last}</bdi>
      </span>
    </p>
  );
}
