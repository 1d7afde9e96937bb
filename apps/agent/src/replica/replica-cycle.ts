import { promisify } from 'node:util';
import { deflateRaw as deflateRawCb, constants as zlib } from 'node:zlib';
import type {
  QuiesceReport,
  ReplicaCycleParams,
  ReplicaCycleResult,
} from '@fabric/core/tasks/replica-task-protocol.schema';
import { zeroSha256 } from '../disks/blocks';
import type { DiskSnapshot } from '../disks/sim-disk';
import type { VmDiskSet } from '../disks/vm-disks';
import { putChunks } from '../put-chunks';
import { TaskError } from '../task-handlers';
import { encodeHeader } from './frames';

const deflateRaw = promisify(deflateRawCb);

/** Raw block bytes per PUT: well inside the peer listener's 8 MiB body limit. */
export const BATCH_BYTES = 4 * 1024 * 1024;
/** Batches on the wire at once: reading and compressing the next overlaps sending this one. */
const IN_FLIGHT = 2;

export interface CycleContext {
  signal: AbortSignal;
  onProgress: (percent: number, message: string) => void;
}

/**
 * The primary's half of `replica.cycle`: takes a crash-consistent snapshot of
 * every disk between two guest writes (`freeze`), and ships its blocks to the
 * replica host's peer listener (begin → blocks… → commit). Modes:
 * - delta / final: the blocks changed since the last shipped snapshot
 *   (CHANGE_TRACKING_LOST when a disk has no change log);
 * - initial: every block ever written;
 * - resync: every block whose sha256 differs from the replica's (the replica
 *   lists its hashes), plus zeros for blocks only the replica has.
 * The replica checks each disk's sha256 against the snapshot's before it keeps
 * the point. An application-consistent cycle quiesces the guest for the
 * snapshot (VmDiskSet.freezeConsistent) and reports how the quiesce went. A failure puts the changes back (the next delta ships them).
 */
export async function runReplicaCycle(
  params: ReplicaCycleParams,
  set: VmDiskSet,
  context: CycleContext,
): Promise<ReplicaCycleResult> {
  const started = performance.now();
  const peer = new PeerClient(params.peerUrl, params.relationshipId, params.credential, context.signal);
  const pointPath = `points/${params.pointId}`;
  const shape = set.disks.map((d, i) => ({ name: set.names[i] as string, sizeBytes: d.sizeBytes }));
  const full = params.mode === 'initial' || params.mode === 'resync';

  // An application-consistent point is taken with the guest quiesced (no transaction half-written); when the
  // guest cannot quiesce the snapshot is crash-consistent, and the point says so.
  const take = async (guestWriteSeq: number) => {
    const taken: DiskSnapshot[] = [];
    try {
      for (const disk of set.disks) taken.push(await disk.snapshot(full ? 'all' : 'changed'));
    } catch (error) {
      for (const s of taken) await s.release(false);
      if (error instanceof Error && 'code' in error && error.code === 'CHANGE_TRACKING_LOST') {
        throw new TaskError('CHANGE_TRACKING_LOST', `${error.message}; run a resync cycle`, 'running');
      }
      throw error;
    }
    return { seq: guestWriteSeq, snapshots: taken };
  };
  const { seq, snapshots, quiesce } = params.appConsistent
    ? await set.freezeConsistent(params.quiesceTimeoutMs, async (guestWriteSeq, report) => ({
        ...(await take(guestWriteSeq)),
        quiesce: report as QuiesceReport | null,
      }))
    : { ...(await set.freeze(take)), quiesce: null };
  const appConsistent = quiesce?.status === 'quiesced';
  let shipped = false;
  try {
    const begin = await peer.json<{ status: string; result?: ReplicaCycleResult }>('POST', `${pointPath}/begin`, {
      mode: params.mode,
      guestWriteSeq: seq,
      disks: shape,
    });
    // The replica has this point already (the cycle was run before and its report lost): same answer, nothing sent.
    if (begin.status === 'committed' && begin.result) return begin.result;

    // What to send, per disk.
    const plan: { disk: number; snapshot: DiskSnapshot; blocks: number[]; theirs: Map<number, string> | null }[] = [];
    for (const [i, snapshot] of snapshots.entries()) {
      let theirs: Map<number, string> | null = null;
      if (params.mode === 'resync') {
        const answer = await peer.json<{ blocks: [number, string][] }>('GET', `hashes?disk=${i}`);
        theirs = new Map(answer.blocks);
      }
      const blocks = new Set(snapshot.blocks);
      // Blocks only the replica has must become zeros there.
      if (theirs) for (const index of theirs.keys()) blocks.add(index);
      plan.push({ disk: i, snapshot, blocks: [...blocks].sort((a, b) => a - b), theirs });
    }
    const totalBlocks = plan.reduce((sum, p) => sum + p.blocks.length, 0);

    let bytesSent = 0;
    let bytesLogical = 0;
    let blocksSent = 0;
    let done = 0;
    let batch: Buffer[] = [];
    let batchBytes = 0;
    const inFlight = new Set<Promise<void>>();
    const flush = async () => {
      if (batch.length === 0) return;
      const body = batch;
      batch = [];
      batchBytes = 0;
      const sending: Promise<void> = peer.put(`${pointPath}/blocks`, body).finally(() => inFlight.delete(sending));
      // Awaited below (race / all); this only keeps a failure while another is awaited from being unhandled.
      sending.catch(() => undefined);
      inFlight.add(sending);
      if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
    };
    for (const item of plan) {
      const snapshotBlocks = new Set(item.snapshot.blocks);
      for (const index of item.blocks) {
        if (context.signal.aborted) throw new TaskError('CANCELLED', 'cycle cancelled; nothing kept', 'running');
        const length = blockLengthOf(set, item.disk, index);
        // Read and hashed once: the snapshot's digest reuses the hash.
        const { data, sha256: hash } = snapshotBlocks.has(index)
          ? await item.snapshot.readHashed(index)
          : { data: Buffer.alloc(length), sha256: zeroSha256(length) };
        done += 1;
        if (item.theirs) {
          const known = item.theirs.get(index) ?? zeroSha256(length);
          if (hash === known) continue;
        }
        let payload = data;
        let deflated = false;
        if (params.compression) {
          const packed = await deflateRaw(data, { level: zlib.Z_BEST_SPEED });
          if (packed.length < data.length) {
            payload = packed;
            deflated = true;
          }
        }
        batch.push(
          encodeHeader({ disk: item.disk, block: index, length, deflated, payloadBytes: payload.length }),
          payload,
        );
        batchBytes += data.length;
        bytesLogical += data.length;
        bytesSent += payload.length;
        blocksSent += 1;
        if (batchBytes >= BATCH_BYTES) {
          await flush();
          context.onProgress(
            Math.min(95, Math.round((95 * done) / Math.max(1, totalBlocks))),
            `sent ${blocksSent} blocks`,
          );
        }
      }
    }
    await flush();
    await Promise.all(inFlight);

    // The digests of the snapshots: the blocks shipped were hashed as they were read, the rest are read now.
    const disks = [];
    for (const [i, s] of snapshots.entries()) disks.push({ name: set.names[i] as string, sha256: await s.sha256() });
    const result: ReplicaCycleResult = {
      pointId: params.pointId,
      mode: params.mode,
      bytesSent,
      bytesLogical,
      blocksSent,
      durationMs: 0,
      disks,
      guestWriteSeq: seq,
      appConsistent,
      quiesce,
    };
    // Up to the commit: the replica stores this result and answers it again to a re-run of the point.
    result.durationMs = Math.round(performance.now() - started);
    await peer.json('POST', `${pointPath}/commit`, {
      guestWriteSeq: seq,
      appConsistent,
      disks,
      result,
    });
    shipped = true;
    return result;
  } finally {
    for (const snapshot of snapshots) await snapshot.release(shipped);
  }
}

function blockLengthOf(set: VmDiskSet, disk: number, index: number): number {
  const size = (set.disks[disk] as { sizeBytes: number }).sizeBytes;
  return Math.min(64 * 1024, size - index * 64 * 1024);
}

/** Calls to the replica host's peer listener; every failure is a TaskError with a stable code. */
class PeerClient {
  private readonly base: string;

  constructor(
    peerUrl: string,
    relationshipId: string,
    private readonly credential: string,
    private readonly signal: AbortSignal,
  ) {
    this.base = `${peerUrl.replace(/\/$/, '')}/peer/v1/replica/${relationshipId}/`;
  }

  async json<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const answer = await this.call(
      method,
      path,
      body === undefined ? undefined : JSON.stringify(body),
      'application/json',
    );
    return (await answer.json()) as T;
  }

  /**
   * A batch of frames, written to the socket as they are (node:http): fetch would first copy the body
   * (and a concat before it), two copies of every byte shipped.
   */
  async put(path: string, chunks: readonly Buffer[]): Promise<void> {
    const url = new URL(this.base + path);
    const answer = await putChunks(url, this.credential, chunks, this.signal).catch((error: unknown) => {
      throw new TaskError(
        'PEER_UNREACHABLE',
        `the replica host's peer listener did not answer (${error instanceof Error ? error.message : String(error)})`,
        'running',
      );
    });
    if (answer.status >= 200 && answer.status < 300) return;
    throw refusal('PUT', path, answer.status, String(answer.status), answer.body.toString('utf8'));
  }

  private async call(method: string, path: string, body: string | Buffer | undefined, type: string): Promise<Response> {
    let answer: Response;
    try {
      answer = await fetch(this.base + path, {
        method,
        headers: { authorization: `Bearer ${this.credential}`, 'content-type': type },
        body: body as BodyInit | undefined,
        signal: AbortSignal.any([this.signal, AbortSignal.timeout(60_000)]),
      });
    } catch (error) {
      throw new TaskError(
        'PEER_UNREACHABLE',
        `the replica host's peer listener did not answer (${error instanceof Error ? error.message : String(error)})`,
        'running',
      );
    }
    if (answer.ok) return answer;
    throw refusal(method, path, answer.status, answer.statusText, await answer.text().catch(() => ''));
  }
}

/** The replica's refusal as a TaskError with a stable code (its JSON error body, when it has one). */
function refusal(method: string, path: string, status: number, statusText: string, text: string): TaskError {
  let code = `HTTP_${status}`;
  let message = statusText;
  try {
    const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
    code = parsed.error?.code ?? code;
    message = parsed.error?.message ?? message;
  } catch {
    // not JSON
  }
  const stable = code === 'CHECKSUM_MISMATCH' || code === 'RELATIONSHIP_NOT_FOUND' ? code : 'REPLICA_REFUSED';
  return new TaskError(stable, `the replica host refused ${method} ${path} (${status} ${code}: ${message})`, 'running');
}
