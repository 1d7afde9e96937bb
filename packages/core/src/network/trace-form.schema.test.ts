import { describe, expect, it } from 'vitest';
import { traceInput } from './network.schema';
import { parseTraceDraft, traceVmLabel } from './trace-form.schema';

const VM = '20000000-0000-4000-8000-000000000001';

describe('trace form', () => {
  it('reads a valid draft as a TCP trace', () => {
    expect(parseTraceDraft({ fromVmId: VM, toCa: ' 10.1.1.5 ', port: '443' })).toEqual({
      ok: true,
      input: { fromVmId: VM, toCa: '10.1.1.5', protocol: 'tcp', kind: 'ip', port: 443 },
    });
    expect(parseTraceDraft({ fromVmId: VM, toCa: '10.1.1.5', port: '' })).toMatchObject({ ok: true });
  });

  it('refuses 999.1.1.1 beside the address, naming the rule', () => {
    const r = parseTraceDraft({ fromVmId: VM, toCa: '999.1.1.1', port: '' });
    expect(r).toEqual({
      ok: false,
      errors: {
        toCa: 'Destination address 999.1.1.1 is not an IPv4 address: each of its four numbers is 0–255, without leading zeros (rule INVALID_ADDRESS)',
      },
    });
  });

  it('the API refuses it too, once (not also as a shape error)', () => {
    const r = traceInput.safeParse({ fromVmId: VM, toCa: '999.1.1.1' });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.message)).toEqual([expect.stringMatching(/rule INVALID_ADDRESS/)]);
    expect(traceInput.safeParse({ fromVmId: VM, toCa: '10.1.1' }).error?.issues).toHaveLength(1);
  });

  it.each([
    ['70000', 'Port must be 1–65535'],
    ['0', 'Port must be 1–65535'],
    ['http', 'Port must be a whole number 1–65535, not "http"'],
  ])('port %s is refused beside the port field', (port, message) => {
    expect(parseTraceDraft({ fromVmId: VM, toCa: '10.1.1.5', port })).toEqual({ ok: false, errors: { port: message } });
  });

  it('names the tenant of each VM, so two "app-01" can be told apart', () => {
    expect(traceVmLabel({ name: 'app-01', tenantName: 'Blue Corp' })).toBe('app-01 (Blue Corp)');
  });
});
