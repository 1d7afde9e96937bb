import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../testing/api-client';
import { startTestApi, type TestApi } from '../testing/harness';
import {
  createStoppedVm,
  minuteSample,
  movableClock,
  postSamples,
  registerProductionHost,
} from '../testing/metering-fixtures';
import { type DemoLogin, seedAndSignIn } from '../testing/seed';

// Measure-VM's minimum memory is over the time the VM held memory (Hyper-V's
// MinimumMemory): a static 4 GiB VM restarted mid-period was 4 GiB whenever
// it ran, not "0 B" because of the minute it was off (issue 9, class 11).

const time = movableClock();
let api: TestApi;
let c: Record<DemoLogin, ApiClient>;

beforeAll(async () => {
  api = await startTestApi({ monitor: false, clock: time.clock });
  c = await seedAndSignIn(api);
});
afterAll(async () => {
  time.reset();
  await api?.close();
});

interface Measurement {
  samples: number;
  minMemoryMiB: number;
  maxMemoryMiB: number;
  avgMemoryMiB: number;
}

describe('Measure-VM across a restart', () => {
  it('reports the static size as the minimum, the off minute counted in the average only', async () => {
    time.set('2026-11-10T10:00:00Z');
    const host = await registerProductionHost(api, c.admin, 'measure-min-01');
    const vmId = await createStoppedVm(c.blueAdmin, 'restarted-01', { memoryMiB: 4096 });
    const start = Date.parse('2026-11-10T10:00:00Z');
    time.set('2026-11-10T10:10:00Z');
    // Running, running, off (the restart: no memory, no CPU), running, running.
    const samples = [1, 2, 3, 4, 5].map((m) =>
      minuteSample(vmId, start + m * 60_000, m === 3 ? { memoryAvgMiB: 0, cpuAvgMhz: 0 } : {}),
    );
    await postSamples(api, host, samples);
    const measured = await c.blueAdmin.query<Measurement>('metering.measureVm', {
      id: vmId,
      from: new Date('2026-11-10T10:00:00Z'),
      to: new Date('2026-11-10T10:05:00Z'),
    });
    expect(measured.samples).toBe(5);
    expect(measured.minMemoryMiB).toBe(4096);
    expect(measured.maxMemoryMiB).toBe(4096);
    expect(measured.avgMemoryMiB).toBeCloseTo((4 * 4096) / 5, 6);

    // A period in which it never ran has no minimum beyond 0.
    await postSamples(api, host, [minuteSample(vmId, start + 6 * 60_000, { memoryAvgMiB: 0, cpuAvgMhz: 0 })]);
    const off = await c.blueAdmin.query<Measurement>('metering.measureVm', {
      id: vmId,
      from: new Date('2026-11-10T10:05:00Z'),
      to: new Date('2026-11-10T10:06:00Z'),
    });
    expect(off).toMatchObject({ samples: 1, minMemoryMiB: 0, maxMemoryMiB: 0 });
  });
});
