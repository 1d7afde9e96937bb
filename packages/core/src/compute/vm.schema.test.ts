import { describe, expect, it } from 'vitest';
import { createManyVmsInput, createVmInput, tierVmName, vmNameSchema } from './vm.schema';
import { wildcardToRegExp } from './vm-state';

const valid = {
  name: 'web-01',
  vcpus: 2,
  memory: { mode: 'static', sizeMiB: 4096 },
  disks: [{ name: 'disk0', sizeGiB: 64 }],
  nics: [{ name: 'nic0', network: 'default' }],
} as const;

/** Issues as `path: message`, the way the console maps them to its fields. */
function issuesOf(input: unknown, schema: typeof createVmInput | typeof createManyVmsInput = createVmInput): string[] {
  const result = schema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('createVmInput reports each problem at the field it belongs to', () => {
  it.each([
    ['a blank vCPU count (an empty form field)', { vcpus: Number.NaN }, 'vcpus: vCPUs is required'],
    ['65 vCPUs', { vcpus: 65 }, 'vcpus: A VM has at most 64 vCPUs (Hyper-V limit)'],
    [
      'minimum above startup memory',
      { memory: { mode: 'dynamic', startupMiB: 2048, minimumMiB: 4096, maximumMiB: 8192 } },
      'memory.minimumMiB: Minimum memory must not exceed startup memory',
    ],
    [
      'startup above maximum memory',
      { memory: { mode: 'dynamic', startupMiB: 2048, minimumMiB: 1024, maximumMiB: 1024 } },
      'memory.maximumMiB: Startup memory must not exceed maximum memory',
    ],
    [
      'a repeated disk name',
      {
        disks: [
          { name: 'disk0', sizeGiB: 1 },
          { name: 'disk0', sizeGiB: 2 },
        ],
      },
      'disks.1.name: Disk names must be unique',
    ],
    [
      'a differencing disk without a parent',
      { disks: [{ name: 'disk0', sizeGiB: 1, kind: 'differencing' }] },
      'disks.0.parent: A differencing disk needs a parent disk of the same VM',
    ],
    [
      'a differencing disk that is its own parent',
      { disks: [{ name: 'disk0', sizeGiB: 1, kind: 'differencing', parent: 'disk0' }] },
      'disks.0.parent: A differencing disk needs a parent disk of the same VM',
    ],
    [
      'a disk over 64 TB',
      { disks: [{ name: 'd', sizeGiB: 64 * 1024 + 1 }] },
      'disks.0.sizeGiB: A VHDX is at most 64 TiB (65,536 GiB) (Hyper-V limit)',
    ],
    [
      'a repeated adapter name',
      { nics: [{ name: 'nic0' }, { name: 'nic0' }] },
      'nics.1.name: Network adapter names must be unique',
    ],
    [
      'a bandwidth weight of 500',
      { nics: [{ name: 'nic0', minimumBandwidthWeight: 500 }] },
      'nics.0.minimumBandwidthWeight: Bandwidth weight is 1–100',
    ],
    ['a tag of 33 characters', { tags: ['x'.repeat(33)] }, 'tags.0: A tag must be at most 32 characters'],
  ])('%s', (_, change, expected) => {
    expect(issuesOf({ ...valid, ...change })).toContain(expected);
  });

  it('checks the disks even while another field is still invalid', () => {
    const issues = issuesOf({
      ...valid,
      vcpus: Number.NaN,
      disks: [
        { name: 'a', sizeGiB: 1 },
        { name: 'a', sizeGiB: 1 },
      ],
    });
    expect(issues).toEqual(['vcpus: vCPUs is required', 'disks.1.name: Disk names must be unique']);
  });

  it('accepts a valid VM, and a differencing disk over another disk', () => {
    expect(issuesOf(valid)).toEqual([]);
    const disks = [
      { name: 'base', sizeGiB: 64 },
      { name: 'diff', sizeGiB: 64, kind: 'differencing', parent: 'base' },
    ];
    expect(issuesOf({ ...valid, disks })).toEqual([]);
  });
});

describe('createManyVmsInput', () => {
  it('names a tier with at least two digits', () => {
    expect([tierVmName('web', 1, 5), tierVmName('web', 100, 100)]).toEqual(['web-01', 'web-100']);
  });

  it('refuses a name that the tier suffix would push past 64 characters, at the name', () => {
    const name = 'a'.repeat(61);
    expect(issuesOf({ vm: { ...valid, name }, count: 99 }, createManyVmsInput)).toEqual([]);
    expect(issuesOf({ vm: { ...valid, name }, count: 100 }, createManyVmsInput)).toEqual([
      'vm.name: With the -01 … suffix the VM names pass 64 characters',
    ]);
  });

  it('says when the count is missing or too large', () => {
    expect(issuesOf({ vm: valid, count: Number.NaN }, createManyVmsInput)).toEqual([
      'count: The number of VMs is required',
    ]);
    expect(issuesOf({ vm: valid, count: 101 }, createManyVmsInput)).toEqual(['count: At most 100 VMs at once']);
  });
});

describe('VM names in other scripts', () => {
  it.each([
    ['Japanese', 'ウェブ-01'],
    ['Cyrillic', 'веб-сервер_1'],
    ['Greek', 'διακομιστής.2'],
    ['Arabic', 'خادم-01'],
    ['Devanagari, with its vowel signs', 'सर्वर-01'],
    ['Latin with diacritics', 'größe.café'],
    ['Chinese outside the BMP', '𠀋-01'],
  ])('accepts a %s name', (_, name) => {
    expect(vmNameSchema.safeParse(name)).toMatchObject({ success: true, data: name });
  });

  it.each([
    ['a space', 'web 01'],
    ['a wildcard', 'web*'],
    ['a question mark', 'web?'],
    ['a path separator', 'web/01'],
    ['a colon', 'c:web'],
    ['a leading hyphen', '-web'],
    ['a leading combining mark', '\u0301web'],
    ['an emoji', 'web-🔥'],
  ])('still refuses %s', (_, name) => {
    expect(issuesOf({ ...valid, name })).toEqual([
      'name: VM name may hold letters, digits, dots, hyphens and underscores, and starts with a letter or digit',
    ]);
  });

  it('a wildcard pattern matches names of any script, `?` one character, case folded', () => {
    expect(wildcardToRegExp('ВЕБ-*').test('веб-сервер_1')).toBe(true);
    expect(wildcardToRegExp('?-01').test('𠀋-01')).toBe(true);
    expect(wildcardToRegExp('??-01').test('𠀋-01')).toBe(false);
  });
});
