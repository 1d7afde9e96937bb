import { mkdir, mkdtemp, open, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { replayDiskSha256 } from '../disks/guest-writer';
import { PeerServer } from '../disks/peer-server';
import { SimDisks } from '../disks/vm-disks';
import { MigrationDisks, runs } from './disk-transfer';

// The disks following a migrating VM, both hosts in one process: each has its own state directory,
// disks and peer listener. The guest writes throughout the copy; the destination's disks must equal a
// replay of every write, and a broken copy must leave the source as it was and nothing at the destination.

const MIB = 1024 * 1024;
const VM = '6f1c2d3e-0000-4000-8000-0000000000a1';
const MIGRATION = '7a000000-0000-4000-8000-000000000001';
const context = () => ({ signal: new AbortController().signal, onProgress: () => undefined });

interface Host {
  dir: string;
  disks: SimDisks;
  peer: PeerServer;
  migration: MigrationDisks;
}

async function host(name: string): Promise<Host> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `fabric-dt-${name}-`));
  const disks = new SimDisks({ stateDir: dir, workingSetBytes: 8 * MIB, writesPerSecond: () => 1000, tickMs: 2 });
  const peer = new PeerServer();
  await peer.start(0);
  return { dir, disks, peer, migration: new MigrationDisks({ stateDir: dir, disks, peer }) };
}

describe('disks following a migrating VM', () => {
  it('copies consecutive written blocks as one read (runs of at most 16)', () => {
    expect(runs([0, 1, 2, 5, 6, 9], 16)).toEqual([
      [0, 3],
      [5, 2],
      [9, 1],
    ]);
    expect(runs([...Array(20).keys()], 16)).toEqual([
      [0, 16],
      [16, 4],
    ]);
    expect(runs([], 16)).toEqual([]);
  });

  let a: Host;
  let b: Host;

  beforeEach(async () => {
    a = await host('a');
    b = await host('b');
  });

  afterEach(async () => {
    for (const h of [a, b]) {
      await h.peer.stop();
      await h.disks.close();
      await rm(h.dir, { recursive: true, force: true });
    }
  });

  it('copy while the guest writes, mirror, hand over: the destination equals a replay of every write', async () => {
    const set = await a.disks.create(VM, [
      { name: 'os', sizeBytes: 64 * MIB },
      { name: 'data', sizeBytes: 1024 * MIB },
    ]);
    await set.writeNext(800);
    await a.disks.startGuest(VM);
    const target = await b.migration.receive(MIGRATION, VM);
    const copy = await a.migration.copy(MIGRATION, VM, target, context());
    // Writes after the copy are mirrored too.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await a.disks.stopGuest(VM);
    const handover = await a.migration.handover(MIGRATION, VM);
    const seq = set.guestWriteSeq;
    expect(handover.guestWriteSeq).toBe(seq);
    expect(seq).toBeGreaterThan(copy.guestWriteSeqAtStart ?? Number.POSITIVE_INFINITY);
    const mib = copy.bytes / MIB;
    console.info(
      `disk copy: ${mib.toFixed(1)} MiB in ${copy.durationMs} ms (${(mib / (copy.durationMs / 1000)).toFixed(0)} MiB/s); ${handover.mirroredWrites} writes mirrored`,
    );
    expect(mib).toBeGreaterThan(8);

    // The destination makes the copy the VM's disks; its guest goes on from the same write.
    expect(await b.migration.install(MIGRATION, VM)).toBe(true);
    const moved = await b.disks.get(VM);
    expect(moved?.guestWriteSeq).toBe(seq);
    expect((await moved?.sha256s())?.map((d) => d.sha256)).toEqual(replayDiskSha256(VM, seq, set.shapes));
    await moved?.writeNext(10);
    expect((await moved?.sha256s())?.map((d) => d.sha256)).toEqual(replayDiskSha256(VM, seq + 10, set.shapes));
    // The copied disks have no change log: a replication of the VM resyncs rather than miss a change.
    expect(moved?.disks.every((d) => d.changeTrackingLost)).toBe(true);
    await expect(stat(b.migration.incomingDir(MIGRATION))).rejects.toThrow(/ENOENT/);
  }, 60_000);

  it('a VM handed over once can be copied again from the same host (it came back and leaves again)', async () => {
    await a.disks.create(VM, [{ name: 'os', sizeBytes: 64 * MIB }]);
    await a.disks.startGuest(VM);
    await a.migration.copy(MIGRATION, VM, await b.migration.receive(MIGRATION, VM), context());
    await a.disks.stopGuest(VM);
    await a.migration.handover(MIGRATION, VM);
    await b.migration.dropIncoming(MIGRATION);
    // The first migration's cleanup did not reach this host: its handed-over mirror is no obstacle.
    const again = '7a000000-0000-4000-8000-000000000002';
    const copy = await a.migration.copy(again, VM, await b.migration.receive(again, VM), context());
    expect(copy.disks).toHaveLength(1);
    await a.migration.stopOutgoing(again);
    await b.migration.dropIncoming(again);
  }, 60_000);

  it('a copy that breaks on the destination: the source keeps writing, intact; the destination copy is dropped', async () => {
    const set = await a.disks.create(VM, [
      { name: 'os', sizeBytes: 64 * MIB },
      { name: 'data', sizeBytes: 64 * MIB },
    ]);
    await set.writeNext(600);
    const target = await b.migration.receive(MIGRATION, VM);
    await mkdir(path.join(b.migration.incomingDir(MIGRATION), 'd1.img'), { recursive: true });
    await expect(a.migration.copy(MIGRATION, VM, target, context())).rejects.toMatchObject({
      code: 'COPY_FAILED',
      message: expect.stringMatching(/d1\.img: EISDIR.*MiB received before/),
    });
    // The mirror is gone: writes go on to the source only, and it holds exactly the guest's writes.
    await set.writeNext(100);
    expect((await set.sha256s()).map((d) => d.sha256)).toEqual(replayDiskSha256(VM, 700, set.shapes));
    await b.migration.dropIncoming(MIGRATION);
    await expect(stat(b.migration.incomingDir(MIGRATION))).rejects.toThrow(/ENOENT/);
    expect(await b.migration.install(MIGRATION, VM)).toBe(false);
    // A handover without a mirror here refuses (an agent restarted since the copy).
    await expect(a.migration.handover(MIGRATION, VM)).rejects.toMatchObject({ code: 'MIRROR_LOST' });
  }, 60_000);

  it('a mirror that loses the destination says so before the handover (the VM has not paused yet)', async () => {
    const set = await a.disks.create(VM, [{ name: 'os', sizeBytes: 16 * MIB }]);
    await set.writeNext(200);
    const target = await b.migration.receive(MIGRATION, VM);
    await a.migration.copy(MIGRATION, VM, target, context());
    expect(a.migration.mirrorError(MIGRATION)).toBeNull();
    // The destination host goes away; the next guest write cannot be mirrored.
    await b.migration.dropIncoming(MIGRATION);
    await set.writeNext(1);
    await expect
      .poll(() => a.migration.mirrorError(MIGRATION), { timeout: 10_000 })
      .toMatch(/destination refused PUT data \((401|404)/);
    // The source goes on, exact.
    await set.writeNext(20);
    expect((await set.sha256s()).map((d) => d.sha256)).toEqual(replayDiskSha256(VM, 221, set.shapes));
    await expect(a.migration.handover(MIGRATION, VM)).rejects.toMatchObject({ code: 'HANDOVER_FAILED' });
  }, 60_000);

  it('a destination copy that differs at the handover is refused (NOT_SYNCHRONIZED), nothing installed', async () => {
    const set = await a.disks.create(VM, [{ name: 'os', sizeBytes: 16 * MIB }]);
    await set.writeNext(200);
    const target = await b.migration.receive(MIGRATION, VM);
    await a.migration.copy(MIGRATION, VM, target, context());
    // The destination's file damaged behind the mirror's back (a lost write would look the same).
    const fh = await open(path.join(b.migration.incomingDir(MIGRATION), 'd0.img'), 'r+');
    await fh.write(Buffer.alloc(4096, 7), 0, 4096, 0);
    await fh.close();
    await expect(a.migration.handover(MIGRATION, VM)).rejects.toMatchObject({
      code: 'HANDOVER_FAILED',
      message: expect.stringMatching(/NOT_SYNCHRONIZED: os: the copy here differs from the source/),
    });
    expect(await b.migration.install(MIGRATION, VM)).toBe(false);
  }, 60_000);
});
