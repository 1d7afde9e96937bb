'use client';

import { createSubnetInput, createVmNetworkInput } from '@fabric/core/network/network.schema';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { useSession } from '@/components/shell/session';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { Dialog } from '@/components/ui/dialog';
import { InlineError } from '@/components/ui/error-state';
import { describedBy, Field, Input, Select } from '@/components/ui/input';
import { PageHeader } from '@/components/ui/page-header';
import { Table, TD, TH, THead, TR } from '@/components/ui/table';
import { errorMessage, fieldErrors } from '@/lib/errors';
import { useTRPC } from '@/trpc/client';
import type { RouterOutputs } from '@/trpc/types';

type Network = RouterOutputs['network']['topology'][number];
type Subnet = Network['subnets'][number];
/** The network or subnet being edited or deleted in the dialog. */
type Editing =
  | { kind: 'network'; mode: 'edit' | 'delete'; network: Network }
  | { kind: 'subnet'; mode: 'edit' | 'delete'; network: Network; subnet: Subnet };

/**
 * A tenant's VM networks (routing domains), their virtual subnets (VSID, CA
 * prefix, gateway) and each VM's address: the topology networks → subnets →
 * VMs. Tenant admins create, edit and delete networks and subnets (a network
 * or subnet with VMs attached keeps its addresses and cannot be deleted: the
 * API says which VMs); a VM joins one by naming "<network>/<subnet>" in the
 * create form.
 */
export function PortalNetworksView() {
  const me = useSession();
  const trpc = useTRPC();
  const qc = useQueryClient();
  const topology = useQuery(trpc.network.topology.queryOptions());
  const invalidate = () => qc.invalidateQueries({ queryKey: trpc.network.topology.queryKey() });
  const createNetwork = useMutation(trpc.network.createVmNetwork.mutationOptions({ onSuccess: invalidate }));
  const createSubnet = useMutation(trpc.network.createSubnet.mutationOptions({ onSuccess: invalidate }));
  const [netName, setNetName] = useState('');
  const [subnet, setSubnet] = useState({ vmNetworkId: '', name: '', prefix: '' });
  const isAdmin = me.role === 'tenant-admin';
  const [editing, setEditing] = useState<Editing | null>(null);

  // Errors show beside their field (the form's check first, then the API's) and go when the field is edited.
  const [netErrors, setNetErrors] = useState<Record<string, string>>({});
  const [subnetErrors, setSubnetErrors] = useState<Record<string, string>>({});
  const netFieldErrors = { ...(createNetwork.isError ? fieldErrors(createNetwork.error) : {}), ...netErrors };
  const subnetFieldErrors = { ...(createSubnet.isError ? fieldErrors(createSubnet.error) : {}), ...subnetErrors };

  const onNetwork = (e: FormEvent) => {
    e.preventDefault();
    const parsed = createVmNetworkInput.safeParse({ name: netName, isolation: 'gre' });
    if (!parsed.success) {
      setNetErrors(firstIssueByField(parsed.error.issues));
      return;
    }
    createNetwork.mutate(parsed.data, { onSuccess: () => setNetName('') });
  };
  const editNetName = (value: string) => {
    setNetName(value);
    setNetErrors({});
    if (createNetwork.isError) createNetwork.reset();
  };
  const onSubnet = (e: FormEvent) => {
    e.preventDefault();
    const parsed = createSubnetInput.safeParse(subnet);
    if (!parsed.success) {
      setSubnetErrors(firstIssueByField(parsed.error.issues));
      return;
    }
    createSubnet.mutate(parsed.data, { onSuccess: () => setSubnet({ ...subnet, name: '', prefix: '' }) });
  };
  const editSubnet = (key: keyof typeof subnet, value: string) => {
    setSubnet({ ...subnet, [key]: value });
    setSubnetErrors({ ...subnetErrors, [key]: '' });
    if (createSubnet.isError) createSubnet.reset();
  };
  /** The API's refusal that is no field's (a duplicate name, a quota): under the row. */
  const otherError = (error: unknown, fields: Record<string, string>) =>
    Object.values(fields).some(Boolean) ? null : <InlineError>{errorMessage(error)}</InlineError>;

  return (
    <>
      <PageHeader
        title="Networks"
        description="Your VM networks keep your own addresses (they may overlap other customers'); Fabric gives each VM an address in its subnet."
      />
      <div className="flex flex-col gap-4">
        {isAdmin ? (
          <Card>
            <CardHeader
              title="New VM network and subnet"
              description="A VM network is one routing domain; its subnets must not overlap each other"
            />
            <CardBody className="flex flex-col gap-4">
              <form onSubmit={onNetwork} className="flex flex-wrap items-end gap-3">
                <Field
                  label="VM network name"
                  htmlFor="net-name"
                  className="w-60"
                  hint="At most 64 characters: letters, digits, “.”, “_”, “-”"
                  error={netFieldErrors.name || undefined}
                >
                  <Input
                    {...describedBy('net-name', netFieldErrors.name || undefined, true)}
                    value={netName}
                    onChange={(e) => editNetName(e.target.value)}
                  />
                </Field>
                <Button type="submit" disabled={createNetwork.isPending}>
                  Create VM network
                </Button>
                {createNetwork.isError ? otherError(createNetwork.error, netFieldErrors) : null}
              </form>
              <form onSubmit={onSubnet} className="flex flex-wrap items-end gap-3">
                <Field
                  label="VM network"
                  htmlFor="subnet-net"
                  className="w-60"
                  error={subnetFieldErrors.vmNetworkId ? 'Choose the VM network' : undefined}
                >
                  <Select
                    {...describedBy('subnet-net', subnetFieldErrors.vmNetworkId || undefined)}
                    value={subnet.vmNetworkId}
                    onChange={(e) => editSubnet('vmNetworkId', e.target.value)}
                  >
                    <option value="">Choose…</option>
                    {(topology.data ?? []).map((n) => (
                      <option key={n.id} value={n.id}>
                        {n.name}
                      </option>
                    ))}
                  </Select>
                </Field>
                <Field
                  label="Subnet name"
                  htmlFor="subnet-name"
                  className="w-44"
                  hint="At most 64 characters"
                  error={subnetFieldErrors.name || undefined}
                >
                  <Input
                    {...describedBy('subnet-name', subnetFieldErrors.name || undefined, true)}
                    value={subnet.name}
                    onChange={(e) => editSubnet('name', e.target.value)}
                  />
                </Field>
                <Field
                  label="Prefix"
                  htmlFor="subnet-prefix"
                  hint="e.g. 10.1.1.0/24"
                  className="w-44"
                  error={subnetFieldErrors.prefix || undefined}
                >
                  <Input
                    {...describedBy('subnet-prefix', subnetFieldErrors.prefix || undefined, true)}
                    value={subnet.prefix}
                    onChange={(e) => editSubnet('prefix', e.target.value)}
                  />
                </Field>
                <Button type="submit" disabled={createSubnet.isPending}>
                  Add subnet
                </Button>
                {createSubnet.isError ? otherError(createSubnet.error, subnetFieldErrors) : null}
              </form>
            </CardBody>
          </Card>
        ) : null}
        {topology.isError ? (
          <InlineError>Could not load your networks: {errorMessage(topology.error)}</InlineError>
        ) : null}
        {(topology.data ?? []).map((n) => (
          <Card key={n.id}>
            <CardHeader
              title={n.name}
              description={`VM network · ${n.isolation === 'gre' ? 'GRE encapsulation' : 'IP rewrite'} · ${n.subnets.length} subnet(s)`}
              actions={
                isAdmin ? (
                  <>
                    <Button
                      size="sm"
                      aria-label={`Edit VM network ${n.name}`}
                      onClick={() => setEditing({ kind: 'network', mode: 'edit', network: n })}
                    >
                      Edit
                    </Button>
                    <Button
                      size="sm"
                      variant="ghost"
                      aria-label={`Delete VM network ${n.name}`}
                      onClick={() => setEditing({ kind: 'network', mode: 'delete', network: n })}
                    >
                      Delete
                    </Button>
                  </>
                ) : null
              }
            />
            <CardBody className="flex flex-col gap-4">
              {n.subnets.map((s) => (
                <div key={s.id} data-testid={`subnet-${n.name}-${s.name}`}>
                  <div className="mb-2 flex items-center gap-2 text-[13px]">
                    <strong>{s.name}</strong>
                    <Badge tone="blue">{s.prefix}</Badge>
                    <span className="text-fg-muted">
                      VSID {s.vsid} · gateway {s.gateway} · create-form network name{' '}
                      <code>{`${n.name}/${s.name}`}</code>
                    </span>
                    {isAdmin ? (
                      <span className="ml-auto flex gap-1">
                        <Button
                          size="sm"
                          aria-label={`Edit subnet ${n.name}/${s.name}`}
                          onClick={() => setEditing({ kind: 'subnet', mode: 'edit', network: n, subnet: s })}
                        >
                          Edit
                        </Button>
                        <Button
                          size="sm"
                          variant="ghost"
                          aria-label={`Delete subnet ${n.name}/${s.name}`}
                          onClick={() => setEditing({ kind: 'subnet', mode: 'delete', network: n, subnet: s })}
                        >
                          Delete
                        </Button>
                      </span>
                    ) : null}
                  </div>
                  <Table>
                    <THead>
                      <TH>VM</TH>
                      <TH>Adapter</TH>
                      <TH>Address (CA)</TH>
                      <TH>MAC</TH>
                      <TH>State</TH>
                    </THead>
                    <tbody>
                      {s.nics.length === 0 ? (
                        <TR>
                          <TD colSpan={5} className="text-fg-muted">
                            No VM in this subnet yet
                          </TD>
                        </TR>
                      ) : (
                        s.nics.map((nic) => (
                          <TR key={`${nic.vmId}/${nic.nicName}`}>
                            <TD>{nic.vmName}</TD>
                            <TD>{nic.nicName}</TD>
                            <TD>{nic.ca ?? '—'}</TD>
                            <TD className="font-mono text-[12px]">{nic.mac}</TD>
                            <TD>{nic.vmState}</TD>
                          </TR>
                        ))
                      )}
                    </tbody>
                  </Table>
                </div>
              ))}
            </CardBody>
          </Card>
        ))}
      </div>
      {editing ? <EditDialog key={dialogKey(editing)} editing={editing} onClose={() => setEditing(null)} /> : null}
    </>
  );
}

const dialogKey = (e: Editing) => `${e.kind}-${e.mode}-${e.kind === 'subnet' ? e.subnet.id : e.network.id}`;

/**
 * Edits or deletes one network or subnet. The API checks everything (attached
 * VMs, overlaps, names) in one transaction and names the rule; the dialog
 * shows that message and keeps what was typed.
 */
function EditDialog({ editing, onClose }: { editing: Editing; onClose: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const done = async () => {
    await qc.invalidateQueries({ queryKey: trpc.network.topology.queryKey() });
    await qc.invalidateQueries({ queryKey: trpc.network.vmNetworks.queryKey() });
    onClose();
  };
  const updateNetwork = useMutation(trpc.network.updateVmNetwork.mutationOptions({ onSuccess: done }));
  const deleteNetwork = useMutation(trpc.network.deleteVmNetwork.mutationOptions({ onSuccess: done }));
  const updateSubnet = useMutation(trpc.network.updateSubnet.mutationOptions({ onSuccess: done }));
  const deleteSubnet = useMutation(trpc.network.deleteSubnet.mutationOptions({ onSuccess: done }));
  const [net, setNet] = useState({ name: editing.network.name, isolation: editing.network.isolation });
  const sub = editing.kind === 'subnet' ? editing.subnet : undefined;
  const [subnet, setSubnet] = useState({
    name: sub?.name ?? '',
    prefix: sub?.prefix ?? '',
    gateway: sub?.gateway ?? '',
  });
  const mutation =
    editing.kind === 'network'
      ? editing.mode === 'edit'
        ? updateNetwork
        : deleteNetwork
      : editing.mode === 'edit'
        ? updateSubnet
        : deleteSubnet;
  const attached =
    editing.kind === 'network'
      ? editing.network.subnets.reduce((sum, s) => sum + s.nics.length, 0)
      : editing.subnet.nics.length;
  const label = editing.kind === 'network' ? editing.network.name : `${editing.network.name}/${editing.subnet.name}`;
  const what = editing.kind === 'network' ? 'VM network' : 'subnet';

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (editing.kind === 'network') {
      if (editing.mode === 'delete') deleteNetwork.mutate({ id: editing.network.id });
      else
        updateNetwork.mutate({
          id: editing.network.id,
          ...(net.name !== editing.network.name ? { name: net.name } : {}),
          ...(net.isolation !== editing.network.isolation ? { isolation: net.isolation } : {}),
        });
    } else if (editing.mode === 'delete') deleteSubnet.mutate({ id: editing.subnet.id });
    else
      updateSubnet.mutate({
        id: editing.subnet.id,
        ...(subnet.name !== editing.subnet.name ? { name: subnet.name } : {}),
        ...(subnet.prefix !== editing.subnet.prefix ? { prefix: subnet.prefix } : {}),
        ...(subnet.gateway !== editing.subnet.gateway ? { gateway: subnet.gateway } : {}),
      });
  };
  const formId = `edit-${dialogKey(editing)}`;

  return (
    <Dialog
      open
      onClose={onClose}
      title={editing.mode === 'delete' ? `Delete ${what} ${label}?` : `Edit ${what} ${label}`}
      description={
        attached > 0
          ? `${attached} VM adapter(s) are attached: you can rename it, but not ${editing.kind === 'network' ? 'change its isolation' : 'change its addresses'} or delete it until they leave.`
          : editing.mode === 'delete'
            ? editing.kind === 'network'
              ? 'Its subnets are deleted with it.'
              : 'No VM is attached to it.'
            : undefined
      }
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button
            type="submit"
            form={formId}
            variant={editing.mode === 'delete' ? 'danger' : 'primary'}
            disabled={mutation.isPending}
          >
            {editing.mode === 'delete' ? 'Delete' : 'Save'}
          </Button>
        </>
      }
    >
      <form id={formId} onSubmit={submit} className="flex flex-col gap-3">
        {editing.mode === 'edit' && editing.kind === 'network' ? (
          <>
            <Field label="VM network name" htmlFor="edit-net-name">
              <Input
                id="edit-net-name"
                value={net.name}
                maxLength={64}
                onChange={(e) => setNet({ ...net, name: e.target.value })}
              />
            </Field>
            <Field label="Isolation" htmlFor="edit-net-isolation">
              <Select
                id="edit-net-isolation"
                value={net.isolation}
                onChange={(e) => setNet({ ...net, isolation: e.target.value as Network['isolation'] })}
              >
                <option value="gre">GRE encapsulation</option>
                <option value="ip-rewrite">IP rewrite</option>
              </Select>
            </Field>
          </>
        ) : null}
        {editing.mode === 'edit' && editing.kind === 'subnet' ? (
          <>
            <Field label="Subnet name" htmlFor="edit-subnet-name">
              <Input
                id="edit-subnet-name"
                value={subnet.name}
                maxLength={64}
                onChange={(e) => setSubnet({ ...subnet, name: e.target.value })}
              />
            </Field>
            <Field
              label="Prefix"
              htmlFor="edit-subnet-prefix"
              hint="A new prefix moves the gateway to its first address"
            >
              <Input
                id="edit-subnet-prefix"
                value={subnet.prefix}
                maxLength={18}
                onChange={(e) => setSubnet({ ...subnet, prefix: e.target.value })}
              />
            </Field>
            <Field label="Gateway" htmlFor="edit-subnet-gateway">
              <Input
                id="edit-subnet-gateway"
                value={subnet.gateway}
                maxLength={15}
                onChange={(e) => setSubnet({ ...subnet, gateway: e.target.value })}
              />
            </Field>
          </>
        ) : null}
        {mutation.isError ? <InlineError>{errorMessage(mutation.error)}</InlineError> : null}
      </form>
    </Dialog>
  );
}

/** The first message for each top-level field of a failed parse. */
function firstIssueByField(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of issues) out[String(issue.path[0])] ??= issue.message;
  return out;
}
