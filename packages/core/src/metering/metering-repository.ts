import type { MeasureParts, VmPeriodTotals } from './measure';
import type { SampleFacts } from './sample-plausibility';
import type { VmSample } from './sample-protocol.schema';
import type { BucketTotals } from './usage-series';
import type { UsageBucket } from './usage-series.schema';

/**
 * One message of samples from a host agent, as it arrived: the host, the hash
 * of the credential it presented and its sequence number.
 */
export interface SampleBatch {
  hostId: string;
  credentialHash: string;
  seq: number;
  samples: VmSample[];
}

/** What storing a batch did; anything but `stored` wrote nothing. */
export type SampleBatchOutcome =
  | { kind: 'stored'; onHost: number; stored: number }
  /** The host is gone or its credential was replaced since it was verified. */
  | { kind: 'credential-invalid' }
  /** `seq` is not above the host's last accepted one. */
  | { kind: 'replayed' }
  /** Samples name metered ACLs that are not defined classes. */
  | { kind: 'unknown-acls'; names: string[] };

export interface MeasuredTotals {
  samples: number;
  seconds: number;
  cpuMhzSeconds: number;
  memMibSeconds: number;
  memMinMiB: number | null;
  memMaxMiB: number | null;
  diskGibSeconds: number;
  lastDiskGiB: number | null;
  diskReadBytes: number;
  diskWriteBytes: number;
  netInInternet: number;
  netOutInternet: number;
  netInDatacenter: number;
  netOutDatacenter: number;
  /** Bytes per metered port ACL over the period, by ACL name; absent or empty when none was metered. */
  acls?: { acl: string; inBytes: number; outBytes: number }[];
}

/** Metering storage: bulk SQL, never row by row. */
export interface MeteringRepository {
  /**
   * Stores a host's batch in one statement, so in one transaction and one
   * round trip: checks the credential is still the host's and accepts `seq`
   * (above the last one), keeps the samples of VMs that run on the host, once
   * per (vm, at), with their metered ACLs (all of which must be defined
   * classes, share-locked meanwhile) and marks their hours for rollup.
   * Anything refused writes nothing, `seq` included.
   */
  ingestBatch(batch: SampleBatch): Promise<SampleBatchOutcome>;
  /**
   * What the stored state says about a batch before it is written, in one
   * read: the host (registration, clock), the batch's VMs that are on it
   * (creation, vCPUs, most memory) and the stored samples of those VMs whose
   * spans overlap a batch sample's (by its index), a resent copy excepted.
   */
  sampleFacts(hostId: string, samples: readonly VmSample[]): Promise<SampleFacts>;
  /**
   * Recomputes up to `limit` pending hours from raw samples, and the UTC days
   * they belong to whole from the hourly rows; returns the hours done.
   */
  rollupPending(limit: number): Promise<number>;
  ensurePartitions(fromDay: Date, days: number): Promise<number>;
  dropPartitionsBefore(day: Date): Promise<number>;
  totals(vmId: string, from: Date, to: Date): Promise<MeasuredTotals>;
  /** The hourly rollups of a tenant or a VM in [from, to), summed per UTC hour or day; empty buckets absent. */
  rollupSeries(
    filter: { tenantId: string } | { vmId: string },
    from: Date,
    to: Date,
    bucket: UsageBucket,
  ): Promise<BucketTotals[]>;
  /** The same sums from raw samples reported by `hostId` (only as far back as sample retention). */
  hostSampleSeries(hostId: string, from: Date, to: Date, bucket: UsageBucket): Promise<BucketTotals[]>;
  tenantExists(tenantId: string): Promise<boolean>;
  hostExists(hostId: string): Promise<boolean>;
  // ---- measuring many VMs together (measure.ts)
  /** Starts of the hours in [from, to) whose rollup is pending (samples changed since). */
  pendingHours(from: Date, to: Date): Promise<Date[]>;
  /**
   * Per VM of a tenant, or of a cluster (the VMs whose current cluster it is, their whole
   * history), the sums of the period's parts (raw, hourly, daily) and per-ACL bytes; VMs
   * without usage in the period are absent. `lastDiskGiB` is the VM's last sample in
   * (from, to], or beyond sample retention the average of its last rolled-up hour in the period.
   */
  measureVms(
    filter: { tenantId: string } | { clusterId: string },
    parts: MeasureParts,
    from: Date,
    to: Date,
  ): Promise<VmPeriodTotals[]>;
  clusterExists(clusterId: string): Promise<boolean>;
}
