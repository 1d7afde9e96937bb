import { describe, expect, it } from 'vitest';
import { HIDDEN_HOST, hideHosts, hostNameRedactor } from './hide-hosts';

const redact = hostNameRedactor(['hv-prod-05', 'hv-prod-5', 'HV-DEV-01']);

describe('hostNameRedactor', () => {
  it.each([
    [
      'web-1: Placed on hv-prod-05 (score 81.2 of 100; 5 of 5 hosts fit)',
      `web-1: Placed on ${HIDDEN_HOST} (score 81.2 of 100; 5 of 5 hosts fit)`,
    ],
    ['No host fits: hv-prod-05: memory short by 3.1 GiB', `No host fits: ${HIDDEN_HOST}: memory short by 3.1 GiB`],
    ['qemu+ssh://hv-prod-05.dc.example/system refused', `qemu+ssh://${HIDDEN_HOST}/system refused`],
    ['on hv-dev-01, then HV-PROD-05', `on ${HIDDEN_HOST}, then ${HIDDEN_HOST}`],
    // A longer word that merely contains a host's name is not that host.
    ['hv-prod-050 and xhv-prod-05 stay', 'hv-prod-050 and xhv-prod-05 stay'],
    ['nothing to hide', 'nothing to hide'],
  ])('%s', (text, expected) => {
    expect(redact(text)).toBe(expected);
  });

  it('hides nothing when there are no hosts', () => {
    expect(hostNameRedactor([])('hv-prod-05')).toBe('hv-prod-05');
  });
});

describe('hideHosts', () => {
  it("hides host names in text fields, nulls host fields, keeps the tenant's own names and other values", () => {
    const at = new Date('2026-12-03T10:00:00Z');
    const page = {
      rows: [
        { name: 'hv-prod-05', message: 'started on hv-prod-05', hostName: 'hv-prod-05', hostId: 'h1', at, n: 3 },
        { steps: [{ detail: 'waiting for hv-prod-05' }], errorMessage: null },
      ],
      total: 2,
    };
    expect(hideHosts(page, redact)).toEqual({
      rows: [
        { name: 'hv-prod-05', message: `started on ${HIDDEN_HOST}`, hostName: null, hostId: null, at, n: 3 },
        { steps: [{ detail: `waiting for ${HIDDEN_HOST}` }], errorMessage: null },
      ],
      total: 2,
    });
    expect(page.rows[0]?.message).toBe('started on hv-prod-05');
  });
});
