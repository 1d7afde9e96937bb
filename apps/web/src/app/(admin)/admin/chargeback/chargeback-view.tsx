'use client';

import { pricedAclClasses, RESOURCE_UNITS, RESOURCES, type Resource } from '@fabric/core/chargeback/rate-card';
import { rateCardSchema } from '@fabric/core/chargeback/rate-card.schema';
import { tenantPlanSchema } from '@fabric/core/chargeback/tenant-plan.schema';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Building2, CheckCircle2, Plus, Tags } from 'lucide-react';
import { type FormEvent, useState } from 'react';
import {
  type AclPriceDraft,
  AclPriceFields,
  AddressClassesCard,
  aclDraftFrom,
  aclPricesOf,
} from '@/components/chargeback/address-classes-card';
import { BillDownloads } from '@/components/chargeback/bill-downloads';
import { BillCard, todayUtc, usePeriodPicker } from '@/components/chargeback/bill-view';
import { resourceLabel } from '@/components/chargeback/invoice-lines';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { type ChipOption, Chips } from '@/components/ui/chips';
import { Dialog } from '@/components/ui/dialog';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState, InlineError } from '@/components/ui/error-state';
import { describedBy, Field, Input, Select } from '@/components/ui/input';
import { PageHeader } from '@/components/ui/page-header';
import { TableSkeleton } from '@/components/ui/skeleton';
import { Table, TD, TH, THead, TR } from '@/components/ui/table';
import { errorMessage } from '@/lib/errors';
import { useTRPC } from '@/trpc/client';
import type { RouterOutputs } from '@/trpc/types';

type RateCard = RouterOutputs['chargeback']['rateCards'][number];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function ChargebackView() {
  const [tenantId, setTenantId] = useState('');
  const { period, picker } = usePeriodPicker();
  const validTenant = UUID.test(tenantId);

  return (
    <>
      <PageHeader
        title="Chargeback"
        description="Rate cards, tenant plans and bills from metered usage. Dates and periods are UTC."
      />
      <div className="flex flex-col gap-6">
        <RateCardsCard />
        <AddressClassesCard />
        <section aria-labelledby="bill-heading" className="flex flex-col gap-4">
          <h2 id="bill-heading" className="text-[15px] font-semibold text-fg">
            Tenant bill and plan
          </h2>
          <Card>
            <CardBody className="flex flex-wrap items-end gap-6">
              <TenantSelect value={tenantId} onChange={setTenantId} />
              {picker}
            </CardBody>
            {period ? (
              <CardBody className="flex flex-wrap items-center justify-between gap-3 border-t border-border">
                <span className="text-[13px] text-muted">Every tenant's bill for the period, one file</span>
                <BillDownloads all from={period.from} to={period.to} />
              </CardBody>
            ) : null}
          </Card>
          {!validTenant ? (
            <Card>
              <EmptyState
                icon={<Building2 />}
                title="Choose a tenant"
                description="Pick a tenant to see its bill for the period and to edit its plan."
              />
            </Card>
          ) : (
            <>
              {period ? <BillCard period={period} tenantId={tenantId} /> : null}
              <PlanEditor key={tenantId} tenantId={tenantId} />
            </>
          )}
        </section>
      </div>
    </>
  );
}

function TenantSelect({ value, onChange }: { value: string; onChange: (id: string) => void }) {
  const trpc = useTRPC();
  const tenants = useQuery(trpc.tenants.list.queryOptions());
  if (tenants.isError) {
    return <InlineError>Could not load tenants: {errorMessage(tenants.error)}</InlineError>;
  }
  return (
    <Field label="Tenant" htmlFor="bill-tenant" className="w-64">
      <Select id="bill-tenant" value={value} disabled={tenants.isPending} onChange={(e) => onChange(e.target.value)}>
        <option value="">{tenants.isPending ? 'Loading tenants…' : 'Choose a tenant'}</option>
        {(tenants.data ?? []).map((tenant) => (
          <option key={tenant.id} value={tenant.id}>
            {tenant.name}
          </option>
        ))}
      </Select>
    </Field>
  );
}

type PriceKey =
  | 'vcpuHour'
  | 'memoryGiBHour'
  | 'diskGiBMonth'
  | 'replicaStorageGiBMonth'
  | 'networkOutGiB.internet'
  | 'networkOutGiB.datacenter'
  | 'networkInGiB.internet'
  | 'networkInGiB.datacenter';

const PRICE_FIELDS: { key: PriceKey; label: string; unit: string }[] = [
  { key: 'vcpuHour', label: 'vCPU', unit: 'vCPU-hour' },
  { key: 'memoryGiBHour', label: 'Memory', unit: 'GiB-hour' },
  { key: 'diskGiBMonth', label: 'Disk', unit: 'GiB-month' },
  { key: 'replicaStorageGiBMonth', label: 'Replica storage', unit: 'GiB-month' },
  { key: 'networkOutGiB.internet', label: 'Network out · internet', unit: 'GiB' },
  { key: 'networkOutGiB.datacenter', label: 'Network out · datacenter', unit: 'GiB' },
  { key: 'networkInGiB.internet', label: 'Network in · internet', unit: 'GiB' },
  { key: 'networkInGiB.datacenter', label: 'Network in · datacenter', unit: 'GiB' },
];

function priceOf(card: RateCard, key: PriceKey): string {
  const p = card.prices;
  switch (key) {
    case 'networkOutGiB.internet':
      return p.networkOutGiB.internet;
    case 'networkOutGiB.datacenter':
      return p.networkOutGiB.datacenter;
    case 'networkInGiB.internet':
      return p.networkInGiB.internet;
    case 'networkInGiB.datacenter':
      return p.networkInGiB.datacenter;
    default:
      return p[key];
  }
}

/** The card in effect today is the latest one that started on or before today. */
function cardInEffect(cards: RateCard[], today: string): RateCard | undefined {
  return cards
    .filter((c) => c.effectiveFrom <= today)
    .sort((a, b) => b.effectiveFrom.localeCompare(a.effectiveFrom))[0];
}

function RateCardsCard() {
  const trpc = useTRPC();
  const cards = useQuery(trpc.chargeback.rateCards.queryOptions());
  const [creating, setCreating] = useState(false);
  const today = todayUtc();
  const sorted = [...(cards.data ?? [])].sort((a, b) => b.effectiveFrom.localeCompare(a.effectiveFrom));
  const current = cardInEffect(sorted, today);
  const pricesClasses = sorted.some((card) => pricedAclClasses(card.prices).length > 0);

  return (
    <Card className="overflow-hidden">
      <CardHeader
        title="Rate cards"
        description="Prices per unit. A card applies from 00:00 UTC of its date until the next card; past bills never change."
        actions={
          <Button variant="primary" size="sm" icon={<Plus />} onClick={() => setCreating(true)}>
            New rate card
          </Button>
        }
      />
      {cards.isPending ? (
        <TableSkeleton rows={3} columns={8} />
      ) : cards.isError ? (
        <ErrorState
          error={cards.error}
          title="Could not load rate cards"
          onRetry={() => void cards.refetch()}
          retrying={cards.isFetching}
        />
      ) : sorted.length === 0 ? (
        <EmptyState
          icon={<Tags />}
          title="No rate cards yet"
          description="Add a rate card so usage can be billed."
          action={
            <Button variant="primary" size="sm" icon={<Plus />} onClick={() => setCreating(true)}>
              New rate card
            </Button>
          }
        />
      ) : (
        <Table aria-label="Rate cards">
          <THead>
            <TH>Effective from</TH>
            <TH>Currency</TH>
            {PRICE_FIELDS.map((field) => (
              <TH key={field.key} className="text-right">
                {field.label}
                <span className="block text-[10.5px] font-normal text-subtle">per {field.unit}</span>
              </TH>
            ))}
            {pricesClasses ? (
              <TH>
                Metered classes
                <span className="block text-[10.5px] font-normal text-subtle">out / in per GiB</span>
              </TH>
            ) : null}
          </THead>
          <tbody>
            {sorted.map((card) => (
              <TR key={card.effectiveFrom}>
                <TD>
                  <span className="tabular font-medium">{card.effectiveFrom}</span>
                  {card === current ? (
                    <Badge tone="green" className="ml-2">
                      In effect
                    </Badge>
                  ) : card.effectiveFrom > today ? (
                    <Badge tone="blue" className="ml-2">
                      Scheduled
                    </Badge>
                  ) : null}
                </TD>
                <TD>{card.currency}</TD>
                {PRICE_FIELDS.map((field) => (
                  <TD key={field.key} className="tabular text-right">
                    {priceOf(card, field.key)}
                  </TD>
                ))}
                {pricesClasses ? (
                  // One class a line, wrapping: on one line, a few classes pushed the table past 1280 px.
                  <TD className="min-w-[12rem] whitespace-normal py-1.5 tabular text-[12.5px]">
                    {pricedAclClasses(card.prices).length === 0
                      ? '–'
                      : pricedAclClasses(card.prices).map((name) => (
                          <span key={name} className="block">
                            {name} {card.prices.networkOutGiB[name] ?? '–'} / {card.prices.networkInGiB[name] ?? '–'}
                          </span>
                        ))}
                  </TD>
                ) : null}
              </TR>
            ))}
          </tbody>
        </Table>
      )}
      <NewRateCardDialog
        open={creating}
        onClose={() => setCreating(false)}
        template={current ?? sorted[0]}
        today={today}
      />
    </Card>
  );
}

type Draft = { effectiveFrom: string; currency: string } & Record<PriceKey, string>;

function draftFrom(template: RateCard | undefined, today: string): Draft {
  const draft = { effectiveFrom: today, currency: template?.currency ?? 'EUR' } as Draft;
  for (const field of PRICE_FIELDS) draft[field.key] = template ? priceOf(template, field.key) : '';
  return draft;
}

function NewRateCardDialog({
  open,
  onClose,
  template,
  today,
}: {
  open: boolean;
  onClose: () => void;
  template: RateCard | undefined;
  today: string;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<Draft>(() => draftFrom(template, today));
  const [errors, setErrors] = useState<Record<string, string>>({});
  // Prices for the metered address classes defined now (none defined: no fields, cards as before).
  const classes = useQuery(trpc.metering.addressClasses.queryOptions());
  const classNames = (classes.data ?? []).map((c) => c.name);
  const [aclDraft, setAclDraft] = useState<AclPriceDraft>({});
  const add = useMutation(
    trpc.chargeback.addRateCard.mutationOptions({
      onSuccess: async (cards) => {
        queryClient.setQueryData(trpc.chargeback.rateCards.queryKey(), cards);
        await queryClient.invalidateQueries(trpc.chargeback.rateCards.queryFilter());
        close();
      },
    }),
  );

  function close() {
    add.reset();
    setErrors({});
    onClose();
  }

  // Start each opening from the card in effect, so only what changes needs typing.
  const [wasOpen, setWasOpen] = useState(open);
  if (open !== wasOpen) {
    setWasOpen(open);
    if (open) {
      setDraft(draftFrom(template, today));
      setAclDraft(aclDraftFrom(template?.prices, classNames));
    }
  }
  // Classes that arrive after the dialog opened get fields too.
  else if (open && classNames.some((name) => !(name in aclDraft))) {
    setAclDraft({ ...aclDraftFrom(template?.prices, classNames), ...aclDraft });
  }
  const aclPrices = aclPricesOf(aclDraft);

  function submit(event: FormEvent) {
    event.preventDefault();
    const card = {
      currency: draft.currency.trim().toUpperCase(),
      effectiveFrom: draft.effectiveFrom,
      prices: {
        vcpuHour: draft.vcpuHour.trim(),
        memoryGiBHour: draft.memoryGiBHour.trim(),
        diskGiBMonth: draft.diskGiBMonth.trim(),
        replicaStorageGiBMonth: draft.replicaStorageGiBMonth.trim(),
        networkOutGiB: {
          ...aclPrices.out,
          internet: draft['networkOutGiB.internet'].trim(),
          datacenter: draft['networkOutGiB.datacenter'].trim(),
        },
        networkInGiB: {
          ...aclPrices.in,
          internet: draft['networkInGiB.internet'].trim(),
          datacenter: draft['networkInGiB.datacenter'].trim(),
        },
      },
    };
    const parsed = rateCardSchema.safeParse(card);
    const next: Record<string, string> = {};
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const path = issue.path.filter((p) => p !== 'prices').join('.');
        next[path] ??= issue.message;
      }
    }
    if (!next.effectiveFrom && card.effectiveFrom < todayUtc()) {
      next.effectiveFrom = 'A new card starts today (UTC) or later: past bills never change.';
    }
    setErrors(next);
    if (!parsed.success || Object.keys(next).length > 0) return;
    add.mutate(parsed.data);
  }

  const set = (key: keyof Draft) => (e: React.ChangeEvent<HTMLInputElement>) =>
    setDraft((d) => ({ ...d, [key]: e.target.value }));

  return (
    <Dialog
      open={open}
      onClose={close}
      size="lg"
      title="New rate card"
      description="Prices are decimals (at most 6 places). The card applies from 00:00 UTC of its date."
    >
      <form onSubmit={submit} noValidate className="flex flex-col gap-4">
        {add.isError ? <InlineError>{errorMessage(add.error)}</InlineError> : null}
        <div className="grid grid-cols-2 gap-3">
          <Field label="Effective from (UTC)" htmlFor="card-from" error={errors.effectiveFrom}>
            <Input
              {...describedBy('card-from', errors.effectiveFrom)}
              type="date"
              min={today}
              value={draft.effectiveFrom}
              onChange={set('effectiveFrom')}
              autoFocus
            />
          </Field>
          <Field label="Currency" htmlFor="card-currency" error={errors.currency} hint="ISO 4217, e.g. EUR">
            <Input
              {...describedBy('card-currency', errors.currency, true)}
              value={draft.currency}
              maxLength={3}
              autoComplete="off"
              className="w-full uppercase"
              onChange={set('currency')}
            />
          </Field>
          {PRICE_FIELDS.map((field) => {
            const id = `card-${field.key.replace('.', '-')}`;
            const error = errors[field.key];
            return (
              <Field key={field.key} label={`${field.label} (per ${field.unit})`} htmlFor={id} error={error}>
                <Input
                  {...describedBy(id, error)}
                  inputMode="decimal"
                  autoComplete="off"
                  className="w-full tabular"
                  placeholder="0.00"
                  value={draft[field.key]}
                  onChange={set(field.key)}
                />
              </Field>
            );
          })}
          <AclPriceFields draft={aclDraft} onChange={setAclDraft} errors={errors} />
        </div>
        <div className="flex justify-end gap-2 pt-1">
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant="primary" loading={add.isPending}>
            Add rate card
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

type PlanKind = 'list' | 'discount' | 'override';

const PLAN_OPTIONS: ChipOption<PlanKind>[] = [
  { value: 'list', label: 'List price' },
  { value: 'discount', label: 'Discount %' },
  { value: 'override', label: 'Price overrides' },
];

type Plan = RouterOutputs['chargeback']['getPlan'];

/** The tenant's saved plan, loaded first so the form starts from it. */
function PlanEditor({ tenantId }: { tenantId: string }) {
  const trpc = useTRPC();
  const plan = useQuery(trpc.chargeback.getPlan.queryOptions({ tenantId }));
  if (plan.isPending) {
    return (
      <Card>
        <CardHeader title="Plan" description="Loading the tenant's plan…" />
        <TableSkeleton rows={2} columns={2} />
      </Card>
    );
  }
  if (plan.isError) {
    return (
      <Card>
        <ErrorState
          error={plan.error}
          title="Could not load the plan"
          onRetry={() => void plan.refetch()}
          retrying={plan.isFetching}
        />
      </Card>
    );
  }
  return <PlanForm tenantId={tenantId} initial={plan.data} />;
}

function PlanForm({ tenantId, initial }: { tenantId: string; initial: Plan }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [kind, setKind] = useState<PlanKind>(initial.kind);
  const [percent, setPercent] = useState(initial.kind === 'discount' ? initial.percent : '');
  const [overrides, setOverrides] = useState<Partial<Record<Resource, string>>>(
    initial.kind === 'override' ? initial.prices : {},
  );
  const [errors, setErrors] = useState<Record<string, string>>({});
  const save = useMutation(
    trpc.chargeback.setPlan.mutationOptions({
      // The plan changes this tenant's bill: refetch the ones on screen.
      onSuccess: async () => {
        await queryClient.invalidateQueries(trpc.chargeback.bill.queryFilter());
        await queryClient.invalidateQueries(trpc.chargeback.getPlan.queryFilter({ tenantId }));
      },
    }),
  );

  function submit(event: FormEvent) {
    event.preventDefault();
    save.reset();
    const prices: Partial<Record<Resource, string>> = {};
    for (const resource of RESOURCES) {
      const value = overrides[resource]?.trim();
      if (value) prices[resource] = value;
    }
    const plan =
      kind === 'list' ? { kind } : kind === 'discount' ? { kind, percent: percent.trim() } : { kind, prices };
    const parsed = tenantPlanSchema.safeParse(plan);
    const next: Record<string, string> = {};
    if (!parsed.success) {
      for (const issue of parsed.error.issues) next[issue.path.join('.')] ??= issue.message;
    }
    if (kind === 'override' && Object.keys(prices).length === 0) {
      next.prices = 'Set at least one price, or choose List price.';
    }
    setErrors(next);
    if (!parsed.success || Object.keys(next).length > 0) return;
    save.mutate({ tenantId, plan: parsed.data });
  }

  return (
    <Card>
      <CardHeader
        title="Plan"
        description="How this tenant's bill is priced (the saved plan is shown). Saving replaces it; closed invoices keep the prices they were issued with."
      />
      <CardBody>
        <form onSubmit={submit} noValidate className="flex flex-col gap-4">
          {save.isError ? <InlineError>{errorMessage(save.error)}</InlineError> : null}
          {save.isSuccess ? (
            <p role="status" className="flex items-center gap-2 text-[12.5px] text-emerald-700 dark:text-emerald-400">
              <CheckCircle2 className="size-3.5" aria-hidden="true" />
              Plan saved. The bill above now uses it.
            </p>
          ) : null}
          <Chips
            label="Plan"
            options={PLAN_OPTIONS}
            value={kind}
            onChange={(value) => {
              setKind(value);
              setErrors({});
              save.reset();
            }}
          />
          {kind === 'list' ? (
            <p className="text-[12.5px] text-muted">The tenant pays the rate card's prices as they are.</p>
          ) : kind === 'discount' ? (
            <Field
              label="Discount (%)"
              htmlFor="plan-percent"
              className="w-48"
              error={errors.percent}
              hint="Off the subtotal, 0 to 100."
            >
              <Input
                {...describedBy('plan-percent', errors.percent, true)}
                inputMode="decimal"
                autoComplete="off"
                className="w-48 tabular"
                placeholder="10"
                value={percent}
                onChange={(e) => setPercent(e.target.value)}
              />
            </Field>
          ) : (
            <div className="flex flex-col gap-3">
              <p className="text-[12.5px] text-muted">
                Prices that replace the rate card's for this tenant. Leave a resource empty to use the card.
              </p>
              {errors.prices ? <InlineError>{errors.prices}</InlineError> : null}
              <div className="grid grid-cols-1 gap-3 sm:grid-cols-2 lg:grid-cols-4">
                {RESOURCES.map((resource) => {
                  const id = `plan-${resource}`;
                  const error = errors[`prices.${resource}`];
                  return (
                    <Field
                      key={resource}
                      label={`${resourceLabel(resource)} (per ${RESOURCE_UNITS[resource]})`}
                      htmlFor={id}
                      error={error}
                    >
                      <Input
                        {...describedBy(id, error)}
                        inputMode="decimal"
                        autoComplete="off"
                        className="w-full tabular"
                        placeholder="Card price"
                        value={overrides[resource] ?? ''}
                        onChange={(e) => setOverrides((o) => ({ ...o, [resource]: e.target.value }))}
                      />
                    </Field>
                  );
                })}
              </div>
            </div>
          )}
          <div>
            <Button type="submit" variant="primary" loading={save.isPending}>
              Save plan
            </Button>
          </div>
        </form>
      </CardBody>
    </Card>
  );
}
