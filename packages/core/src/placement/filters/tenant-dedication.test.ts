import { describe, expect, it } from 'vitest';
import { aContext, aHost, aRequest } from '../testing/builders';
import { tenantDedicationFilter } from './tenant-dedication';

describe('tenant-dedication filter', () => {
  it.each<[string | null, string, boolean]>([
    [null, 't1', true],
    ['t1', 't1', true],
    ['t2', 't1', false],
  ])('host dedicated to %s, VM of %s → ok %s', (dedicatedTenantId, tenantId, ok) => {
    const verdict = tenantDedicationFilter.check(
      aHost({ id: 'h', dedicatedTenantId }),
      aContext(aRequest({ tenantId })),
    );
    expect(verdict.ok).toBe(ok);
    if (!verdict.ok) {
      expect(verdict.code).toBe('TENANT_DEDICATED');
      expect(verdict.reason).not.toContain('t2'); // another tenant's id never leaks into a trace
    }
  });
});
