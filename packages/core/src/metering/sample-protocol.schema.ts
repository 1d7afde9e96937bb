import { z } from 'zod';
import { isoDateTimeInRange, oneOf, text } from '../shared/text.schema';

/**
 * Resource metering samples, agent protocol v1 (docs/agent-protocol.md,
 * "Samples"): the whitepaper's Measure-VM metrics per VM per interval.
 * `POST /agent/v1/hosts/{hostId}/samples` with a batch; the API stores each
 * (vmId, at) once, so a resent batch changes nothing: an agent deletes a
 * buffered batch once it is answered 200, and may resend when unsure.
 */
export const SAMPLE_MAX_PER_BATCH = 2_000;
/** A full batch is ~1 MiB of JSON; the samples endpoint takes bodies up to this size. */
export const SAMPLES_MAX_BODY_BYTES = 2 * 1024 * 1024;

const bytes = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** Metered ACLs per sample: at most the number of classes a provider may define (address-class.schema.ts). */
export const SAMPLE_MAX_ACLS = 16;

/**
 * Bytes of one metered port ACL over the interval (Measure-VM's
 * NetworkMeteredTrafficReport per remote address): `acl` names a metered
 * address class the API defined (the heartbeat answer lists them). A batch
 * naming an undefined class is refused whole with 400 UNKNOWN_METERED_ACL
 * and nothing of it is stored.
 */
export const networkAclSampleSchema = z.object({
  acl: text('acl', { min: 1, max: 64 }),
  inBytes: bytes,
  outBytes: bytes,
});
export type NetworkAclSample = z.infer<typeof networkAclSampleSchema>;

/** Network adapters per sample: Hyper-V's 12 per VM (vm.schema.ts). */
export const SAMPLE_MAX_NICS = 12;
/** 400 Gb/s: above any host NIC or team; a rate beyond it is garbage. */
const mbps = z.number().min(0).max(400_000, 'A vNIC rate is at most 400,000 Mbps');

/**
 * One vNIC's bandwidth over the interval as the host's virtual switch gave it
 * (QoS, issue 13): what the guest offered, what it achieved after weighted
 * max-min sharing of the host NIC (its minimum a floor, its maximum a cap),
 * and what held it. Both directions together, Mbps. The VM's network bytes
 * are the achieved traffic; these figures explain them and bill nothing.
 */
export const nicBandwidthSampleSchema = z
  .object({
    nic: text('nic', { min: 1, max: 64 }),
    offeredMbps: mbps,
    achievedMbps: mbps,
    limitedBy: oneOf('limitedBy', ['demand', 'maximum', 'share']),
  })
  .refine((n) => n.achievedMbps <= n.offeredMbps, {
    message: 'A vNIC cannot achieve more than it offered',
    path: ['achievedMbps'],
  });
export type NicBandwidthSample = z.infer<typeof nicBandwidthSampleSchema>;

export const vmSampleSchema = z
  .object({
    vmId: z.string().uuid(),
    /**
     * End of the interval, ISO 8601 UTC, aligned to the interval. The years Fabric handles (2000–2200) here;
     * the clock, the VM and the host bound it further (sample-plausibility.ts).
     */
    at: isoDateTimeInRange('at'),
    intervalSeconds: z.number().int().min(1).max(3600),
    /** Average CPU in MHz over the interval (Measure-VM's AvgCPU). */
    cpuAvgMhz: z.number().min(0).max(10_000_000),
    memoryAvgMiB: z
      .number()
      .min(0)
      .max(1024 * 1024),
    memoryMinMiB: z
      .number()
      .min(0)
      .max(1024 * 1024),
    memoryMaxMiB: z
      .number()
      .min(0)
      .max(1024 * 1024),
    /** Total disk allocated to the VM, GiB (Measure-VM's TotalDisk). */
    diskAllocatedGiB: z
      .number()
      .min(0)
      .max(64 * 1024 * 64),
    diskReadBytes: bytes,
    diskWriteBytes: bytes,
    /** Network bytes per remote address class (the whitepaper's metered port ACLs). */
    networkInInternetBytes: bytes,
    networkOutInternetBytes: bytes,
    networkInDatacenterBytes: bytes,
    networkOutDatacenterBytes: bytes,
    /** Optional: bytes per metered port ACL, each ACL at most once (beside, not inside, the two fixed classes). */
    networkAcls: z
      .array(networkAclSampleSchema)
      .max(SAMPLE_MAX_ACLS, `At most ${SAMPLE_MAX_ACLS} metered ACLs per sample`)
      .refine(
        (acls) => new Set(acls.map((a) => a.acl)).size === acls.length,
        'Each metered ACL at most once per sample',
      )
      .optional(),
    /** Optional: each vNIC's offered and achieved bandwidth (by adapter name, each at most once). */
    nics: z
      .array(nicBandwidthSampleSchema)
      .max(SAMPLE_MAX_NICS, `At most ${SAMPLE_MAX_NICS} network adapters per sample`)
      .refine(
        (nics) => new Set(nics.map((n) => n.nic)).size === nics.length,
        'Each network adapter at most once per sample',
      )
      .optional(),
  })
  .refine((s) => s.memoryMinMiB <= s.memoryAvgMiB && s.memoryAvgMiB <= s.memoryMaxMiB, {
    message: 'Memory must satisfy minimum ≤ average ≤ maximum',
    path: ['memoryAvgMiB'],
  });
export type VmSample = z.infer<typeof vmSampleSchema>;

export const samplesRequestSchema = z.object({
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  /** The agent's own batch number, increasing; buffered batches are sent in order. */
  batch: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  /** Samples the agent dropped because its buffer was full (oldest first), since the last batch. */
  dropped: z.number().int().min(0).default(0),
  samples: z.array(vmSampleSchema).max(SAMPLE_MAX_PER_BATCH, `At most ${SAMPLE_MAX_PER_BATCH} samples per batch`),
});
export type SamplesRequest = z.infer<typeof samplesRequestSchema>;

export const samplesResponseSchema = z.object({
  /** Samples stored now (duplicates of stored ones are not counted). */
  stored: z.number().int(),
  /** Samples for VMs not assigned to this host (whatever their power state), ignored. */
  ignored: z.number().int(),
});
export type SamplesResponse = z.infer<typeof samplesResponseSchema>;

/**
 * One refused sample of a `422 IMPLAUSIBLE_SAMPLES` answer (`error.samples`): its place in the batch and why it
 * cannot be true (sample-plausibility.ts). The batch stored nothing; send it again without these.
 */
export const sampleVerdictSchema = z.object({
  index: z.number().int().min(0),
  vmId: z.string(),
  at: z.string(),
  code: z.string(),
  message: z.string(),
});
export type SampleVerdict = z.infer<typeof sampleVerdictSchema>;
