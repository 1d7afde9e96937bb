'use client';

import { MAX_ACLS_PER_PORT } from '@fabric/core/network/network.schema';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Plus, Trash2 } from 'lucide-react';
import { type FormEvent, useEffect, useState } from 'react';
import { useSession } from '@/components/shell/session';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { InlineError } from '@/components/ui/error-state';
import { Field, Input, Select } from '@/components/ui/input';
import { Table, TD, TH, THead, TR } from '@/components/ui/table';
import { errorMessage } from '@/lib/errors';
import { useTRPC } from '@/trpc/client';
import type { RouterInputs, RouterOutputs } from '@/trpc/types';
import { PortBandwidth } from './port-bandwidth';

type Port = RouterOutputs['network']['vmPorts'][number];
type PolicyInput = RouterInputs['network']['setPortPolicy']['policy'];
type AclInput = NonNullable<PolicyInput['acls']>[number];

/** An ACL row as typed: text fields until saved (the API validates and names the rule). */
interface AclDraft {
  direction: AclInput['direction'];
  action: AclInput['action'];
  remote: string;
  localPort: string;
  meterClass: string;
}

interface Draft {
  dhcpGuard: boolean;
  routerGuard: boolean;
  arpGuard: boolean;
  macSpoofing: boolean;
  mirroring: 'none' | 'source' | 'destination';
  maximumBandwidthMbps: string;
  minimumBandwidthWeight: string;
  acls: AclDraft[];
  /** 'none': no PVLAN on the port. */
  pvlanMode: 'none' | 'isolated' | 'community' | 'promiscuous';
  primaryVlan: string;
  secondaryVlan: string;
  trunk: boolean;
  /** VLAN ids as typed, separated by commas or spaces. */
  allowedVlans: string;
  nativeVlan: string;
}

const toDraft = (p: Port['policy']): Draft => ({
  dhcpGuard: p.dhcpGuard,
  routerGuard: p.routerGuard,
  arpGuard: p.arpGuard,
  macSpoofing: p.macSpoofing,
  mirroring: p.mirroring,
  maximumBandwidthMbps: p.maximumBandwidthMbps?.toString() ?? '',
  minimumBandwidthWeight: p.minimumBandwidthWeight?.toString() ?? '',
  acls: p.acls.map((a) => ({
    direction: a.direction,
    action: a.action,
    remote: 'prefix' in a.remote ? a.remote.prefix : a.remote.mac,
    localPort: a.localPort?.toString() ?? '',
    meterClass: a.meterClass ?? '',
  })),
  pvlanMode: p.pvlan?.mode ?? 'none',
  primaryVlan: p.pvlan?.primaryVlan?.toString() ?? '',
  secondaryVlan: p.pvlan?.secondaryVlan?.toString() ?? '',
  trunk: p.trunk !== undefined,
  allowedVlans: p.trunk?.allowedVlans.join(', ') ?? '',
  nativeVlan: p.trunk?.nativeVlan.toString() ?? '',
});

/** A typed number, or undefined when empty; anything else goes to the API as typed so its message names the rule. */
const num = (text: string): number | undefined => (text.trim() === '' ? undefined : Number(text.trim()));

/** VLAN ids typed as "10, 20 30": each as a number (a word goes as NaN, so the API names the VLAN rule). */
const vlanList = (text: string): number[] =>
  text
    .split(/[\s,]+/)
    .filter((v) => v !== '')
    .map((v) => Number(v));

/**
 * The whole policy as the card shows it. The API keeps a field that is left out, so what the form clears is
 * sent as null (no PVLAN, no trunk, no cap, no weight), never omitted.
 */
function toInput(draft: Draft): PolicyInput {
  return {
    dhcpGuard: draft.dhcpGuard,
    routerGuard: draft.routerGuard,
    arpGuard: draft.arpGuard,
    macSpoofing: draft.macSpoofing,
    mirroring: draft.mirroring,
    maximumBandwidthMbps: num(draft.maximumBandwidthMbps) ?? null,
    minimumBandwidthWeight: num(draft.minimumBandwidthWeight) ?? null,
    pvlan:
      draft.pvlanMode !== 'none'
        ? {
            mode: draft.pvlanMode,
            // A mode needs its primary VLAN: an empty one goes as NaN so the API says so, not saves no PVLAN.
            primaryVlan: num(draft.primaryVlan) ?? Number.NaN,
            ...(num(draft.secondaryVlan) !== undefined ? { secondaryVlan: num(draft.secondaryVlan) } : {}),
          }
        : null,
    trunk: draft.trunk
      ? { allowedVlans: vlanList(draft.allowedVlans), nativeVlan: num(draft.nativeVlan) ?? Number.NaN }
      : null,
    acls: draft.acls.map((a) => ({
      direction: a.direction,
      action: a.action,
      remote: a.remote.includes('/') || !/[-:]/.test(a.remote) ? { prefix: a.remote.trim() } : { mac: a.remote.trim() },
      ...(num(a.localPort) !== undefined ? { localPort: num(a.localPort) } : {}),
      ...(a.action === 'meter' && a.meterClass.trim() ? { meterClass: a.meterClass.trim() } : {}),
    })),
  };
}

const GUARDS = [
  ['dhcpGuard', 'DHCP guard', 'drops DHCP server offers from this VM'],
  ['routerGuard', 'Router guard', 'drops router advertisements and redirects from this VM'],
  ['arpGuard', 'ARP/ND spoofing protection', 'the VM may only claim its own address'],
  ['macSpoofing', 'Allow MAC spoofing', 'the VM may send from other MAC addresses'],
] as const;

/**
 * The Hyper-V Extensible Switch port policy of each of a VM's network
 * adapters: port ACLs (allow / deny / meter by remote prefix or MAC, per
 * direction), DHCP and router guards, ARP/ND spoofing protection, port
 * mirroring and bandwidth (maximum, minimum weight), and the bandwidth the
 * switch gave the port in the latest sample. Tenant admins edit it;
 * Fabric compiles it into the host's switch and the agent applies it. In the
 * portal, a trace from this VM shows what the switch does to a packet.
 */
export function VmPortPolicyCard({ vmId, area }: { vmId: string; area: 'portal' | 'admin' }) {
  const trpc = useTRPC();
  // Refreshed for the bandwidth panel (a sample per metering interval); an edit in progress is kept, since
  // an unchanged policy keeps its identity across refetches.
  const ports = useQuery({ ...trpc.network.vmPorts.queryOptions({ vmId }), refetchInterval: 10_000 });
  const attached = (ports.data ?? []).filter((p) => p.subnet !== null);
  const [nicName, setNicName] = useState<string | null>(null);
  const port = attached.find((p) => p.nicName === nicName) ?? attached[0];

  if (ports.isError)
    return (
      <Card>
        <CardHeader title="Port policy" />
        <CardBody>
          <InlineError>Could not load this VM's ports: {errorMessage(ports.error)}</InlineError>
        </CardBody>
      </Card>
    );
  if (!ports.data || !port) return null;
  return (
    <Card data-testid="port-policy">
      <CardHeader
        title="Port policy"
        description={`${port.nicName} on ${port.subnet?.vmNetworkName}/${port.subnet?.name} · address ${port.ca ?? '—'} · enforced by the host's virtual switch`}
        actions={
          attached.length > 1 ? (
            <Select
              aria-label="Network adapter"
              className="w-32"
              value={port.nicName}
              onChange={(e) => setNicName(e.target.value)}
            >
              {attached.map((p) => (
                <option key={p.nicName} value={p.nicName}>
                  {p.nicName}
                </option>
              ))}
            </Select>
          ) : null
        }
      />
      <CardBody className="flex flex-col gap-5">
        <PolicyEditor key={port.nicName} vmId={vmId} port={port} />
        <PortBandwidth port={port} />
        <DetachPort key={`detach-${port.nicName}`} vmId={vmId} port={port} />
        {area === 'portal' ? <TracePanel vmId={vmId} /> : null}
      </CardBody>
    </Card>
  );
}

function PolicyEditor({ vmId, port }: { vmId: string; port: Port }) {
  const me = useSession();
  const trpc = useTRPC();
  const qc = useQueryClient();
  const canEdit = me.role === 'tenant-admin';
  const [draft, setDraft] = useState<Draft>(() => toDraft(port.policy));
  const [saved, setSaved] = useState(false);
  useEffect(() => setDraft(toDraft(port.policy)), [port.policy]);
  const save = useMutation(
    trpc.network.setPortPolicy.mutationOptions({
      onSuccess: () => {
        setSaved(true);
        return qc.invalidateQueries({ queryKey: trpc.network.vmPorts.queryKey({ vmId }) });
      },
    }),
  );
  const set = (patch: Partial<Draft>) => {
    setSaved(false);
    setDraft((d) => ({ ...d, ...patch }));
  };
  const setAcl = (i: number, patch: Partial<AclDraft>) =>
    set({ acls: draft.acls.map((a, j) => (j === i ? { ...a, ...patch } : a)) });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate({ vmId, nicName: port.nicName, policy: toInput(draft) });
  };

  return (
    <form onSubmit={onSubmit} className="flex flex-col gap-4" aria-label={`Port policy of ${port.nicName}`}>
      <fieldset disabled={!canEdit} className="flex flex-col gap-4">
        <div>
          <div className="mb-2 flex items-center justify-between">
            <h3 className="text-[12.5px] font-semibold">Port ACLs</h3>
            <Button
              type="button"
              size="sm"
              disabled={draft.acls.length >= MAX_ACLS_PER_PORT}
              aria-describedby={draft.acls.length >= MAX_ACLS_PER_PORT ? `acl-limit-${port.nicName}` : undefined}
              onClick={() =>
                set({
                  acls: [
                    ...draft.acls,
                    { direction: 'inbound', action: 'deny', remote: '', localPort: '', meterClass: '' },
                  ],
                })
              }
            >
              <Plus aria-hidden="true" /> Add ACL
            </Button>
          </div>
          {draft.acls.length >= MAX_ACLS_PER_PORT ? (
            // A limit reached, not a mistake: said as a hint beside the disabled Add ACL, not in red.
            <p id={`acl-limit-${port.nicName}`} role="status" className="mb-2 text-[12px] text-muted">
              A port has at most {MAX_ACLS_PER_PORT} ACLs: remove one to add another.
            </p>
          ) : null}
          <p className="mb-2 text-[12px] text-muted">
            The most specific match wins (a deny wins a tie); no match allows. A meter ACL counts bytes under its class
            in Measure-VM without allowing or denying.
          </p>
          <Table aria-label="Port ACLs">
            <THead>
              <TH>Direction</TH>
              <TH>Action</TH>
              <TH>Remote prefix or MAC</TH>
              <TH>Local port</TH>
              <TH>Meter class</TH>
              <TH>
                <span className="sr-only">Remove</span>
              </TH>
            </THead>
            <tbody>
              {draft.acls.length === 0 ? (
                <TR>
                  <TD colSpan={6} className="text-muted">
                    No ACLs: all traffic the guards allow passes
                  </TD>
                </TR>
              ) : (
                draft.acls.map((a, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: rows have no identity of their own; order is the identity
                  <TR key={i} data-testid={`acl-${i}`}>
                    <TD>
                      <Select
                        aria-label={`ACL ${i + 1} direction`}
                        value={a.direction}
                        onChange={(e) => setAcl(i, { direction: e.target.value as AclDraft['direction'] })}
                      >
                        <option value="inbound">inbound</option>
                        <option value="outbound">outbound</option>
                        <option value="both">both</option>
                      </Select>
                    </TD>
                    <TD>
                      <Select
                        aria-label={`ACL ${i + 1} action`}
                        value={a.action}
                        onChange={(e) => setAcl(i, { action: e.target.value as AclDraft['action'] })}
                      >
                        <option value="allow">allow</option>
                        <option value="deny">deny</option>
                        <option value="meter">meter</option>
                      </Select>
                    </TD>
                    <TD>
                      <Input
                        aria-label={`ACL ${i + 1} remote`}
                        placeholder="10.0.0.0/8"
                        value={a.remote}
                        maxLength={18}
                        onChange={(e) => setAcl(i, { remote: e.target.value })}
                      />
                    </TD>
                    <TD>
                      <Input
                        aria-label={`ACL ${i + 1} local port`}
                        placeholder="any"
                        inputMode="numeric"
                        className="w-20"
                        value={a.localPort}
                        onChange={(e) => setAcl(i, { localPort: e.target.value })}
                      />
                    </TD>
                    <TD>
                      <Input
                        aria-label={`ACL ${i + 1} meter class`}
                        placeholder={a.action === 'meter' ? 'internet' : '—'}
                        disabled={a.action !== 'meter'}
                        className="w-28"
                        value={a.action === 'meter' ? a.meterClass : ''}
                        onChange={(e) => setAcl(i, { meterClass: e.target.value })}
                      />
                    </TD>
                    <TD>
                      <Button
                        type="button"
                        variant="ghost"
                        size="sm"
                        aria-label={`Remove ACL ${i + 1}`}
                        onClick={() => set({ acls: draft.acls.filter((_, j) => j !== i) })}
                      >
                        <Trash2 aria-hidden="true" />
                      </Button>
                    </TD>
                  </TR>
                ))
              )}
            </tbody>
          </Table>
        </div>

        <div className="grid grid-cols-1 gap-4 md:grid-cols-2">
          <div className="flex flex-col gap-2">
            <h3 className="text-[12.5px] font-semibold">Guards</h3>
            {GUARDS.map(([key, label, hint]) => (
              <label key={key} className="flex items-start gap-2 text-[13px]">
                <input
                  type="checkbox"
                  className="mt-0.5"
                  checked={draft[key]}
                  onChange={(e) => set({ [key]: e.target.checked })}
                />
                <span>
                  {label} <span className="text-[12px] text-muted">— {hint}</span>
                </span>
              </label>
            ))}
          </div>
          <div className="flex flex-col gap-3">
            <Field
              label="Port mirroring"
              htmlFor={`mirror-${port.nicName}`}
              hint="A source port's traffic is copied to every destination port of this VM network on the same host"
            >
              <Select
                id={`mirror-${port.nicName}`}
                value={draft.mirroring}
                onChange={(e) => set({ mirroring: e.target.value as Draft['mirroring'] })}
              >
                <option value="none">none</option>
                <option value="source">source</option>
                <option value="destination">destination</option>
              </Select>
            </Field>
            <div className="flex gap-3">
              <Field
                label="Maximum bandwidth (Mbps)"
                htmlFor={`max-${port.nicName}`}
                hint={
                  port.minimumBandwidthMbps
                    ? `At least the reserved minimum, ${port.minimumBandwidthMbps} Mbps`
                    : 'Empty: no cap'
                }
              >
                <Input
                  id={`max-${port.nicName}`}
                  inputMode="numeric"
                  value={draft.maximumBandwidthMbps}
                  onChange={(e) => set({ maximumBandwidthMbps: e.target.value })}
                />
              </Field>
              <Field
                label="Minimum weight (1–100)"
                htmlFor={`weight-${port.nicName}`}
                hint="Share of the host NIC under contention"
              >
                <Input
                  id={`weight-${port.nicName}`}
                  inputMode="numeric"
                  value={draft.minimumBandwidthWeight}
                  onChange={(e) => set({ minimumBandwidthWeight: e.target.value })}
                />
              </Field>
            </div>
          </div>
        </div>

        <div className="grid grid-cols-1 gap-4 md:grid-cols-2">
          <fieldset className="flex flex-col gap-2">
            <legend className="mb-2 text-[12.5px] font-semibold">Private VLAN</legend>
            <p className="text-[12px] text-muted">
              An isolated port reaches only promiscuous ports of its primary VLAN; community ports reach their community
              and promiscuous ports.
            </p>
            <div className="flex flex-wrap gap-3">
              <Field label="PVLAN mode" htmlFor={`pvlan-mode-${port.nicName}`}>
                <Select
                  id={`pvlan-mode-${port.nicName}`}
                  // One VLAN mode per port: a trunk port takes no PVLAN (a policy saved with both before the
                  // API refused it keeps both controls enabled, so either can be cleared).
                  disabled={draft.trunk && draft.pvlanMode === 'none'}
                  aria-describedby={draft.trunk && draft.pvlanMode === 'none' ? `vlan-mode-${port.nicName}` : undefined}
                  value={draft.pvlanMode}
                  onChange={(e) => {
                    const pvlanMode = e.target.value as Draft['pvlanMode'];
                    // No PVLAN has no VLANs: the old ones are cleared, not left showing as if they still applied.
                    set(pvlanMode === 'none' ? { pvlanMode, primaryVlan: '', secondaryVlan: '' } : { pvlanMode });
                  }}
                >
                  <option value="none">none</option>
                  <option value="isolated">isolated</option>
                  <option value="community">community</option>
                  <option value="promiscuous">promiscuous</option>
                </Select>
              </Field>
              <Field label="Primary VLAN" htmlFor={`pvlan-primary-${port.nicName}`} hint="1–4094" className="w-28">
                <Input
                  id={`pvlan-primary-${port.nicName}`}
                  inputMode="numeric"
                  disabled={draft.pvlanMode === 'none'}
                  value={draft.primaryVlan}
                  onChange={(e) => set({ primaryVlan: e.target.value })}
                />
              </Field>
              <Field label="Secondary VLAN" htmlFor={`pvlan-secondary-${port.nicName}`} hint="1–4094" className="w-28">
                <Input
                  id={`pvlan-secondary-${port.nicName}`}
                  inputMode="numeric"
                  disabled={draft.pvlanMode === 'none'}
                  value={draft.secondaryVlan}
                  onChange={(e) => set({ secondaryVlan: e.target.value })}
                />
              </Field>
            </div>
          </fieldset>
          <fieldset className="flex flex-col gap-2">
            <legend className="mb-2 text-[12.5px] font-semibold">Trunk mode</legend>
            <label className="flex items-start gap-2 text-[13px]">
              <input
                type="checkbox"
                className="mt-0.5"
                disabled={draft.pvlanMode !== 'none' && !draft.trunk}
                aria-describedby={draft.pvlanMode !== 'none' && !draft.trunk ? `vlan-mode-${port.nicName}` : undefined}
                checked={draft.trunk}
                onChange={(e) => set({ trunk: e.target.checked })}
              />
              <span>
                Trunk port{' '}
                <span className="text-[12px] text-muted">— the VM may send frames tagged with these VLANs</span>
              </span>
            </label>
            <div className="flex flex-wrap gap-3">
              <Field
                label="Allowed VLANs"
                htmlFor={`trunk-allowed-${port.nicName}`}
                hint="e.g. 10, 20, 30 (at most 64)"
                className="w-48"
              >
                <Input
                  id={`trunk-allowed-${port.nicName}`}
                  disabled={!draft.trunk}
                  value={draft.allowedVlans}
                  onChange={(e) => set({ allowedVlans: e.target.value })}
                />
              </Field>
              <Field
                label="Native VLAN"
                htmlFor={`trunk-native-${port.nicName}`}
                hint="One of the allowed"
                className="w-28"
              >
                <Input
                  id={`trunk-native-${port.nicName}`}
                  inputMode="numeric"
                  disabled={!draft.trunk}
                  value={draft.nativeVlan}
                  onChange={(e) => set({ nativeVlan: e.target.value })}
                />
              </Field>
            </div>
          </fieldset>
          {draft.trunk !== (draft.pvlanMode !== 'none') ? (
            <p id={`vlan-mode-${port.nicName}`} className="text-[12px] text-muted md:col-span-2">
              {draft.trunk
                ? 'A trunk port has no private VLAN: a port is in one VLAN mode. Clear Trunk port to set a PVLAN.'
                : 'A private VLAN port is no trunk: a port is in one VLAN mode. Set PVLAN mode to none to make it a trunk.'}
            </p>
          ) : null}
        </div>
      </fieldset>
      {canEdit ? (
        <div className="flex flex-wrap items-center gap-3">
          <Button type="submit" variant="primary" disabled={save.isPending}>
            Save port policy
          </Button>
          <Button
            type="button"
            variant="ghost"
            onClick={() => {
              save.reset();
              setSaved(false);
              setDraft(toDraft(port.policy));
            }}
          >
            Discard changes
          </Button>
          {save.isError ? <InlineError>{errorMessage(save.error)}</InlineError> : null}
          {saved && !save.isError ? (
            <span role="status" className="text-[12.5px] text-muted">
              Saved: compiled for the host and sent to its agent
            </span>
          ) : null}
        </div>
      ) : (
        <p className="text-[12px] text-muted">
          {me.role === 'provider-admin'
            ? "A port policy is the tenant's: its admins change it in the portal."
            : "Only your tenant's admins change port policies."}
        </p>
      )}
    </form>
  );
}

/**
 * A tenant admin takes the adapter off its subnet: it gives back its address
 * (and provider address), its host's switch drops its port, and it keeps its
 * MAC and policy. Asks first, naming what goes.
 */
function DetachPort({ vmId, port }: { vmId: string; port: Port }) {
  const me = useSession();
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [asking, setAsking] = useState(false);
  const detach = useMutation(
    trpc.network.detachNic.mutationOptions({
      onSuccess: () => qc.invalidateQueries({ queryKey: trpc.network.vmPorts.queryKey({ vmId }) }),
    }),
  );
  if (me.role !== 'tenant-admin' || !port.subnet) return null;
  const where = `${port.subnet.vmNetworkName}/${port.subnet.name}`;
  return (
    <div className="flex flex-wrap items-center gap-3 border-t border-border pt-4 text-[12.5px]">
      {asking ? (
        <>
          <span>
            Detach {port.nicName} from {where}? It gives back {port.ca ?? 'its address'} and the VM loses this network.
          </span>
          <Button
            type="button"
            variant="danger"
            size="sm"
            disabled={detach.isPending}
            onClick={() => detach.mutate({ vmId, nicName: port.nicName })}
          >
            Detach
          </Button>
          <Button type="button" variant="ghost" size="sm" onClick={() => setAsking(false)}>
            Cancel
          </Button>
        </>
      ) : (
        <Button type="button" variant="ghost" size="sm" onClick={() => setAsking(true)}>
          Detach from {where}
        </Button>
      )}
      {detach.isError ? <InlineError>{errorMessage(detach.error)}</InlineError> : null}
    </div>
  );
}

function TracePanel({ vmId }: { vmId: string }) {
  const trpc = useTRPC();
  const [to, setTo] = useState({ toCa: '', port: '', protocol: 'tcp' as 'tcp' | 'udp' | 'icmp' });
  const run = useMutation(trpc.network.tenantTrace.mutationOptions());
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    run.mutate({ fromVmId: vmId, toCa: to.toCa.trim(), protocol: to.protocol, port: num(to.port) });
  };
  return (
    <div className="border-t border-border pt-4">
      <h3 className="mb-2 text-[12.5px] font-semibold">Trace a packet from this VM</h3>
      <form onSubmit={onSubmit} className="flex flex-wrap items-end gap-3" aria-label="Trace a packet">
        <Field label="Destination address" htmlFor="trace-to" className="w-40">
          <Input
            id="trace-to"
            placeholder="10.1.1.3"
            value={to.toCa}
            onChange={(e) => setTo({ ...to, toCa: e.target.value })}
          />
        </Field>
        <Field label="Protocol" htmlFor="trace-protocol" className="w-24">
          <Select
            id="trace-protocol"
            value={to.protocol}
            onChange={(e) => setTo({ ...to, protocol: e.target.value as typeof to.protocol })}
          >
            <option value="tcp">tcp</option>
            <option value="udp">udp</option>
            <option value="icmp">icmp</option>
          </Select>
        </Field>
        <Field label="Destination port" htmlFor="trace-port" className="w-24">
          <Input
            id="trace-port"
            inputMode="numeric"
            placeholder="any"
            value={to.port}
            onChange={(e) => setTo({ ...to, port: e.target.value })}
          />
        </Field>
        <Button type="submit" disabled={!to.toCa || run.isPending}>
          Trace
        </Button>
        {run.isError ? <InlineError>{errorMessage(run.error)}</InlineError> : null}
      </form>
      {run.data ? (
        <div className="mt-3 text-[13px]" data-testid="trace-result">
          <div className="mb-1 flex items-center gap-2">
            {run.data.delivered ? (
              <Badge tone="green">Delivered{run.data.toVmName ? ` to ${run.data.toVmName}` : ''}</Badge>
            ) : (
              <Badge tone="red">Dropped</Badge>
            )}
            {run.data.pending ? (
              <span className="text-[12px] text-muted">
                A host has not applied the latest policy yet: this is what it does now; trace again in a moment
              </span>
            ) : null}
            {run.data.computed ? (
              <span className="text-[12px] text-muted">
                A host on the path did not answer: its part is worked out by Fabric from your policy, not traced by it
              </span>
            ) : null}
          </div>
          <ol className="list-decimal pl-5">
            {run.data.hops.map((h, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: hops are an ordered path
              <li key={i} className={h.ok ? 'text-fg' : 'text-danger'}>
                <span className="text-muted">{h.stage}:</span> {h.rule}
              </li>
            ))}
          </ol>
        </div>
      ) : null}
    </div>
  );
}
