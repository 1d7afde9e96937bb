import { describe, expect, it } from 'vitest';
import { createVmInput } from './vm.schema';

const vm = (memory: object) => ({ name: 'web-01', vcpus: 2, memory, disks: [{ sizeGiB: 10 }] });

/** Each field's first message, as the console's form shows them. */
function shown(memory: object): Record<string, string> {
  const result = createVmInput.safeParse(vm(memory));
  const out: Record<string, string> = {};
  if (!result.success) for (const i of result.error.issues) out[i.path.join('.')] ??= i.message;
  return out;
}

describe('minimum ≤ startup ≤ maximum memory: a broken rule marks every field in it', () => {
  it('a minimum above the maximum flags the minimum and the maximum', () => {
    expect(shown({ mode: 'dynamic', startupMiB: 4096, minimumMiB: 16384, maximumMiB: 8192 })).toEqual({
      'memory.startupMiB': 'Minimum memory must not exceed startup memory',
      'memory.minimumMiB': 'Minimum memory must not exceed startup memory',
      'memory.maximumMiB': 'Minimum memory must not exceed maximum memory',
    });
  });

  it('a startup above the maximum flags both', () => {
    expect(shown({ mode: 'dynamic', startupMiB: 8192, minimumMiB: 1024, maximumMiB: 4096 })).toEqual({
      'memory.startupMiB': 'Startup memory must not exceed maximum memory',
      'memory.maximumMiB': 'Startup memory must not exceed maximum memory',
    });
  });

  it('a valid order has no issue', () => {
    expect(shown({ mode: 'dynamic', startupMiB: 4096, minimumMiB: 1024, maximumMiB: 8192 })).toEqual({});
  });
});
