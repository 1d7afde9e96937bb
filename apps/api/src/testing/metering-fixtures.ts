import type { Clock } from '@fabric/core/shared/clock';
import { expect } from 'vitest';
import { agentPost, register } from './agent-fixtures';
import type { ApiClient } from './api-client';
import { type TestApi, withSql } from './harness';
import type { DemoLogin } from './seed';

/** A provider's price list for tests (USD), the numbers the hand-checked amounts use. */
export const TEST_PRICES = {
  vcpuHour: '0.0125',
  memoryGiBHour: '0.005',
  diskGiBMonth: '0.10',
  networkOutGiB: { internet: '0.09', datacenter: '0.01' },
  networkInGiB: { internet: '0', datacenter: '0' },
  replicaStorageGiBMonth: '0.05',
};

/**
 * A clock the API runs on that a test can move: rate cards start "today or
 * later", months close once they are over, so tests travel in time.
 */
export function movableClock() {
  let offsetMs = 0;
  const clock: Clock = { now: () => new Date(Date.now() + offsetMs) };
  return {
    clock,
    set(iso: string) {
      offsetMs = Date.parse(iso) - Date.now();
    },
    reset() {
      offsetMs = 0;
    },
  };
}

/** Adds a rate card from `effectiveFrom`, with the clock moved to the day before (cards cannot start in the past). */
export async function addCardFrom(
  client: ApiClient,
  time: ReturnType<typeof movableClock>,
  effectiveFrom: string,
  prices: object = TEST_PRICES,
) {
  time.set(new Date(Date.parse(`${effectiveFrom}T00:00:00Z`) - 86_400_000).toISOString());
  try {
    await client.mutate('chargeback.addRateCard', { currency: 'USD', effectiveFrom, prices });
  } finally {
    time.reset();
  }
}

export async function demoTenantIds(c: Record<DemoLogin, ApiClient>) {
  const tenants = await c.admin.query<{ id: string; name: string }[]>('tenants.list');
  return {
    blueId: tenants.find((t) => t.name === 'Blue Corp')?.id ?? '',
    yellowId: tenants.find((t) => t.name === 'Yellow Corp')?.id ?? '',
  };
}

export interface TestHost {
  hostId: string;
  credential: string;
  /** The next sample batch's sequence number (strictly increasing per host). */
  seq: number;
}

/**
 * Metering tests send history (samples of last month, to bill it), and the API
 * refuses a sample from before its host registered or its VM was created
 * (sample-plausibility.ts). They travel back in time by dating the host and
 * VMs they sample back to this instant, before any sample a test sends.
 */
export const HISTORY_START = '2020-01-01T00:00:00Z';

/** Dates hosts' registration and VMs' creation back to `since` (HISTORY_START), so their history can be sampled. */
export async function existedSince(
  api: Pick<TestApi, 'databaseUrl'>,
  ids: { hostIds?: readonly string[]; vmIds?: readonly string[] },
  since = HISTORY_START,
) {
  await withSql(api.databaseUrl, async (sql) => {
    if (ids.hostIds?.length) {
      await sql.query('UPDATE hosts SET registered_at = least(registered_at, $2) WHERE id = ANY($1::uuid[])', [
        ids.hostIds,
        since,
      ]);
    }
    if (ids.vmIds?.length) {
      await sql.query('UPDATE vms SET created_at = least(created_at, $2) WHERE id = ANY($1::uuid[])', [
        ids.vmIds,
        since,
      ]);
    }
  });
}

/** The VMs of `samples` dated back to HISTORY_START (see `existedSince`). */
export function vmsExistedSince(api: Pick<TestApi, 'databaseUrl'>, samples: readonly unknown[]) {
  const vmIds = samples.flatMap((s) =>
    typeof s === 'object' && s !== null && 'vmId' in s && typeof s.vmId === 'string' ? [s.vmId] : [],
  );
  return existedSince(api, { vmIds: [...new Set(vmIds)] });
}

/**
 * A host registered in the demo's Production cluster as an agent would, ready to send samples; registered
 * since HISTORY_START, so that it may send history.
 */
export async function registerProductionHost(api: TestApi, admin: ApiClient, hostname: string): Promise<TestHost> {
  const clusters = await admin.query<{ id: string; name: string }[]>('clusters.list');
  const { token } = await admin.mutate<{ token: string }>('tokens.create', {
    clusterId: clusters.find((cl) => cl.name === 'Production')?.id,
  });
  const host = (await register(api.url, token, hostname)).body as { hostId: string; credential: string };
  await existedSince(api, { hostIds: [host.hostId] });
  return { ...host, seq: 1 };
}

/** A stopped VM (its samples are sent by the test, not by an agent). */
export async function createStoppedVm(
  client: ApiClient,
  name: string,
  size: { vcpus?: number; memoryMiB?: number; diskGiB?: number } = {},
) {
  const created = await client.mutate<{ vm: { id: string } }>('vms.create', {
    name,
    vcpus: size.vcpus ?? 2,
    memory: { mode: 'static', sizeMiB: size.memoryMiB ?? 4096 },
    disks: [{ sizeGiB: size.diskGiB ?? 50 }],
    startAfterCreate: false,
  });
  return created.vm.id;
}

export interface SampleValues {
  cpuAvgMhz: number;
  memoryAvgMiB: number;
  diskAllocatedGiB: number;
  networkInInternetBytes: number;
  networkOutInternetBytes: number;
  networkInDatacenterBytes: number;
  networkOutDatacenterBytes: number;
}

/** One minute of a running VM, ending at `endMs`, in the agent protocol's shape. */
export function minuteSample(vmId: string, endMs: number, values: Partial<SampleValues> = {}) {
  const memory = values.memoryAvgMiB ?? 4096;
  return {
    vmId,
    at: new Date(endMs).toISOString(),
    intervalSeconds: 60,
    cpuAvgMhz: values.cpuAvgMhz ?? 2000,
    memoryAvgMiB: memory,
    memoryMinMiB: memory,
    memoryMaxMiB: memory,
    diskAllocatedGiB: values.diskAllocatedGiB ?? 50,
    diskReadBytes: 0,
    diskWriteBytes: 0,
    networkInInternetBytes: values.networkInInternetBytes ?? 0,
    networkOutInternetBytes: values.networkOutInternetBytes ?? 0,
    networkInDatacenterBytes: values.networkInDatacenterBytes ?? 0,
    networkOutDatacenterBytes: values.networkOutDatacenterBytes ?? 0,
  };
}

/** The 60 one-minute samples of the hour starting at `hourIso`. */
export function hourOfSamples(vmId: string, hourIso: string, values: Partial<SampleValues> = {}) {
  const start = Date.parse(hourIso);
  return Array.from({ length: 60 }, (_, i) => minuteSample(vmId, start + (i + 1) * 60_000, values));
}

/** Sends one batch through the real agent endpoint, as the host's agent would (its VMs dated back: history). */
export async function postSamples(api: TestApi, host: TestHost, samples: object[]) {
  await vmsExistedSince(api, samples);
  const seq = host.seq++;
  const r = await agentPost(
    api.url,
    `/agent/v1/hosts/${host.hostId}/samples`,
    { seq, batch: seq, samples },
    { credential: host.credential },
  );
  expect(r.status).toBe(200);
  return r.body as { stored: number };
}
