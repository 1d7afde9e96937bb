import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BLOCK_BYTES } from './blocks';
import {
  GUEST_TX_WRITES,
  guestWrite,
  inspectGuestTransactions,
  replayDiskSha256,
  transactionsWhole,
} from './guest-writer';
import { PeerServer } from './peer-server';
import { ChangeTrackingLostError, SimDisk } from './sim-disk';
import { GUEST_VSS_FILE, SimDisks } from './vm-disks';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const VM = '6f1c2d3e-0000-4000-8000-000000000001';

describe('simulated disks', () => {
  let dir: string;
  let disks: SimDisks;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fabric-disks-'));
    disks = new SimDisks({ stateDir: dir, workingSetBytes: 2 * MIB, writesPerSecond: () => 400, tickMs: 5 });
  });

  afterEach(async () => {
    await disks.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('are sparse files of the full size, written only inside the working set, deleted with the VM', async () => {
    const set = await disks.create(VM, [
      { name: 'os.vhdx', sizeBytes: 64 * GIB },
      { name: 'data.vhdx', sizeBytes: 3 * MIB + 123 },
    ]);
    await set.writeNext(500);
    const [os0, data] = set.disks as [SimDisk, SimDisk];
    expect((await stat(os0.file)).size).toBe(64 * GIB);
    // 64 GiB apparent, a few MiB at most really allocated.
    expect(await os0.allocatedBytesOnDisk()).toBeLessThan(8 * MIB);
    const last = Math.floor((2 * MIB - 1) / BLOCK_BYTES);
    expect(Math.max(...os0.allocatedBlocks(), ...data.allocatedBlocks())).toBeLessThanOrEqual(last);
    expect(set.guestWriteSeq).toBe(500);

    await disks.remove(VM);
    await expect(stat(os0.file)).rejects.toThrow(/ENOENT/);
    expect(await disks.has(VM)).toBe(false);
  });

  it('hold exactly what replaying the guest writes gives, and a running guest writes at its rate', async () => {
    const set = await disks.create(VM, [
      { name: 'os', sizeBytes: 4 * MIB },
      { name: 'log', sizeBytes: 1 * MIB },
    ]);
    await disks.startGuest(VM);
    await new Promise((resolve) => setTimeout(resolve, 150));
    await disks.stopGuest(VM);
    const seq = set.guestWriteSeq;
    expect(seq).toBeGreaterThan(10);
    const actual = (await set.sha256s()).map((d) => d.sha256);
    expect(actual).toEqual(replayDiskSha256(VM, seq, set.shapes));
    // One write more is another disk content.
    expect(replayDiskSha256(VM, seq + 1, set.shapes)).not.toEqual(actual);
    // Stopped: no write any more.
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(set.guestWriteSeq).toBe(seq);
    // The seq survives a reopen (agent restart) through the write log.
    await disks.close();
    const again = new SimDisks({ stateDir: dir, workingSetBytes: 2 * MIB, writesPerSecond: () => 0 });
    expect((await again.get(VM))?.guestWriteSeq).toBe(seq);
    await again.close();
  });

  it("an agent killed between a write's log line and its disk write: the reopened disks hold writes 1..seq", async () => {
    const set = await disks.create(VM, [
      { name: 'os', sizeBytes: 4 * MIB },
      { name: 'log', sizeBytes: 1 * MIB },
    ]);
    await set.writeNext(20);
    await disks.close();
    // The log says write 21 happened; the kill came before it reached its disk.
    const next = guestWrite(VM, 21, set.shapes);
    await writeFile(path.join(set.dir, 'guest-writes.log'), `${next.seq} ${next.disk} ${next.offset}\n`, { flag: 'a' });
    const again = new SimDisks({ stateDir: dir, workingSetBytes: 2 * MIB, writesPerSecond: () => 0 });
    const reopened = await again.get(VM);
    expect(reopened?.guestWriteSeq).toBe(21);
    expect((await reopened?.sha256s())?.map((d) => d.sha256)).toEqual(replayDiskSha256(VM, 21, set.shapes));
    await again.close();
  });

  it('track changed blocks across a restart; without the change log a delta is refused until a full snapshot', async () => {
    const set = await disks.create(VM, [{ name: 'os', sizeBytes: 4 * MIB }]);
    const disk = set.disks[0] as SimDisk;
    await set.writeNext(50);
    const first = await disk.snapshot('changed');
    expect(first.blocks).toEqual(disk.allocatedBlocks());
    await first.release(true);
    await disk.write(5 * BLOCK_BYTES + 10, Buffer.from('hello'));
    await disk.write(9 * BLOCK_BYTES, Buffer.from('world'));
    await disks.close();

    const reopened = new SimDisks({ stateDir: dir, workingSetBytes: 2 * MIB, writesPerSecond: () => 0 });
    const d2 = (await reopened.get(VM))?.disks[0] as SimDisk;
    const delta = await d2.snapshot('changed');
    expect(delta.blocks).toEqual([5, 9]);
    // A failed cycle puts its blocks back.
    await delta.release(false);
    const retry = await d2.snapshot('changed');
    expect(retry.blocks).toEqual([5, 9]);
    await retry.release(true);
    await reopened.close();

    await rm(`${d2.file}.cbt`);
    const lost = new SimDisks({ stateDir: dir, workingSetBytes: 2 * MIB, writesPerSecond: () => 0 });
    const d3 = (await lost.get(VM))?.disks[0] as SimDisk;
    expect(d3.changeTrackingLost).toBe(true);
    await expect(d3.snapshot('changed')).rejects.toBeInstanceOf(ChangeTrackingLostError);
    const full = await d3.snapshot('all');
    expect(full.blocks).toEqual(d3.allocatedBlocks());
    await full.release(true);
    expect(d3.changeTrackingLost).toBe(false);
    await d3.write(0, Buffer.from('x'));
    const after = await d3.snapshot('changed');
    expect(after.blocks).toEqual([0]);
    await lost.close();
  });

  it('a snapshot reads the disk as it was when taken while the guest goes on writing', async () => {
    const set = await disks.create(VM, [{ name: 'os', sizeBytes: 2 * MIB }]);
    const disk = set.disks[0] as SimDisk;
    await set.writeNext(200);
    const before = await disk.sha256();
    const snapshot = await set.freeze(() => disk.snapshot('all'));
    await set.writeNext(300);
    expect(await disk.sha256()).not.toBe(before);
    // Its digest, computed later, is still the disk's of then (and reading it leaves the blocks to ship).
    expect(await snapshot.sha256()).toBe(before);
    // Rebuild from the snapshot's blocks into a fresh disk: the content of then.
    const copy = await SimDisk.open({ file: path.join(dir, 'copy.img'), sizeBytes: 2 * MIB });
    for (const index of snapshot.blocks) await copy.writeBlock(index, await snapshot.read(index));
    expect(await copy.sha256()).toBe(before);
    expect(await copy.sha256()).toBe(replayDiskSha256(VM, 200, set.shapes)[0]);
    await snapshot.release(true);
    await copy.close();

    // A delta: blocks not in it whose hash is not known yet (a restarted agent) are read as they were too.
    await disks.close();
    const reopened = new SimDisks({ stateDir: dir, workingSetBytes: 2 * MIB, writesPerSecond: () => 0 });
    const again = (await reopened.get(VM)) as typeof set;
    const d = again.disks[0] as SimDisk;
    await again.writeNext(20);
    const then = replayDiskSha256(VM, again.guestWriteSeq, again.shapes)[0];
    const delta = await again.freeze(() => d.snapshot('changed'));
    await again.writeNext(400);
    for (const index of delta.blocks) await delta.readHashed(index);
    expect(await delta.sha256()).toBe(then);
    await delta.release(true);
    expect(await d.sha256()).toBe(replayDiskSha256(VM, again.guestWriteSeq, again.shapes)[0]);
    await reopened.close();
  });

  it('mirrors writes to a second file and can continue on it (storage migration)', async () => {
    const set = await disks.create(VM, [{ name: 'os', sizeBytes: 2 * MIB }]);
    const disk = set.disks[0] as SimDisk;
    await set.writeNext(100);
    const target = path.join(dir, 'pool-b', 'os.img');
    const mirror = await disk.startMirror(target);
    await set.writeNext(100); // during the copy
    await mirror.synced;
    await set.writeNext(50); // after it
    const expected = await disk.sha256();
    await disk.stopMirror(true);
    expect(disk.file).toBe(target);
    expect(await disk.sha256()).toBe(expected);
    const reopened = await SimDisk.open({ file: target, sizeBytes: 2 * MIB });
    expect(await reopened.sha256()).toBe(expected);
    expect(reopened.changeTrackingLost).toBe(false);
    await reopened.close();
  });

  it('a replicated VM discarded here keeps its files set aside; they seed once, then go', async () => {
    const REL = '6f1c2d3e-0000-4000-8000-0000000000aa';
    const set = await disks.create(VM, [{ name: 'os', sizeBytes: 2 * MIB }]);
    await set.writeNext(300);
    const expected = replayDiskSha256(VM, 300, set.shapes)[0];
    // Never replicated from here: a discard deletes the files.
    expect(await disks.discard(VM, () => true)).toBe('removed');
    expect(await disks.has(VM)).toBe(false);

    const again = await disks.create(VM, [{ name: 'os', sizeBytes: 2 * MIB }]);
    await again.writeNext(300);
    await again.markReplicated(REL);
    expect(await disks.replicationOf(VM)).toBe(REL);
    // This host holds a replica copy of the relationship already: no seed needed, deleted.
    expect(await disks.discard(VM, (rel) => rel !== REL)).toBe('removed');
    const third = await disks.create(VM, [{ name: 'os', sizeBytes: 2 * MIB }]);
    await third.writeNext(300);
    await third.markReplicated(REL);
    expect(await disks.discard(VM, () => true)).toBe('set-aside');
    expect(await disks.has(VM)).toBe(false);
    await expect(third.writeNext(1)).rejects.toThrow(/closed/);

    // The seed reads the set-aside files whole; afterwards they are gone.
    const copy = await SimDisk.open({ file: path.join(dir, 'copy.img'), sizeBytes: 2 * MIB });
    const source = await disks.withSeed(VM, async (seed) => {
      const from = seed?.disks[0];
      for (const index of from?.blocks ?? []) await copy.writeBlock(index, (await from?.read(index)) as Buffer);
      return seed?.source;
    });
    expect(source).toBe('set-aside');
    expect(await copy.sha256()).toBe(expected);
    await expect(stat(disks.setAsideDir(VM))).rejects.toThrow(/ENOENT/);
    expect(await disks.withSeed(VM, async (seed) => seed)).toBeNull();
    await copy.close();
  });

  it("a seed reads through its own handles: the VM's disks closed and deleted meanwhile lose no byte", async () => {
    const set = await disks.create(VM, [{ name: 'os', sizeBytes: 2 * MIB }]);
    await set.writeNext(300);
    const expected = (await set.sha256s())[0]?.sha256;
    const copy = await SimDisk.open({ file: path.join(dir, 'copy.img'), sizeBytes: 2 * MIB });
    await disks.withSeed(VM, async (seed) => {
      expect(seed?.source).toBe('live');
      // The race of the reverse replication: the HA discard closes and deletes the VM's disks mid-seed.
      await disks.remove(VM);
      const from = seed?.disks[0];
      for (const index of from?.blocks ?? []) await copy.writeBlock(index, (await from?.read(index)) as Buffer);
    });
    expect(await copy.sha256()).toBe(expected);
    await copy.close();
  });

  it('a quiesced guest finishes its transaction and holds its writes for the point; a crash-consistent freeze may cut one in half', async () => {
    const set = await disks.create(VM, [
      { name: 'os', sizeBytes: 4 * MIB },
      { name: 'log', sizeBytes: 1 * MIB },
    ]);
    const files = () =>
      set.disks.map((d) => ({ file: d.file, sizeBytes: d.sizeBytes, workingSetBytes: set.workingSetBytes }));
    // Write 5 opens transaction 2: a crash-consistent point here holds 1 of its 4 writes, and the content says so.
    await set.writeNext(GUEST_TX_WRITES + 1);
    const crash = await set.freeze(async (seq) => ({ seq, content: await inspectGuestTransactions(files()) }));
    expect(crash.seq).toBe(5);
    expect(crash.content).toMatchObject({ lastSeq: 5, lastTx: 2, whole: false, writesOfLastTx: 1 });
    expect(crash.content.digests).toEqual(replayDiskSha256(VM, 5, set.shapes));
    expect(transactionsWhole(crash.seq)).toBe(false);

    // The guest running fast: each quiesce ends on a transaction boundary, read from the files while held.
    await disks.startGuest(VM);
    for (let i = 0; i < 5; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 7 * (i + 1)));
      const point = await set.freezeConsistent(1_000, async (seq, quiesce) => {
        const sums = [];
        for (const disk of set.disks) sums.push(await disk.sha256());
        return { seq, quiesce, sums, content: await inspectGuestTransactions(files()) };
      });
      expect(point.quiesce.status).toBe('quiesced');
      expect(point.content).toMatchObject({ lastSeq: point.seq, whole: true, writesOfLastTx: GUEST_TX_WRITES });
      expect(transactionsWhole(point.seq)).toBe(true);
      // The point is exactly writes 1..seq: no write of the next transaction slipped in.
      expect(point.sums).toEqual(replayDiskSha256(VM, point.seq, set.shapes));
    }
    await disks.stopGuest(VM);
  });

  it('a guest that cannot quiesce (not running, writer refuses, no answer in time) gives a crash-consistent freeze that says why', async () => {
    const set = await disks.create(VM, [{ name: 'os', sizeBytes: 2 * MIB }]);
    await set.writeNext(3);
    const stopped = await set.freezeConsistent(1_000, async (seq, quiesce) => ({ seq, quiesce }));
    expect(stopped).toMatchObject({ seq: 3, quiesce: { status: 'failed', message: /not running/ } });

    await disks.startGuest(VM);
    await writeFile(path.join(set.dir, GUEST_VSS_FILE), 'refuse\n');
    const refused = await set.freezeConsistent(1_000, async (_seq, quiesce) => quiesce);
    expect(refused).toMatchObject({ status: 'failed', message: /refused/ });
    await writeFile(path.join(set.dir, GUEST_VSS_FILE), 'hang\n');
    const hung = await set.freezeConsistent(60, async (_seq, quiesce) => quiesce);
    expect(hung.status).toBe('timed-out');
    expect(hung.durationMs).toBeGreaterThanOrEqual(50);
    await disks.stopGuest(VM);
  });

  it('write content is seeded: the same (vm, seq) always gives the same write', () => {
    const shapes = [{ sizeBytes: 4 * MIB, workingSetBytes: 2 * MIB }];
    expect(guestWrite(VM, 7, shapes)).toEqual(guestWrite(VM, 7, shapes));
    expect(guestWrite(VM, 7, shapes).data.equals(guestWrite(VM, 8, shapes).data)).toBe(false);
  });
});

describe('peer listener', () => {
  const server = new PeerServer({ maxBodyBytes: 1024 });
  let base: string;
  const credA = 'a'.repeat(40);
  const credB = 'b'.repeat(40);

  beforeEach(async () => {
    base = await server.start();
    server.route('replica', async (request) => ({
      status: 200,
      json: { scope: request.scope, bytes: request.body.length },
    }));
    server.grant('replica/rel-a', credA);
    server.grant('replica/rel-b', credB);
  });

  afterEach(async () => {
    await server.stop();
    (server as unknown as { handlers: Map<string, unknown> }).handlers.clear();
  });

  const call = (p: string, credential: string | null, body = 'x') =>
    fetch(`${base}${p}`, {
      method: 'PUT',
      headers: credential ? { authorization: `Bearer ${credential}` } : {},
      body,
    });

  it('answers the scope its credential opens, and refuses everything else', async () => {
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const ok = await call('/peer/v1/replica/rel-a/blocks', credA);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ scope: 'replica/rel-a', bytes: 1 });

    expect((await call('/peer/v1/replica/rel-a/blocks', null)).status).toBe(401);
    expect((await call('/peer/v1/replica/rel-a/blocks', 'c'.repeat(40))).status).toBe(401);
    // rel-b's credential on rel-a's path: another relationship's path.
    const wrong = await call('/peer/v1/replica/rel-a/blocks', credB);
    expect(wrong.status).toBe(403);
    expect(await wrong.json()).toMatchObject({ error: { code: 'WRONG_SCOPE' } });
    // A scope nobody granted.
    expect((await call('/peer/v1/replica/rel-c/blocks', credA)).status).toBe(403);
    expect((await call('/peer/v1/migration/rel-a/blocks', credA)).status).toBe(403);
    // Oversized, declared and streamed.
    const big = await call('/peer/v1/replica/rel-a/blocks', credA, 'y'.repeat(2048));
    expect(big.status).toBe(413);
    server.revoke('replica/rel-a');
    expect((await call('/peer/v1/replica/rel-a/blocks', credA)).status).toBe(401);
  });
});
