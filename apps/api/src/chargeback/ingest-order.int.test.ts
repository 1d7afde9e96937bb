import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentPost, register } from '../testing/agent-fixtures';
import type { ApiClient } from '../testing/api-client';
import { startTestApi, type TestApi } from '../testing/harness';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// A bill depends on what was measured, not on how it arrived: the same
// samples sent in order, shuffled, split differently or sent twice give the
// same lines to the digit (the property, through the real agent endpoint,
// rollups and rating on Postgres).

let offsetMs = 0;
const clock = { now: () => new Date(Date.now() + offsetMs) };
let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
let host: { hostId: string; credential: string };
let seq = 1;

interface Line {
  vmId: string;
  resource: string;
  quantity: string;
  amount: string;
}

const prices = {
  vcpuHour: '0.0125',
  memoryGiBHour: '0.0045',
  diskGiBMonth: '0.08',
  networkOutGiB: { internet: '0.09', datacenter: '0.01' },
  networkInGiB: { internet: '0.001', datacenter: '0' },
  replicaStorageGiBMonth: '0.04',
};

const sampleArb = fc.record({
  cpuAvgMhz: fc.integer({ min: 0, max: 20_000 }),
  memoryAvgMiB: fc.integer({ min: 512, max: 65_536 }),
  diskAllocatedGiB: fc.integer({ min: 1, max: 2_000 }),
  networkOutInternetBytes: fc.integer({ min: 0, max: 5_000_000_000 }),
  networkInInternetBytes: fc.integer({ min: 0, max: 5_000_000_000 }),
  networkOutDatacenterBytes: fc.integer({ min: 0, max: 5_000_000_000 }),
});

async function post(samples: object[]) {
  const r = await agentPost(
    api.url,
    `/agent/v1/hosts/${host.hostId}/samples`,
    { seq: seq++, batch: 1, samples },
    { credential: host.credential },
  );
  expect(r.status).toBe(200);
}

beforeAll(async () => {
  api = await startTestApi({ monitor: false, clock });
  c = await seedAndSignIn(api);
  const clusters = await c.admin.query<{ id: string; name: string }[]>('clusters.list');
  const { token } = await c.admin.mutate<{ token: string }>('tokens.create', {
    clusterId: clusters.find((cl) => cl.name === 'Production')?.id,
  });
  host = (await register(api.url, token, 'order-01')).body as typeof host;
  offsetMs = Date.parse('2026-06-30T00:00:00Z') - Date.now();
  await c.finance.mutate('chargeback.addRateCard', { currency: 'USD', effectiveFrom: '2026-07-01', prices });
  offsetMs = 0;
  await c.admin.mutate('quotas.set', {
    tenantId: (await c.blueAdmin.query<{ tenant: { id: string } }>('portal.overview')).tenant.id,
    quota: {
      maxVms: 200,
      maxVcpus: 2000,
      maxMemoryMiB: 100_000_000,
      maxStorageBytes: 1024 ** 5,
      maxRunningVms: 200,
      maxRunningVcpus: 2000,
      maxRunningMemoryMiB: 100_000_000,
    },
  });
});
afterAll(() => api?.close());

let run = 0;

describe('the same samples in any order give the same bill', () => {
  it('in order vs shuffled, re-batched and partly sent twice', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(sampleArb, { minLength: 3, maxLength: 40 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.integer({ min: 1, max: 7 }),
        async (values, seed, batchSize) => {
          run += 1;
          // Two VMs of the same size, each in its own hour, measured the same way.
          const vms: string[] = [];
          for (const which of ['a', 'b']) {
            const created = await c.blueAdmin.mutate<{ vm: { id: string } }>('vms.create', {
              name: `order-${run}-${which}`,
              vcpus: 4,
              memory: { mode: 'static', sizeMiB: 4096 },
              disks: [{ sizeGiB: 10 }],
              startAfterCreate: false,
            });
            vms.push(created.vm.id);
          }
          const hour = Date.parse('2026-07-01T00:00:00Z') + run * 2 * 3_600_000;
          const samplesFor = (vmId: string, start: number) =>
            values.map((v, i) => ({
              vmId,
              at: new Date(start + (i + 1) * 60_000).toISOString(),
              intervalSeconds: 60,
              cpuAvgMhz: v.cpuAvgMhz,
              memoryAvgMiB: v.memoryAvgMiB,
              memoryMinMiB: v.memoryAvgMiB,
              memoryMaxMiB: v.memoryAvgMiB,
              diskAllocatedGiB: v.diskAllocatedGiB,
              diskReadBytes: 0,
              diskWriteBytes: 0,
              networkInInternetBytes: v.networkInInternetBytes,
              networkOutInternetBytes: v.networkOutInternetBytes,
              networkInDatacenterBytes: 0,
              networkOutDatacenterBytes: v.networkOutDatacenterBytes,
            }));
          const [a, b] = vms as [string, string];
          // VM a: in order, one batch.
          await post(samplesFor(a, hour));
          await api.services.metering.housekeeping();
          // VM b: the same values an hour later, shuffled by the seed, in small batches, a third of them twice,
          // with a rollup in between (late samples re-roll their hour).
          const shuffled = samplesFor(b, hour + 3_600_000);
          let state = seed;
          for (let i = shuffled.length - 1; i > 0; i--) {
            state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
            const j = state % (i + 1);
            [shuffled[i], shuffled[j]] = [
              shuffled[j] as (typeof shuffled)[number],
              shuffled[i] as (typeof shuffled)[number],
            ];
          }
          const resent = shuffled.filter((_, i) => i % 3 === 0);
          const sends = [...shuffled, ...resent];
          for (let i = 0; i < sends.length; i += batchSize) {
            await post(sends.slice(i, i + batchSize));
            if (i === batchSize) await api.services.metering.housekeeping();
          }
          await api.services.metering.housekeeping();

          const bill = async (vmId: string, start: number) => {
            const r = await c.finance.query<{ lines: Line[] }>('chargeback.bill', {
              tenantId: (await c.blueAdmin.query<{ tenant: { id: string } }>('portal.overview')).tenant.id,
              period: {
                from: new Date(start).toISOString().replace('.000', ''),
                to: new Date(start + 3_600_000).toISOString().replace('.000', ''),
              },
            });
            return r.lines
              .filter((l) => l.vmId === vmId)
              .map(({ resource, quantity, amount }) => ({ resource, quantity, amount }));
          };
          const inOrder = await bill(a, hour);
          expect(inOrder.length).toBeGreaterThan(0);
          expect(await bill(b, hour + 3_600_000)).toEqual(inOrder);
        },
      ),
      { numRuns: 8, seed: 20261125 },
    );
  });
});
