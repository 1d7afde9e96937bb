import { describe, expect, it } from 'vitest';
import type { NewAuditEvent } from '../audit/audit-event';
import type { AuditRepository } from '../audit/audit-repository';
import type { Actor } from '../shared/tenant-scope';
import {
  type AddressClass,
  cidrsOverlap,
  defineAddressClassInput,
  formatCidr,
  MAX_ADDRESS_CLASSES,
  parseCidr,
} from './address-class.schema';
import type { AddressClassRepository } from './address-class-repository';
import { AddressClassService } from './address-class-service';
import { MeteringError } from './metering.errors';
import { vmSampleSchema } from './sample-protocol.schema';

const messages = (r: { success: boolean; error?: { issues: { message: string }[] } }) =>
  r.success ? [] : (r.error?.issues.map((i) => i.message) ?? []);

describe('CIDR blocks', () => {
  it.each([
    ['10.0.0.0/8', 4, 8],
    ['0.0.0.0/0', 4, 0],
    ['192.0.2.7/32', 4, 32],
    ['2001:db8::/32', 6, 32],
    ['::/0', 6, 0],
    ['fe80::1/128', 6, 128],
    ['::ffff:192.0.2.0/120', 6, 120],
    ['2001:db8:0:0:0:0:0:0/64', 6, 64],
  ] as const)('accepts %s', (text, version, prefix) => {
    const parsed = parseCidr(text);
    expect(parsed).toMatchObject({ version, prefix });
  });

  it.each([
    ['10.0.0.0', 'is not a CIDR block such as 10.0.0.0/8 or 2001:db8::/32'],
    ['10.0.0/8', 'has no valid IPv4 address'],
    ['256.0.0.0/8', 'has no valid IPv4 address'],
    ['010.0.0.0/8', 'has no valid IPv4 address'],
    ['10.0.0.0/33', 'an IPv4 prefix length is 0 to 32'],
    ['2001:db8::/129', 'an IPv6 prefix length is 0 to 128'],
    ['2001:db8:::/32', 'has no valid IPv6 address'],
    ['1:2:3:4:5:6:7:8:9/64', 'has no valid IPv6 address'],
    ['1:2:3:4:5:6:7/64', 'has no valid IPv6 address'],
    ['10.1.2.3/8', 'has host bits set; the block is 10.0.0.0/8'],
    ['2001:db8::1/32', 'has host bits set; the block is 2001:db8:0:0:0:0:0:0/32'],
  ])('refuses %s, saying why', (text, why) => {
    const parsed = parseCidr(text);
    expect('error' in parsed && parsed.error).toContain(why);
  });

  it('formats back what it parsed', () => {
    const parsed = parseCidr('172.16.0.0/12');
    expect('error' in parsed ? parsed.error : formatCidr(parsed)).toBe('172.16.0.0/12');
  });

  it.each([
    ['10.0.0.0/8', '10.1.0.0/16', true],
    ['10.1.0.0/16', '10.0.0.0/8', true],
    ['10.0.0.0/16', '10.1.0.0/16', false],
    ['0.0.0.0/0', '192.0.2.0/24', true],
    ['2001:db8::/32', '2001:db8:1::/48', true],
    ['2001:db8::/32', '2001:db9::/32', false],
    ['0.0.0.0/0', '::/0', false],
  ])('%s and %s overlap: %s', (a, b, overlap) => {
    const pa = parseCidr(a);
    const pb = parseCidr(b);
    if ('error' in pa || 'error' in pb) throw new Error('bad fixture');
    expect(cidrsOverlap(pa, pb)).toBe(overlap);
  });
});

describe('defining a class: input', () => {
  it('accepts a slug and a list of blocks, trimmed and lower-cased', () => {
    const r = defineAddressClassInput.safeParse({
      name: 'storage',
      remoteAddresses: [' 10.0.0.0/8 ', '2001:DB8::/32'],
    });
    expect(r.success && r.data.remoteAddresses).toEqual(['10.0.0.0/8', '2001:db8::/32']);
  });

  it.each([
    [{ name: 'internet', remoteAddresses: ['10.0.0.0/8'] }, '"internet" and "datacenter" are the fixed classes'],
    [{ name: 'datacenter', remoteAddresses: ['10.0.0.0/8'] }, '"internet" and "datacenter" are the fixed classes'],
    [{ name: 'Storage', remoteAddresses: ['10.0.0.0/8'] }, 'A class name is a slug'],
    [{ name: 'storage-', remoteAddresses: ['10.0.0.0/8'] }, 'A class name is a slug'],
    [{ name: 'a'.repeat(33), remoteAddresses: ['10.0.0.0/8'] }, 'A class name is a slug'],
    [{ name: 'storage', remoteAddresses: [] }, 'List at least one remote CIDR block'],
    [{ name: 'storage', remoteAddresses: ['10.0.0.0/8', '10.2.0.0/16'] }, '10.2.0.0/16 overlaps 10.0.0.0/8'],
    [
      { name: 'storage', remoteAddresses: Array.from({ length: 33 }, (_, i) => `10.${i}.0.0/16`) },
      'At most 32 CIDR blocks per class',
    ],
  ])('refuses %j', (input, message) => {
    expect(messages(defineAddressClassInput.safeParse(input)).join(' | ')).toContain(message);
  });
});

describe('samples with metered ACLs', () => {
  const base = {
    vmId: '7a1c1e1e-51a3-4f8e-9a55-1e6d1a2c3b4d',
    at: '2026-11-02T10:01:00Z',
    intervalSeconds: 60,
    cpuAvgMhz: 100,
    memoryAvgMiB: 1024,
    memoryMinMiB: 1024,
    memoryMaxMiB: 1024,
    diskAllocatedGiB: 40,
    diskReadBytes: 0,
    diskWriteBytes: 0,
    networkInInternetBytes: 1,
    networkOutInternetBytes: 2,
    networkInDatacenterBytes: 3,
    networkOutDatacenterBytes: 4,
  };

  it('a sample without ACLs parses exactly as before (no networkAcls key appears)', () => {
    const r = vmSampleSchema.safeParse(base);
    expect(r.success && r.data).toEqual(base);
  });

  it('takes up to 16 ACLs, each once, with whole non-negative bytes', () => {
    const acls = Array.from({ length: 16 }, (_, i) => ({ acl: `c${i}`, inBytes: i, outBytes: 2 * i }));
    expect(vmSampleSchema.safeParse({ ...base, networkAcls: acls }).success).toBe(true);
    expect(
      messages(vmSampleSchema.safeParse({ ...base, networkAcls: [...acls, { acl: 'x', inBytes: 0, outBytes: 0 }] })),
    ).toEqual(['At most 16 metered ACLs per sample']);
    expect(
      messages(
        vmSampleSchema.safeParse({
          ...base,
          networkAcls: [
            { acl: 'storage', inBytes: 1, outBytes: 1 },
            { acl: 'storage', inBytes: 1, outBytes: 1 },
          ],
        }),
      ),
    ).toEqual(['Each metered ACL at most once per sample']);
    expect(
      vmSampleSchema.safeParse({ ...base, networkAcls: [{ acl: 'storage', inBytes: -1, outBytes: 0 }] }).success,
    ).toBe(false);
    expect(
      vmSampleSchema.safeParse({ ...base, networkAcls: [{ acl: 'storage', inBytes: 1.5, outBytes: 0 }] }).success,
    ).toBe(false);
  });
});

/** An in-memory repository and audit log behind a unit of work that keeps nothing when `fn` throws. */
function fakes() {
  let classes: (AddressClass & { used?: boolean })[] = [];
  const events: NewAuditEvent[] = [];
  const repo = (state: typeof classes, log: NewAuditEvent[]) => {
    const addressClasses: AddressClassRepository = {
      list: async () => state.map(({ used: _, ...c }) => c),
      lockAll: async () => {},
      insert: async (name, remoteAddresses) => {
        const c = { name, remoteAddresses, createdAt: new Date('2026-11-02T10:00:00Z') };
        state.push(c);
        return c;
      },
      findForUpdate: async (name) => state.find((c) => c.name === name) ?? null,
      hasUsage: async (name) => state.find((c) => c.name === name)?.used === true,
      delete: async (name) => {
        state.splice(
          state.findIndex((c) => c.name === name),
          1,
        );
      },
    };
    const audit = { append: async (e: NewAuditEvent) => void log.push(e) } as unknown as AuditRepository;
    return { addressClasses, audit };
  };
  const service = new AddressClassService({
    clock: { now: () => new Date('2026-11-02T10:00:00Z') },
    uow: {
      get repos() {
        return repo(classes, events);
      },
      async run(fn) {
        const draft = classes.map((c) => ({ ...c }));
        const log: NewAuditEvent[] = [];
        const result = await fn(repo(draft, log));
        classes = draft;
        events.push(...log);
        return result;
      },
    },
  });
  return {
    service,
    events,
    markUsed: (name: string) => {
      const c = classes.find((x) => x.name === name);
      if (c) c.used = true;
    },
  };
}

const admin: Actor = { type: 'user', id: 'u1', label: 'admin@fabric.local' };
const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return 'ok';
  } catch (error) {
    return error instanceof MeteringError ? `${error.code}: ${error.message}` : String(error);
  }
};

describe('address class service', () => {
  it('defines, lists and removes a class, auditing each change', async () => {
    const { service, events } = fakes();
    await service.define(admin, { name: 'storage', remoteAddresses: ['10.0.0.0/8'] });
    expect((await service.list()).map((c) => c.name)).toEqual(['storage']);
    expect(await service.forAgents()).toEqual([{ name: 'storage', remoteAddresses: ['10.0.0.0/8'] }]);
    await service.remove(admin, 'storage');
    expect(await service.list()).toEqual([]);
    expect(events.map((e) => [e.action, e.targetLabel, e.result])).toEqual([
      ['metering.address-class.define', 'storage', 'success'],
      ['metering.address-class.remove', 'storage', 'success'],
    ]);
  });

  it(`refuses a ${MAX_ADDRESS_CLASSES + 1}th class, naming the limit, and writes nothing`, async () => {
    const { service, events } = fakes();
    for (let i = 0; i < MAX_ADDRESS_CLASSES; i += 1) {
      await service.define(admin, { name: `c${i}`, remoteAddresses: [`10.${i}.0.0/16`] });
    }
    expect(await codeOf(service.define(admin, { name: 'one-more', remoteAddresses: ['192.0.2.0/24'] }))).toBe(
      'ADDRESS_CLASS_LIMIT: At most 16 metered address classes besides internet and datacenter; remove an unused one first',
    );
    expect(await service.list()).toHaveLength(MAX_ADDRESS_CLASSES);
    expect(events).toHaveLength(MAX_ADDRESS_CLASSES);
  });

  it('refuses a taken name and a block that overlaps another class', async () => {
    const { service } = fakes();
    await service.define(admin, { name: 'storage', remoteAddresses: ['10.0.0.0/8'] });
    expect(await codeOf(service.define(admin, { name: 'storage', remoteAddresses: ['192.0.2.0/24'] }))).toMatch(
      /^DUPLICATE_ADDRESS_CLASS: /,
    );
    expect(await codeOf(service.define(admin, { name: 'backup', remoteAddresses: ['10.20.0.0/16'] }))).toBe(
      'ADDRESS_CLASS_OVERLAP: 10.20.0.0/16 overlaps 10.0.0.0/8 of class "storage": traffic to it would be metered twice',
    );
  });

  it('keeps a class with usage, saying why', async () => {
    const { service, markUsed, events } = fakes();
    await service.define(admin, { name: 'storage', remoteAddresses: ['10.0.0.0/8'] });
    markUsed('storage');
    expect(await codeOf(service.remove(admin, 'storage'))).toMatch(
      /^ADDRESS_CLASS_IN_USE: Address class "storage" has metered usage/,
    );
    expect((await service.list()).map((c) => c.name)).toEqual(['storage']);
    expect(events.map((e) => e.action)).toEqual(['metering.address-class.define']);
    expect(await codeOf(service.remove(admin, 'nothing'))).toBe(
      'ADDRESS_CLASS_NOT_FOUND: No address class named "nothing"',
    );
  });
});
