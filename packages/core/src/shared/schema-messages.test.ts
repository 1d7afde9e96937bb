import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { setPlanInput } from '../chargeback/chargeback.schema';
import { listVmsInput, memoryInput } from '../compute/vm.schema';
import { haSettingsPatchSchema } from '../ha/ha-settings';
import { measureInput } from '../metering/measure.schema';
import { migrateInput, migrationHistoryInput } from '../mobility/mobility.schema';
import { attachNicInput, setPortPolicyInput } from '../network/network.schema';
import { taskReportSchema } from '../tasks/task-protocol.schema';
import { createUserInput } from '../tenancy/tenancy.schema';

// A refused input says what was expected. zod's own messages for a union ("Invalid input": it shows none of
// its branches' messages) and an enum ("Invalid option: …") name no field, and were what a wrong type in
// a union or a misspelt word got back from the API.

const SRC = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const VM = '5b0c6a3e-1f0e-4c2b-9a55-3f1d2a7e9c01';

function firstMessage(schema: z.ZodType, value: unknown): string | undefined {
  const parsed = schema.safeParse(value);
  return parsed.success ? undefined : parsed.error.issues[0]?.message;
}

describe('inputs refused with what they expect', () => {
  it.each([
    [
      'a wrong type where a host id or "best" goes',
      migrateInput,
      { vmId: VM, to: 42 },
      "to must be a host id (uuid) or 'best'",
    ],
    [
      'a memory mode that does not exist',
      memoryInput,
      { mode: 'huge', sizeMiB: 512 },
      'Memory is { mode: "static", sizeMiB }',
    ],
    ['a plan that is not an object', setPlanInput, { tenantId: VM, plan: 'free' }, 'A plan is { kind: "list" }'],
    [
      'a measuring scope of an unknown kind',
      measureInput,
      { scope: { kind: 'host' }, from: new Date(0), to: new Date(1) },
      'The scope is { kind: "tenant", tenantId? } or { kind: "pool", clusterId }',
    ],
    [
      'an agent report with an unknown status',
      taskReportSchema,
      { seq: 1, status: 'done' },
      'A task report is { seq, status } with status running, succeeded or failed',
    ],
    [
      'a sort column that does not exist',
      listVmsInput,
      { sort: 'size' },
      'Sort must be one of name, state, vcpus, memoryMiB, createdAt',
    ],
    [
      'a role that does not exist',
      createUserInput,
      { name: 'Ann', email: 'ann@blue.example', password: 'long-enough-1', role: 'root' },
      'Role must be one of provider-admin, tenant-admin, tenant-user, finance',
    ],
  ] as const)('%s', (_what, schema, value, expected) => {
    const refused = schema.safeParse(value);
    expect(refused.success).toBe(false);
    const messages = refused.error?.issues.map((i) => i.message) ?? [];
    expect(messages.some((m) => m.startsWith(expected))).toBe(true);
    expect(messages.filter((m) => /^Invalid (input|option)/.test(m))).toEqual([]);
  });
});

describe('numbers and flags refused with their field and limit, not zod’s "expected number" or "Too small"', () => {
  const port = { vmId: VM, nicName: 'nic0' };
  it.each([
    [
      'HA restart concurrency as text',
      haSettingsPatchSchema,
      { restartConcurrencyPerHost: '4' },
      'restart concurrency per host must be a whole number from 1 to 64',
    ],
    [
      'HA restart concurrency of 0',
      haSettingsPatchSchema,
      { restartConcurrencyPerHost: 0 },
      'restart concurrency per host must be a whole number from 1 to 64',
    ],
    [
      'HA host failures to tolerate of 0',
      haSettingsPatchSchema,
      { hostFailuresToTolerate: 0 },
      'host failures to tolerate must be a whole number from 1 to 4',
    ],
    [
      'HA reserved capacity as text',
      haSettingsPatchSchema,
      { reservedCapacityPercent: 'half' },
      'reserved capacity must be a whole number from 1 to 90 %',
    ],
    [
      'HA reserved capacity of 2.5',
      haSettingsPatchSchema,
      { reservedCapacityPercent: 2.5 },
      'reserved capacity must be a whole number from 1 to 90 %',
    ],
    [
      'a migration history limit of 0',
      migrationHistoryInput,
      { limit: 0 },
      'limit (migrations) must be a whole number from 1 to 200',
    ],
    [
      'a migration history limit as text',
      migrationHistoryInput,
      { limit: '5' },
      'limit (migrations) must be a whole number from 1 to 200',
    ],
    [
      'a port guard as text',
      setPortPolicyInput,
      { ...port, policy: { dhcpGuard: 'yes' } },
      'DHCP guard must be true or false',
    ],
    [
      'MAC spoofing as a number',
      attachNicInput,
      { ...port, subnetId: VM, policy: { macSpoofing: 1 } },
      'MAC spoofing must be true or false',
    ],
    [
      'a null port policy change',
      setPortPolicyInput,
      { ...port, policy: null },
      'policy must be a port policy change (each field left out keeps its value) such as { dhcpGuard: true, acls: [] }',
    ],
    [
      'a port policy that is text',
      attachNicInput,
      { ...port, subnetId: VM, policy: 'open' },
      'policy must be a port policy such as',
    ],
  ] as const)('%s', (_what, schema, value, expected) => {
    const messages = (schema as z.ZodType).safeParse(value).error?.issues.map((i) => i.message) ?? [];
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(new RegExp(`^${expected.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    expect(messages[0]).not.toMatch(/^(Invalid input|Too (small|big))/);
  });

  it('a port policy change with an unknown field still names the field', () => {
    const messages = setPortPolicyInput.safeParse({ ...port, policy: { vlan: 5 } }).error?.issues.map((i) => i.message);
    expect(messages?.join()).toContain('vlan');
  });
});

/** Every union inside a schema (objects, arrays, optionals, defaults, pipes), with where it is. */
function* unions(schema: unknown, where: string, seen = new Set<unknown>()): Generator<[string, z.ZodType]> {
  if (!schema || typeof schema !== 'object' || !('_zod' in schema) || seen.has(schema)) return;
  seen.add(schema);
  const def = (schema as { _zod: { def: Record<string, unknown> } })._zod.def;
  if (def.type === 'union') yield [where, schema as z.ZodType];
  const shape = def.shape && typeof def.shape === 'object' ? Object.entries(def.shape) : [];
  for (const [key, child] of shape) yield* unions(child, `${where}.${key}`, seen);
  for (const [i, option] of (Array.isArray(def.options) ? def.options : []).entries()) {
    yield* unions(option, `${where}|${i}`, seen);
  }
  for (const key of ['innerType', 'in', 'out', 'element', 'valueType', 'left', 'right']) {
    yield* unions(def[key], `${where}>${key}`, seen);
  }
}

function schemaFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return schemaFiles(full);
    return entry.name.endsWith('.schema.ts') ? [full] : [];
  });
}

it('no union of a core schema answers a wrong value with zod’s bare "Invalid input"', async () => {
  const bare: string[] = [];
  for (const file of schemaFiles(SRC)) {
    const exported = (await import(file)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(exported)) {
      for (const [where, union] of unions(value, `${path.relative(SRC, file)} ${name}`)) {
        const discriminator = (union as unknown as { _zod: { def: { discriminator?: string } } })._zod.def
          .discriminator;
        const wrong = [Symbol('wrong'), 'wrong', 12345, {}, ...(discriminator ? [{ [discriminator]: 'wrong' }] : [])];
        for (const value of wrong) {
          const message = firstMessage(union, value);
          if (message?.startsWith('Invalid input')) bare.push(`${where}: ${message}`);
        }
      }
    }
  }
  expect(bare).toEqual([]);
});
