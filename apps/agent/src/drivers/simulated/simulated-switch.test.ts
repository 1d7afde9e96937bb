import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { vmSampleSchema } from '@fabric/core/metering/sample-protocol.schema';
import type { VmSpec } from '@fabric/core/tasks/task-protocol.schema';
import { afterEach, describe, expect, it } from 'vitest';
import { quietContext, vmSpec } from '../../testing/vm-fixtures';
import { resolveProfilePath } from './profile';
import { SimulatedDriver } from './simulated-driver';
import { portKey } from './simulated-switch';

/** A Monday, 10:00 UTC. */
const END = new Date(Date.UTC(2024, 2, 4, 10));

function nic(name: string, mac: string, overrides: Partial<VmSpec['nics'][number]> = {}): VmSpec['nics'][number] {
  return {
    name,
    macAddress: mac,
    network: 'apps/lan',
    minimumBandwidthMbps: null,
    minimumBandwidthWeight: null,
    maximumBandwidthMbps: null,
    ...overrides,
  };
}

const networkBytes = (s: {
  networkInInternetBytes: number;
  networkOutInternetBytes: number;
  networkInDatacenterBytes: number;
  networkOutDatacenterBytes: number;
}) => s.networkInInternetBytes + s.networkOutInternetBytes + s.networkInDatacenterBytes + s.networkOutDatacenterBytes;

describe('the simulated switch shares a host NIC under load', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });

  async function host(offeredMbps: Record<string, number>) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fabric-switch-'));
    dirs.push(dir);
    const profilePath = path.join(dir, 'host.json');
    const profile = JSON.parse(await readFile(resolveProfilePath('small-1x8-64g'), 'utf8'));
    // One 1 GbE uplink (the profile's second NIC is down).
    await writeFile(profilePath, JSON.stringify({ ...profile, simulation: { ...profile.simulation, offeredMbps } }));
    const driver = new SimulatedDriver({ profilePath, stateDir: dir, speed: 1000 });
    const start = async (spec: VmSpec) => {
      await driver.createVm(spec, quietContext());
      await driver.startVm(spec.vmId, quietContext());
    };
    return { driver, start };
  }

  it('a noisy neighbour does not push a VM below its minimum nor itself above its maximum; bytes are the achieved rate', async () => {
    const { driver, start } = await host({ noisy: 5_000, quiet: 900 });
    const noisy = vmSpec({ name: 'noisy', nics: [nic('nic0', '00:15:5D:00:00:0A')] });
    const quiet = vmSpec({ name: 'quiet', nics: [nic('nic0', '00:15:5D:00:00:0B', { minimumBandwidthMbps: 400 })] });
    await start(noisy);
    await start(quiet);
    // The port policy's maximum reaches the switch through the applied policy, keyed by VM and MAC.
    driver.usePortQos(() => new Map([[portKey(noisy.vmId, '00-15-5d-00-00-0a'), { maximumMbps: 700 }]]));

    const samples = await driver.sampleVms(END, 60);
    const by = new Map(samples.map((s) => [s.vmId, s]));
    const n = by.get(noisy.vmId);
    const q = by.get(quiet.vmId);
    for (const s of samples) expect(vmSampleSchema.safeParse(s).success).toBe(true);
    expect(n?.nics?.[0]).toMatchObject({ nic: 'nic0', offeredMbps: 5_000, limitedBy: 'share' });
    expect(q?.nics?.[0]).toMatchObject({ nic: 'nic0', offeredMbps: 900, limitedBy: 'share' });
    // Equal weights above the floor: 500 each of the 1,000 Mbps; never below 400 nor above 700.
    expect(q?.nics?.[0]?.achievedMbps).toBeCloseTo(500, 2);
    expect(n?.nics?.[0]?.achievedMbps).toBeCloseTo(500, 2);
    // The sample's bytes are what got through (never more), to within a byte per class.
    for (const s of [n, q]) {
      if (!s) throw new Error('a VM was not sampled');
      const achieved = ((s.nics?.[0]?.achievedMbps ?? 0) * 1_000_000 * 60) / 8;
      expect(networkBytes(s)).toBeLessThanOrEqual(achieved + 4);
      expect(networkBytes(s)).toBeGreaterThan(achieved * 0.999);
    }

    // The quiet VM goes idle: the noisy one takes the NIC up to its maximum, not beyond.
    const idle = await host({ noisy: 5_000, quiet: 0 });
    await idle.start(noisy);
    await idle.start(quiet);
    idle.driver.usePortQos(
      () => new Map([[portKey(noisy.vmId, noisy.nics[0]?.macAddress ?? ''), { maximumMbps: 700 }]]),
    );
    const alone = (await idle.driver.sampleVms(END, 60)).find((s) => s.vmId === noisy.vmId);
    expect(alone?.nics?.[0]).toMatchObject({ achievedMbps: 700, limitedBy: 'maximum' });
  });

  it('uses the VM’s own QoS for a NIC the applied policy does not carry, and is the same every run', async () => {
    const { driver, start } = await host({ a: 3_000, b: 3_000 });
    const a = vmSpec({ name: 'a', nics: [nic('nic0', '00:15:5D:00:00:01', { minimumBandwidthWeight: 3 })] });
    const b = vmSpec({ name: 'b', nics: [nic('nic0', '00:15:5D:00:00:02', { maximumBandwidthMbps: 200 })] });
    await start(a);
    await start(b);
    const samples = await driver.sampleVms(END, 60);
    const achieved = (id: string) => samples.find((s) => s.vmId === id)?.nics?.[0]?.achievedMbps;
    expect(achieved(b.vmId)).toBe(200);
    expect(achieved(a.vmId)).toBeCloseTo(800, 2);
    expect(await driver.sampleVms(END, 60)).toEqual(samples);
  });
});
