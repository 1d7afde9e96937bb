import { VM_INPUT_LIMITS } from '@fabric/core/compute/vm.schema';
import { useQuery } from '@tanstack/react-query';
import { Plus, Trash2 } from 'lucide-react';
import { Button } from '@/components/ui/button';
import { InlineError } from '@/components/ui/error-state';
import { describedBy, Field, Input, Select } from '@/components/ui/input';
import { useTRPC } from '@/trpc/client';
import { type MinMode, type NicDraft, newNic } from './draft';
import { FormSection, type SectionProps } from './form-section';

const L = VM_INPUT_LIMITS;
const MIN_MODES: readonly MinMode[] = ['none', 'mbps', 'weight'];
/** The schema field that holds the minimum of each kind, where its error is reported. */
const MIN_KEY = { mbps: 'minimumBandwidthMbps', weight: 'minimumBandwidthWeight' } as const;

/** Network adapters with their QoS: a minimum (absolute or weight) and a maximum bandwidth. */
export function NicsSection({ draft, update, errorOf, touch }: SectionProps) {
  const { nics } = draft;
  const setNic = (i: number, patch: Partial<NicDraft>) =>
    update({ nics: nics.map((n, j) => (j === i ? { ...n, ...patch } : n)) });
  const listError = errorOf('nics');
  const trpc = useTRPC();
  const networks = useQuery({ ...trpc.network.vmNetworks.queryOptions(), retry: false });
  const subnetChoices = (networks.data ?? []).flatMap((n) =>
    n.subnets.map((s) => ({ value: `${n.name}/${s.name}`, label: `${n.name} / ${s.name} (${s.prefix})` })),
  );
  return (
    <FormSection
      title="Network adapters"
      description="A minimum bandwidth is either absolute (Mbps, reserved on the host) or a relative weight"
      action={
        <Button
          size="sm"
          icon={<Plus />}
          onClick={() => update({ nics: [...nics, newNic(nics.length)] })}
          disabled={nics.length >= L.nicsPerVm}
        >
          Add adapter
        </Button>
      }
    >
      {listError ? <InlineError>{listError}</InlineError> : null}
      {nics.length === 0 ? (
        <p className="text-[12.5px] text-muted">No network adapters: the VM will have no network.</p>
      ) : null}
      <div className="flex flex-col divide-y divide-border">
        {nics.map((nic, i) => {
          const id = (field: string) => `nic-${nic.key}-${field}`;
          const minKey = nic.minMode === 'none' ? null : `nics.${i}.${MIN_KEY[nic.minMode]}`;
          const nameError = errorOf(`nics.${i}.name`);
          const networkError = errorOf(`nics.${i}.network`);
          const minError = minKey ? errorOf(minKey) : undefined;
          const maxError = errorOf(`nics.${i}.maximumBandwidthMbps`);
          return (
            <fieldset
              key={nic.key}
              className="grid grid-cols-2 items-start gap-3 py-3 first:pt-0 last:pb-0 sm:grid-cols-[minmax(0,1fr)_minmax(0,1fr)_minmax(0,1.5fr)_minmax(0,1fr)_auto]"
            >
              <legend className="sr-only">Network adapter {i + 1}</legend>
              <Field label="Name" htmlFor={id('name')} error={nameError}>
                <Input
                  {...describedBy(id('name'), nameError)}
                  value={nic.name}
                  onChange={(e) => setNic(i, { name: e.target.value })}
                  onBlur={touch(`nics.${i}.name`)}
                  className="font-mono"
                  spellCheck={false}
                />
              </Field>
              <Field label="Network" htmlFor={id('network')} error={networkError}>
                {subnetChoices.length > 0 ? (
                  // Tenant networks (issue 13): pick a VM network and subnet; the API takes "<network>/<subnet>".
                  <Select
                    {...describedBy(id('network'), networkError)}
                    value={nic.network}
                    onChange={(e) => setNic(i, { network: e.target.value })}
                    onBlur={touch(`nics.${i}.network`)}
                  >
                    {subnetChoices.some((c) => c.value === nic.network) ? null : (
                      <option value={nic.network}>{nic.network}</option>
                    )}
                    {subnetChoices.map((c) => (
                      <option key={c.value} value={c.value}>
                        {c.label}
                      </option>
                    ))}
                  </Select>
                ) : (
                  <Input
                    {...describedBy(id('network'), networkError)}
                    value={nic.network}
                    onChange={(e) => setNic(i, { network: e.target.value })}
                    onBlur={touch(`nics.${i}.network`)}
                  />
                )}
              </Field>
              <Field label="Minimum bandwidth" htmlFor={id('min')} error={minError}>
                <div className="flex gap-1.5">
                  <Select
                    aria-label={`Minimum bandwidth kind of adapter ${i + 1}`}
                    value={nic.minMode}
                    onChange={(e) =>
                      setNic(i, { minMode: MIN_MODES.find((m) => m === e.target.value) ?? 'none', min: '' })
                    }
                    className="w-28 shrink-0"
                  >
                    <option value="none">None</option>
                    <option value="mbps">Mbps</option>
                    <option value="weight">Weight</option>
                  </Select>
                  <Input
                    {...describedBy(id('min'), minError)}
                    type="number"
                    min={1}
                    disabled={nic.minMode === 'none'}
                    placeholder={
                      nic.minMode === 'weight'
                        ? `${L.bandwidthWeight.min}–${L.bandwidthWeight.max}`
                        : nic.minMode === 'mbps'
                          ? 'Mbps'
                          : '—'
                    }
                    value={nic.min}
                    onChange={(e) => setNic(i, { min: e.target.value })}
                    onBlur={minKey ? touch(minKey) : undefined}
                  />
                </div>
              </Field>
              <Field label="Maximum (Mbps)" htmlFor={id('max')} error={maxError}>
                <Input
                  {...describedBy(id('max'), maxError)}
                  type="number"
                  min={1}
                  placeholder="no limit"
                  value={nic.maxMbps}
                  onChange={(e) => setNic(i, { maxMbps: e.target.value })}
                  onBlur={touch(`nics.${i}.maximumBandwidthMbps`)}
                />
              </Field>
              <div className="flex h-full items-end pb-0.5">
                <Button
                  size="sm"
                  variant="ghost"
                  aria-label={`Remove adapter ${nic.name || i + 1}`}
                  icon={<Trash2 />}
                  onClick={() => update({ nics: nics.filter((_, j) => j !== i) })}
                />
              </div>
            </fieldset>
          );
        })}
      </div>
    </FormSection>
  );
}
