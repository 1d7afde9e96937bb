import {
  type ReplicaAcceptResult,
  type ReplicaDoneResult,
  type ReplicaMaterializeResult,
  type ReplicaRemoveResult,
  type ReplicaRetainResult,
  replicaAcceptParamsSchema,
  replicaCommitParamsSchema,
  replicaCycleParamsSchema,
  replicaFailoverParamsSchema,
  replicaRemoveParamsSchema,
  replicaRetainParamsSchema,
  replicaRevertParamsSchema,
  replicaStopTestParamsSchema,
  replicaTestFailoverParamsSchema,
} from '@fabric/core/tasks/replica-task-protocol.schema';
import type { AgentTask, VmSpec } from '@fabric/core/tasks/task-protocol.schema';
import { PeerError } from '../disks/peer-server';
import type { SimDisks, VmDiskSet } from '../disks/vm-disks';
import { type Driver, type VmOperationContext, VmOperationError, type VmPowerState } from '../drivers/driver';
import type { Logger } from '../log';
import { parseParams, TaskError, type TaskHandlers } from '../task-handlers';
import type { FinalReport } from '../task-journal';
import { runReplicaCycle } from './replica-cycle';
import type { RelationshipRecord, ReplicaStore } from './replica-store';

/**
 * The agent's `replica.*` task handlers (shared contract part 4; params and
 * results in packages/core/src/tasks/replica-task.schema.ts). The primary host
 * runs `replica.cycle`; the replica host runs the others and serves the peer
 * path the cycle ships to (replica-store.ts).
 */
export interface ReplicaHandlerDeps {
  disks: SimDisks;
  store: ReplicaStore;
  /** The driver tasks run on (with the run log), for the VMs failover and test failover create. */
  driver: Driver;
  log: Logger;
}

export function registerReplicaHandlers(handlers: TaskHandlers, deps: ReplicaHandlerDeps): void {
  const { disks, store, driver } = deps;

  const stateOf = async (vmId: string): Promise<VmPowerState | null> =>
    (await driver.listVms()).find((vm) => vm.vmId === vmId)?.state ?? null;
  const ok = (vmState: VmPowerState | null, message: string, result: object): FinalReport => ({
    status: 'succeeded',
    vmState,
    message,
    result: result as Record<string, unknown>,
  });
  const relationship = (id: string): RelationshipRecord => {
    const rel = store.get(id);
    if (!rel) throw new TaskError('RELATIONSHIP_NOT_FOUND', `relationship ${id} was not accepted on this host`);
    return rel;
  };
  const translate = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof PeerError) throw new TaskError(error.code, error.message);
      throw error;
    }
  };

  /** Makes `vmId` from the point: its disks, its VM (created, started when asked), its guest going on from the point. */
  const materialize = async (
    rel: RelationshipRecord,
    pointId: string,
    spec: VmSpec,
    start: boolean,
    context: VmOperationContext,
    /** This task ran before and made `spec.vmId` from this point: the VM here is its result. */
    rerun: boolean,
  ): Promise<ReplicaMaterializeResult> => {
    let existing = (await driver.listVms()).find((vm) => vm.vmId === spec.vmId);
    const point = rel.points.find((p) => p.pointId === pointId);
    if (!point) throw new TaskError('POINT_NOT_FOUND', `recovery point ${pointId} is not kept on this host`);
    if (existing && !rerun) {
      // A copy of the VM from when this host owned it (a planned failover leaves the old primary's VM off):
      // its disks are not the point, so it goes and the VM is made from the point.
      await removeVm(spec.vmId, context);
      existing = undefined;
    }
    let set: VmDiskSet | null = await disks.get(spec.vmId);
    if (!existing) {
      // Left over from an interrupted run: start the disks again from the point.
      if (set) await disks.remove(spec.vmId);
      set = await disks.create(
        spec.vmId,
        rel.disks.map((d) => ({ name: d.name, sizeBytes: d.sizeBytes })),
      );
      context.onProgress(10, `writing recovery point ${pointId.slice(0, 8)} into the disks`);
      await translate(() => store.materialize(rel.relationshipId, pointId, set as VmDiskSet));
      await set.continueFrom(point.guestWriteSeq);
      await driver.createVm(spec, {
        signal: context.signal,
        onProgress: (p, m) => context.onProgress(10 + p * 0.4, m),
      });
    }
    if (!set) throw new TaskError('VM_NOT_FOUND', `VM ${spec.vmId} exists but has no disks here`, existing?.state);
    const sums = existing ? point.disks : await set.sha256s();
    if (start) {
      await driver.startVm(spec.vmId, {
        signal: context.signal,
        onProgress: (p, m) => context.onProgress(50 + p * 0.5, m),
      });
    }
    return {
      pointId,
      vmId: spec.vmId,
      guestWriteSeq: point.guestWriteSeq,
      disks: sums,
      vmState: (await stateOf(spec.vmId)) ?? 'off',
    };
  };

  const done = async (rel: RelationshipRecord): Promise<ReplicaDoneResult> => ({
    relationshipId: rel.relationshipId,
    points: rel.points.map((p) => p.pointId),
    storageBytes: await store.storageBytesOf(rel.relationshipId),
  });

  const removeVm = async (vmId: string, context: VmOperationContext) => {
    try {
      await driver.turnOffVm(vmId, context);
      await driver.deleteVm(vmId, context);
    } catch (error) {
      if (!(error instanceof VmOperationError && error.code === 'VM_NOT_FOUND')) throw error;
    }
    await disks.remove(vmId);
  };

  handlers.register('replica.accept', async (task) => {
    const params = parseParams(task, replicaAcceptParamsSchema);
    // The VM's disk files on this host (an old primary taking the reverse direction: its VM, or the copy
    // set aside when the VM was discarded) seed a new replica copy, read through handles of its own.
    const existing = store.get(params.relationshipId);
    const fresh = !existing || (existing.state !== 'replicating' && existing.credential !== params.credential);
    const result: ReplicaAcceptResult = fresh
      ? await disks.withSeed(params.vmId, (seed) => store.accept(params, seed))
      : await store.accept(params, null);
    return ok(null, `replica storage ready for relationship ${short(params.relationshipId)}`, result);
  });

  handlers.register('replica.cycle', async (task, context) => {
    const params = parseParams(task, replicaCycleParamsSchema);
    const set = await disks.get(task.vmId);
    if (!set) throw new TaskError('VM_NOT_FOUND', `this host has no disks of VM ${task.vmId}`, null);
    // Should this host lose the VM (a failover), its disks are kept to seed the reverse direction.
    await set.markReplicated(params.relationshipId);
    const result = await runReplicaCycle(params, set, context);
    const message =
      `${params.mode} cycle: point ${short(result.pointId)} at write ${result.guestWriteSeq}, ` +
      `${result.blocksSent} blocks, ${result.bytesSent} bytes sent`;
    return ok(await stateOf(task.vmId), message, result);
  });

  handlers.register('replica.retain', async (task) => {
    const params = parseParams(task, replicaRetainParamsSchema);
    relationship(params.relationshipId);
    const { kept, dropped } = await translate(() => store.retain(params.relationshipId, params.keepPointIds));
    const result: ReplicaRetainResult = {
      kept,
      dropped,
      storageBytes: await store.storageBytesOf(params.relationshipId),
    };
    return ok(null, `kept ${kept.length} point(s), dropped ${dropped.length}`, result);
  });

  handlers.register('replica.test-failover', async (task, context) => {
    const params = parseParams(task, replicaTestFailoverParamsSchema);
    const rel = relationship(params.relationshipId);
    const spec = params.spec ?? (await testSpec(rel, params.testVmId, params.name, driver));
    if (spec.vmId !== params.testVmId) throw new TaskError('INVALID_PARAMS', 'spec.vmId must be the testVmId');
    const rerun = rel.tests.some((t) => t.testVmId === params.testVmId && t.pointId === params.pointId);
    const result = await materialize(rel, params.pointId, spec, true, context, rerun);
    if (!rel.tests.some((t) => t.testVmId === params.testVmId)) {
      await store.setState(rel.relationshipId, {
        tests: [...rel.tests, { testVmId: params.testVmId, pointId: params.pointId }],
      });
    }
    return ok(result.vmState, `test VM ${params.name} running from point ${short(params.pointId)}`, result);
  });

  handlers.register('replica.stop-test', async (task, context) => {
    const params = parseParams(task, replicaStopTestParamsSchema);
    const rel = relationship(params.relationshipId);
    await removeVm(params.testVmId, context);
    const after = await store.setState(rel.relationshipId, {
      tests: rel.tests.filter((t) => t.testVmId !== params.testVmId),
    });
    return ok(null, `test VM ${short(params.testVmId)} removed`, await done(after));
  });

  handlers.register('replica.failover', async (task, context) => {
    const params = parseParams(task, replicaFailoverParamsSchema);
    const rel = relationship(params.relationshipId);
    if (params.spec.vmId !== rel.vmId) throw new TaskError('INVALID_PARAMS', 'spec.vmId must be the replicated VM');
    if (rel.state === 'failed-over' && rel.failedOverPointId !== params.pointId) {
      throw new TaskError('INVALID_STATE', `failed over to point ${rel.failedOverPointId} already; revert first`);
    }
    const rerun = rel.state === 'failed-over' && rel.failedOverPointId === params.pointId;
    const result = await materialize(rel, params.pointId, params.spec, params.start, context, rerun);
    await store.setState(rel.relationshipId, { state: 'failed-over', failedOverPointId: params.pointId });
    return ok(result.vmState, `failed over to point ${short(params.pointId)} (write ${result.guestWriteSeq})`, result);
  });

  handlers.register('replica.commit', async (task) => {
    const params = parseParams(task, replicaCommitParamsSchema);
    const rel = relationship(params.relationshipId);
    if (rel.state === 'replicating') throw new TaskError('INVALID_STATE', 'nothing to commit: not failed over');
    const after = await store.commitFailover(rel.relationshipId);
    return ok(await stateOf(rel.vmId), 'failover committed; other recovery points dropped', await done(after));
  });

  handlers.register('replica.revert', async (task, context) => {
    const params = parseParams(task, replicaRevertParamsSchema);
    const rel = relationship(params.relationshipId);
    if (rel.state === 'committed') throw new TaskError('INVALID_STATE', 'the failover is committed; it cannot revert');
    if (rel.state === 'failed-over') await removeVm(rel.vmId, context);
    const after = await store.setState(rel.relationshipId, { state: 'replicating', failedOverPointId: null });
    return ok(null, 'failover reverted; replicating again', await done(after));
  });

  handlers.register('replica.remove', async (task, context) => {
    const params = parseParams(task, replicaRemoveParamsSchema);
    const rel = store.get(params.relationshipId);
    // Test VMs made from the replica go with it; the replicated VM (which runs here after a failover) stays.
    const tests = (rel?.tests ?? []).map((t) => t.testVmId).filter((id) => id !== rel?.vmId);
    for (const testVmId of tests) await removeVm(testVmId, context);
    const removed = await store.remove(params.relationshipId);
    // The old primary's copy of the VM's disks, kept to seed a reverse direction that will not come now.
    const setAsideRemoved = await disks.dropSetAsideOf(task.vmId, params.relationshipId);
    const result: ReplicaRemoveResult = {
      relationshipId: params.relationshipId,
      existed: removed !== null,
      freedBytes: removed?.freedBytes ?? 0,
      pointsRemoved: removed?.pointsRemoved ?? 0,
      testVmsRemoved: tests,
      setAsideRemoved,
    };
    const message =
      (removed
        ? `replica of relationship ${short(params.relationshipId)} removed: ${result.pointsRemoved} point(s), ${result.freedBytes} bytes freed`
        : `this host held no replica of relationship ${short(params.relationshipId)}`) +
      (setAsideRemoved ? '; the VM disks set aside here deleted' : '');
    return ok(null, message, result);
  });
}

/** The test VM's shape when the control plane gives none: the replicated disks, 1 vCPU, 512 MiB, no NICs. */
async function testSpec(rel: RelationshipRecord, vmId: string, name: string, driver: Driver): Promise<VmSpec> {
  const pool = (await driver.inventory()).storagePools[0]?.name ?? 'default';
  return {
    vmId,
    name,
    vcpus: 1,
    memory: { dynamic: false, startupMiB: 512, minimumMiB: 512, maximumMiB: 512, bufferPercent: 20, weight: 5000 },
    disks: rel.disks.map((d) => ({
      name: d.name,
      pool,
      sizeBytes: d.sizeBytes,
      logicalSectorBytes: 512 as const,
      kind: 'dynamic' as const,
      parent: null,
    })),
    nics: [],
  };
}

function short(id: string): string {
  return id.slice(0, 8);
}

export type { AgentTask };
