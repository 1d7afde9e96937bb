'use client';

import { VM_INPUT_LIMITS } from '@fabric/core/compute/vm.schema';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { AlertTriangle, ChevronRight } from 'lucide-react';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { type FormEvent, type KeyboardEvent, useState } from 'react';
import { Button, buttonClass } from '@/components/ui/button';
import { InlineError } from '@/components/ui/error-state';
import { PageHeader } from '@/components/ui/page-header';
import { errorCode, errorMessage, fieldErrors } from '@/lib/errors';
import { formatCount } from '@/lib/format';
import { useTRPC } from '@/trpc/client';
import { AvailabilitySection } from './create-vm-form/availability-section';
import { ComputeSection } from './create-vm-form/compute-section';
import { DisksSection } from './create-vm-form/disks-section';
import { countOf, type Draft, initialDraft } from './create-vm-form/draft';
import type { SectionProps } from './create-vm-form/form-section';
import { headroomOf, headroomSentence, overQuota } from './create-vm-form/headroom';
import { IdentitySection } from './create-vm-form/identity-section';
import { NicsSection } from './create-vm-form/nics-section';
import { QuotaHeadroom } from './create-vm-form/quota-headroom';
import { checkDraft } from './create-vm-form/validate';

// Server field errors that a section shows; any other goes to the banner.
const SHOWN_SERVER_FIELDS = new Set(['name', 'vcpus', 'memory', 'disks', 'nics', 'tags', 'count']);

/**
 * The create-VM form: the sections edit a draft, core's createManyVmsInput
 * checks it on every change (a single VM is a tier of one), and the quota
 * headroom shows what the VMs would take before anything is sent.
 */
export function CreateVmForm() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const router = useRouter();
  const quota = useQuery(trpc.vms.myQuota.queryOptions());
  const [draft, setDraft] = useState<Draft>(initialDraft);
  const [touched, setTouched] = useState<ReadonlySet<string>>(new Set());
  const [attempted, setAttempted] = useState(false);
  const [lastUsed, setLastUsed] = useState<'one' | 'many'>('one');

  const refreshAfterCreate = () =>
    Promise.all([
      queryClient.invalidateQueries(trpc.vms.list.queryFilter()),
      queryClient.invalidateQueries(trpc.vms.myQuota.queryFilter()),
    ]);
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
  // The one that ran last, so its error (or pending state) is what the form shows.
  const create = lastUsed === 'many' ? createMany : createOne;
  const count = countOf(draft, VM_INPUT_LIMITS.vmsPerTier);

  const checked = checkDraft(draft);
  const errorCount = Object.keys(checked.errors).length;
  // Server answers: zod field errors go to their section; a duplicate name to the name; quota and placement to a banner.
  const serverFields = create.isError ? fieldErrors(create.error) : {};
  const code = create.isError ? errorCode(create.error) : undefined;
  const serverName = code === 'CONFLICT' ? errorMessage(create.error) : serverFields.name;
  const banner =
    create.isError && code !== 'CONFLICT' && !Object.keys(serverFields).some((k) => SHOWN_SERVER_FIELDS.has(k))
      ? errorMessage(create.error)
      : null;

  // A field's error shows once it was visited or a submit was tried, so typing a name is not met with "required".
  const errorOf = (key: string): string | undefined => {
    const visible =
      attempted || [...touched].some((t) => key === t || key.startsWith(`${t}.`) || t.startsWith(`${key}.`));
    const own = visible ? checked.errors[key] : undefined;
    return own ?? (key === 'name' ? serverName : serverFields[key]);
  };
  const touch = (key: string) => () => setTouched((old) => (old.has(key) ? old : new Set(old).add(key)));
  const update = (patch: Partial<Draft>) => {
    setDraft((old) => ({ ...old, ...patch }));
    if (create.isError) create.reset();
  };
  const section: SectionProps = { draft, update, errorOf, touch };

  const headroom = quota.data ? headroomOf(quota.data, draft, count) : [];
  const blocked = headroom.filter(overQuota);

  function submit(event: FormEvent) {
    event.preventDefault();
    setAttempted(true);
    if (!checked.ok || blocked.length > 0 || create.isPending) {
      // Take the keyboard to the first problem (after React has marked it).
      requestAnimationFrame(() => document.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());
      return;
    }
    if (checked.input.count > 1) {
      setLastUsed('many');
      createMany.mutate(checked.input);
    } else {
      setLastUsed('one');
      createOne.mutate(checked.input.vm);
    }
  }

  // Field errors first: a quota sum over a mistyped field (40,000 GiB for 4) is not the problem to fix.
  const shownErrors = Object.keys(checked.errors).filter((key) => errorOf(key) !== undefined).length;
  const reason = create.isPending
    ? null
    : shownErrors > 0 || (!checked.ok && attempted)
      ? `Fix ${formatCount(Math.max(shownErrors, errorCount))} field${Math.max(shownErrors, errorCount) === 1 ? '' : 's'} above`
      : checked.ok && blocked.length > 0
        ? `Over quota: ${blocked.map((h) => headroomSentence(h, count)).join('; ')}`
        : null;

  const footer = (
    <>
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
          {count > 1 ? `Create ${formatCount(count)} VMs` : 'Create VM'}
        </Button>
      </div>
    </>
  );

  return (
    <>
      <PageHeader
        breadcrumb={<Breadcrumb />}
        title="New virtual machine"
        description="Fabric checks your quota, then places the VM on the host that fits it best."
      />
      <form
        onSubmit={submit}
        onKeyDown={blockImplicitSubmit}
        noValidate
        className="grid grid-cols-1 gap-5 xl:grid-cols-3"
        aria-label="Create a VM"
      >
        <div className="flex flex-col gap-5 xl:col-span-2">
          {banner ? (
            <div data-testid="create-error">
              <InlineError>{banner}</InlineError>
            </div>
          ) : null}
          <IdentitySection {...section} count={count} />
          <ComputeSection {...section} />
          <DisksSection {...section} />
          <NicsSection {...section} />
          <AvailabilitySection {...section} />
        </div>
        <div className="xl:sticky xl:top-16 xl:self-start">
          <QuotaHeadroom quota={quota} headroom={headroom} count={count} footer={footer} />
        </div>
      </form>
    </>
  );
}

/**
 * Enter in a field does not create (and start) VMs: creating is a deliberate
 * press of the Create button (Tab to it, then Enter or Space works).
 */
function blockImplicitSubmit(event: KeyboardEvent<HTMLFormElement>) {
  if (event.key !== 'Enter') return;
  const target = event.target;
  if (target instanceof HTMLInputElement && target.type !== 'submit' && target.type !== 'button') {
    event.preventDefault();
  }
}

function Breadcrumb() {
  return (
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
}
