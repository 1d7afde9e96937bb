import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../testing/api-client';
import { startTestApi, type TestApi } from '../testing/harness';
import {
  addCardFrom,
  createStoppedVm,
  minuteSample,
  movableClock,
  postSamples,
  registerProductionHost,
  TEST_PRICES,
  type TestHost,
} from '../testing/metering-fixtures';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// A bill depends on what was measured, not on how it arrived: the same
// samples sent in order, shuffled, split differently or sent twice give the
// same lines to the digit (the property, through the real agent endpoint,
// rollups and rating on Postgres).

const time = movableClock();
let api: TestApi;
let c: Record<DemoLogin, ApiClient>;
let host: TestHost;

interface Line {
  vmId: string;
  resource: string;
  quantity: string;
  amount: string;
}

// Network in is priced too, so every counter reaches a line.
const prices = { ...TEST_PRICES, networkInGiB: { internet: '0.001', datacenter: '0' } };

// Within what the test's VMs can use (4 vCPUs × the host's 2,900 MHz, 4 GiB): more is refused as impossible.
const sampleArb = fc.record({
  cpuAvgMhz: fc.integer({ min: 0, max: 11_600 }),
  memoryAvgMiB: fc.integer({ min: 512, max: 4_096 }),
  diskAllocatedGiB: fc.integer({ min: 1, max: 2_000 }),
  networkOutInternetBytes: fc.integer({ min: 0, max: 5_000_000_000 }),
  networkInInternetBytes: fc.integer({ min: 0, max: 5_000_000_000 }),
  networkOutDatacenterBytes: fc.integer({ min: 0, max: 5_000_000_000 }),
});

const post = (samples: object[]) => postSamples(api, host, samples);

beforeAll(async () => {
  api = await startTestApi({ monitor: false, clock: time.clock });
  c = await seedAndSignIn(api);
  host = await registerProductionHost(api, c.admin, 'order-01');
  await addCardFrom(c.finance, time, '2026-07-01', prices);
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
            vms.push(await createStoppedVm(c.blueAdmin, `order-${run}-${which}`, { vcpus: 4, diskGiB: 10 }));
          }
          const hour = Date.parse('2026-07-01T00:00:00Z') + run * 2 * 3_600_000;
          const samplesFor = (vmId: string, start: number) =>
            values.map((v, i) => minuteSample(vmId, start + (i + 1) * 60_000, v));
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
