import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { hostInventorySchema } from '@fabric/core/fabric/inventory.schema';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DriverError } from '../driver';
import { createLibvirtDriver } from '../libvirt/libvirt-driver';
import { PROFILES_DIR, resolveProfilePath } from './profile';
import { SimulatedDriver, simulatedMac } from './simulated-driver';

const TIB = 1024 ** 4;

describe('shipped profiles', async () => {
  const names = (await readdir(PROFILES_DIR)).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5));

  it('include the three documented ones', () => {
    expect(names.sort()).toEqual(['large-320lp-4t', 'small-1x8-64g', 'standard-2x16-512g']);
  });

  it.each(names)('%s gives an inventory that hostInventorySchema accepts', async (name) => {
    const driver = new SimulatedDriver({ profilePath: resolveProfilePath(name) });
    const inventory = await driver.inventory();
    const parsed = hostInventorySchema.safeParse(inventory);
    expect(parsed.success ? 'valid' : parsed.error.message).toBe('valid');
    const usage = await driver.usage();
    expect(usage.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(usage.cpuPercent).toBeLessThanOrEqual(100);
    expect(usage.memoryUsedMiB).toBeLessThanOrEqual(inventory.memoryMiB);
  });

  it('describe the hosts the brief asks for', async () => {
    const standard = await new SimulatedDriver({ profilePath: resolveProfilePath('standard-2x16-512g') }).inventory();
    expect(standard.cpu).toMatchObject({ sockets: 2, coresPerSocket: 16, logicalProcessors: 64 });
    expect(standard.memoryMiB).toBe(512 * 1024);
    expect(standard.numaNodes).toBe(2);
    expect(standard.nics.map((n) => n.linkSpeedMbps)).toEqual([10000, 10000, 1000]);
    expect(standard.storagePools.map((p) => [p.kind, p.capacityBytes])).toEqual([
      ['local', 4 * TIB],
      ['csv', 20 * TIB],
    ]);
    const large = await new SimulatedDriver({ profilePath: resolveProfilePath('large-320lp-4t') }).inventory();
    expect(large.cpu.logicalProcessors).toBe(320);
    expect(large.memoryMiB).toBe(4194304);
    expect(large.numaNodes).toBe(8);
    expect(large.nics.filter((n) => n.linkSpeedMbps === 25000)).toHaveLength(4);
  });
});

describe('SimulatedDriver', () => {
  let dir: string;
  let profilePath: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fabric-sim-'));
    profilePath = path.join(dir, 'host.json');
    await copyFile(resolveProfilePath('small-1x8-64g'), profilePath);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reports the overriding host name, with MACs of its own', async () => {
    const a = await new SimulatedDriver({ profilePath, hostname: 'hv-a' }).inventory();
    const b = await new SimulatedDriver({ profilePath, hostname: 'hv-b' }).inventory();
    expect(a.hostname).toBe('hv-a');
    expect(a.nics[0]?.macAddress).toBe(simulatedMac('hv-a', 'Ethernet 1 (1GbE)'));
    expect(a.nics[0]?.macAddress).not.toBe(b.nics[0]?.macAddress);
    expect(a.nics[0]?.macAddress).toMatch(/^00:15:5D(:[0-9A-F]{2}){3}$/);
  });

  it('re-reads the profile, so the inventory can change on the fly', async () => {
    const driver = new SimulatedDriver({ profilePath });
    expect((await driver.inventory()).memoryMiB).toBe(65536);
    const profile = JSON.parse(await readFile(profilePath, 'utf8'));
    profile.memoryMiB = 131072;
    await writeFile(profilePath, JSON.stringify(profile));
    expect((await driver.inventory()).memoryMiB).toBe(131072);
  });

  it('walks usage reproducibly from the seed, and it moves', async () => {
    const sample = async () => {
      const driver = new SimulatedDriver({ profilePath, hostname: 'hv-seeded' });
      const out = [];
      for (let i = 0; i < 50; i += 1) out.push(await driver.usage());
      return out;
    };
    const first = await sample();
    expect(await sample()).toEqual(first);
    expect(new Set(first.map((u) => u.cpuPercent)).size).toBeGreaterThan(10);
    for (const u of first) {
      expect(u.cpuPercent).toBeGreaterThanOrEqual(0);
      expect(u.cpuPercent).toBeLessThanOrEqual(100);
      expect(u.memoryUsedMiB).toBeGreaterThanOrEqual(0);
      expect(u.memoryUsedMiB).toBeLessThanOrEqual(65536);
    }
  });

  it('refuses a profile beyond the Hyper-V limits with a clear error', async () => {
    const profile = JSON.parse(await readFile(profilePath, 'utf8'));
    profile.cpu.logicalProcessors = 640;
    profile.cpu.sockets = 16;
    profile.cpu.coresPerSocket = 20;
    await writeFile(profilePath, JSON.stringify(profile));
    await expect(new SimulatedDriver({ profilePath }).inventory()).rejects.toThrow(/at most 320 logical processors/);
  });

  it('explains missing and malformed profiles', async () => {
    await expect(new SimulatedDriver({ profilePath: path.join(dir, 'none.json') }).inventory()).rejects.toThrow(
      /cannot read profile .*ENOENT/,
    );
    await writeFile(profilePath, '{');
    await expect(new SimulatedDriver({ profilePath }).inventory()).rejects.toBeInstanceOf(DriverError);
  });

  it('resolves names to built-in profiles and paths as paths', () => {
    expect(resolveProfilePath('small-1x8-64g')).toBe(path.join(PROFILES_DIR, 'small-1x8-64g.json'));
    expect(resolveProfilePath('./x.json', '/work')).toBe('/work/x.json');
    expect(() => resolveProfilePath('../etc')).not.toThrow(); // a path, used as given
    expect(() => resolveProfilePath('Bad Name')).toThrow(DriverError);
  });
});

describe('libvirt driver', () => {
  it('says it is not implemented yet', () => {
    expect(() => createLibvirtDriver()).toThrow(/libvirt driver is not implemented yet/);
  });
});
