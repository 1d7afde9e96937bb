import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BLOCK_BYTES } from '../disks/blocks';
import { PeerServer } from '../disks/peer-server';
import { SimDisks } from '../disks/vm-disks';
import { encodeHeader } from './frames';
import { ReplicaStore } from './replica-store';

const MIB = 1024 * 1024;

/** The replica's side alone, over its real peer listener: begin, blocks, commit, and what a broken cycle leaves. */
describe('replica storage', () => {
  let dir: string;
  let peer: PeerServer;
  let store: ReplicaStore;
  let base: string;
  const relationshipId = randomUUID();
  const credential = 'c'.repeat(40);

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fabric-replica-store-'));
    peer = new PeerServer();
    store = new ReplicaStore({ dir: path.join(dir, 'replicas'), peer });
    await store.start();
    base = `${await peer.start()}/peer/v1/replica/${relationshipId}`;
    await store.accept(
      {
        relationshipId,
        vmId: randomUUID(),
        credential,
        primaryHostId: randomUUID(),
        disks: [{ name: 'os', sizeBytes: 4 * MIB }],
      },
      null,
    );
  });
  afterEach(async () => {
    await peer.stop();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const call = async (method: string, p: string, body?: unknown) => {
    const answer = await fetch(`${base}/${p}`, {
      method,
      headers: { authorization: `Bearer ${credential}` },
      body:
        body === undefined ? undefined : Buffer.isBuffer(body) ? (body as unknown as BodyInit) : JSON.stringify(body),
    });
    return { status: answer.status, json: (await answer.json()) as Record<string, unknown> };
  };
  const frames = (blocks: Map<number, Buffer>) =>
    Buffer.concat(
      [...blocks].flatMap(([block, data]) => [
        encodeHeader({ disk: 0, block, length: data.length, deflated: false, payloadBytes: data.length }),
        data,
      ]),
    );

  /** What the primary would claim: the sha256 of a disk holding `blocks`. */
  async function digestOf(blocks: Map<number, Buffer>): Promise<string> {
    const disks = new SimDisks({
      stateDir: path.join(dir, `ref-${randomUUID()}`),
      workingSetBytes: MIB,
      writesPerSecond: () => 0,
    });
    const set = await disks.create(randomUUID(), [{ name: 'os', sizeBytes: 4 * MIB }]);
    for (const [block, data] of blocks) await set.disks[0]?.writeBlock(block, data);
    const [sum] = await set.sha256s();
    await disks.close();
    return sum?.sha256 ?? '';
  }

  async function cycle(pointId: string, blocks: Map<number, Buffer>, claimed?: string) {
    expect(
      (
        await call('POST', `points/${pointId}/begin`, {
          mode: 'delta',
          guestWriteSeq: 1,
          disks: [{ name: 'os', sizeBytes: 4 * MIB }],
        })
      ).status,
    ).toBe(200);
    expect((await call('PUT', `points/${pointId}/blocks`, frames(blocks))).status).toBe(200);
    const sha256 = claimed ?? (await digestOf(blocks));
    return call('POST', `points/${pointId}/commit`, {
      guestWriteSeq: 1,
      appConsistent: false,
      disks: [{ name: 'os', sha256 }],
      result: { pointId },
    });
  }

  it("remove deletes one relationship's folder and closes its peer path; another relationship keeps everything", async () => {
    const p1 = randomUUID();
    expect(await cycle(p1, new Map([[1, randomBytes(BLOCK_BYTES)]]))).toMatchObject({ status: 200 });
    const other = randomUUID();
    await store.accept(
      {
        relationshipId: other,
        vmId: randomUUID(),
        credential: 'd'.repeat(40),
        primaryHostId: randomUUID(),
        disks: [{ name: 'os', sizeBytes: 4 * MIB }],
      },
      null,
    );
    const removed = await store.remove(relationshipId);
    expect(removed).toMatchObject({ pointsRemoved: 1 });
    expect(removed?.freedBytes).toBeGreaterThan(0);
    expect(await readdir(path.join(dir, 'replicas'))).toEqual([other]);
    expect(store.get(relationshipId)).toBeNull();
    expect(store.get(other)).not.toBeNull();
    // The primary's credential opens nothing any more.
    const late = await call('POST', `points/${randomUUID()}/begin`, {
      mode: 'delta',
      guestWriteSeq: 2,
      disks: [{ name: 'os', sizeBytes: 4 * MIB }],
    });
    expect(late.status).toBeGreaterThanOrEqual(400);
    expect(await readdir(path.join(dir, 'replicas'))).toEqual([other]);
    // Again: nothing held, nothing else touched.
    expect(await store.remove(relationshipId)).toBeNull();
    expect(await readdir(path.join(dir, 'replicas'))).toEqual([other]);
  });

  it('keeps a point whose disks hash as claimed; a wrong claim or an unfinished cycle leaves the last point', async () => {
    const one = new Map([
      [0, randomBytes(BLOCK_BYTES)],
      [3, randomBytes(BLOCK_BYTES)],
    ]);
    const p1 = randomUUID();
    expect(await cycle(p1, one)).toMatchObject({ status: 200, json: { status: 'committed' } });
    const kept = await digestOf(one);

    // The primary claims another checksum: refused, and the blocks are undone.
    const two = new Map([
      [0, randomBytes(BLOCK_BYTES)],
      [5, randomBytes(BLOCK_BYTES)],
    ]);
    expect(await cycle(randomUUID(), two, 'f'.repeat(64))).toMatchObject({
      status: 409,
      json: { error: { code: 'CHECKSUM_MISMATCH' } },
    });
    expect(store.get(relationshipId)?.points.map((p) => p.pointId)).toEqual([p1]);

    // A cycle that sent blocks and died: the next begin undoes them before anything else.
    const dead = randomUUID();
    await call('POST', `points/${dead}/begin`, {
      mode: 'delta',
      guestWriteSeq: 2,
      disks: [{ name: 'os', sizeBytes: 4 * MIB }],
    });
    await call('PUT', `points/${dead}/blocks`, frames(two));
    const three = new Map([[7, randomBytes(BLOCK_BYTES)]]);
    const p3 = randomUUID();
    const expected = await digestOf(new Map([...one, ...three]));
    expect(await cycle(p3, three, expected)).toMatchObject({ status: 200 });

    // Killed mid-cycle: a restart rolls back too, and the older point still materializes exactly.
    const killed = randomUUID();
    await call('POST', `points/${killed}/begin`, {
      mode: 'delta',
      guestWriteSeq: 3,
      disks: [{ name: 'os', sizeBytes: 4 * MIB }],
    });
    expect((await call('PUT', `points/${randomUUID()}/blocks`, frames(two))).status).toBe(409); // not begun
    expect((await call('PUT', `points/${killed}/blocks`, frames(two))).status).toBe(200);
    await store.close();
    await peer.stop();
    peer = new PeerServer();
    store = new ReplicaStore({ dir: path.join(dir, 'replicas'), peer });
    await store.start();
    base = `${await peer.start()}/peer/v1/replica/${relationshipId}`;
    const disks = new SimDisks({ stateDir: path.join(dir, 'out'), workingSetBytes: MIB, writesPerSecond: () => 0 });
    const target = await disks.create(randomUUID(), [{ name: 'os', sizeBytes: 4 * MIB }]);
    await store.materialize(relationshipId, p1, target);
    expect((await target.sha256s())[0]?.sha256).toBe(kept);
    const latest = await disks.create(randomUUID(), [{ name: 'os', sizeBytes: 4 * MIB }]);
    await store.materialize(relationshipId, p3, latest);
    expect((await latest.sha256s())[0]?.sha256).toBe(expected);

    // Failed over here; a repeated accept (same credential) keeps it, a new generation (the reverse
    // direction, new credential) starts a fresh replica copy from this host's VM disks, taking cycles again.
    await store.setState(relationshipId, { state: 'failed-over', failedOverPointId: p3 });
    const params = {
      relationshipId,
      vmId: randomUUID(),
      primaryHostId: randomUUID(),
      disks: [{ name: 'os', sizeBytes: 4 * MIB }],
    };
    expect((await store.accept({ ...params, credential }, null)).points).toHaveLength(2);
    expect(store.get(relationshipId)?.state).toBe('failed-over');
    const reversed = await disks.withSeed(latest.vmId, (seed) =>
      store.accept({ ...params, credential: 'd'.repeat(40) }, seed),
    );
    expect(reversed.points).toEqual([]);
    expect(store.get(relationshipId)?.state).toBe('replicating');
    // Seeded from the VM's disks: the hashes a resync compares against are theirs.
    const listed = await fetch(`${base}/hashes?disk=0`, { headers: { authorization: `Bearer ${'d'.repeat(40)}` } });
    const theirs = new Map(((await listed.json()) as { blocks: [number, string][] }).blocks);
    expect(theirs).toEqual(await latest.disks[0]?.blockHashes());
    await disks.close();
  });

  it('a failover during a cycle gets the newest point, not half the next; a block sent twice keeps older points exact', async () => {
    const one = new Map([
      [0, randomBytes(BLOCK_BYTES)],
      [2, randomBytes(BLOCK_BYTES)],
    ]);
    const p1 = randomUUID();
    expect(await cycle(p1, one)).toMatchObject({ status: 200 });
    const sumOne = await digestOf(one);

    // The next cycle sends block 0 twice (the primary retried a PUT whose answer it lost), then block 4.
    const p2 = randomUUID();
    const two = new Map([
      [0, randomBytes(BLOCK_BYTES)],
      [4, randomBytes(BLOCK_BYTES)],
    ]);
    await call('POST', `points/${p2}/begin`, {
      mode: 'delta',
      guestWriteSeq: 2,
      disks: [{ name: 'os', sizeBytes: 4 * MIB }],
    });
    const first = new Map([[0, two.get(0) as Buffer]]);
    expect((await call('PUT', `points/${p2}/blocks`, frames(first))).status).toBe(200);
    expect((await call('PUT', `points/${p2}/blocks`, frames(first))).status).toBe(200);

    // Half-received: a VM made from the newest point now is that point, byte for byte.
    const disks = new SimDisks({ stateDir: path.join(dir, 'out'), workingSetBytes: MIB, writesPerSecond: () => 0 });
    const during = await disks.create(randomUUID(), [{ name: 'os', sizeBytes: 4 * MIB }]);
    await store.materialize(relationshipId, p1, during);
    expect((await during.sha256s())[0]?.sha256).toBe(sumOne);

    expect((await call('PUT', `points/${p2}/blocks`, frames(new Map([[4, two.get(4) as Buffer]])))).status).toBe(200);
    const sumTwo = await digestOf(new Map([...one, ...two]));
    expect(
      await call('POST', `points/${p2}/commit`, {
        guestWriteSeq: 2,
        appConsistent: false,
        disks: [{ name: 'os', sha256: sumTwo }],
        result: { pointId: p2 },
      }),
    ).toMatchObject({ status: 200 });
    // The older point still materializes exactly: its block 0 is the one before the cycle, not the retried copy.
    const older = await disks.create(randomUUID(), [{ name: 'os', sizeBytes: 4 * MIB }]);
    await store.materialize(relationshipId, p1, older);
    expect((await older.sha256s())[0]?.sha256).toBe(sumOne);
    const newer = await disks.create(randomUUID(), [{ name: 'os', sizeBytes: 4 * MIB }]);
    await store.materialize(relationshipId, p2, newer);
    expect((await newer.sha256s())[0]?.sha256).toBe(sumTwo);
    await disks.close();
  });
});
