import { z } from 'zod';
import { oneOf } from '../shared/text.schema';

/**
 * The HA part of the agent protocol (docs/agent-protocol.md, "High availability"):
 * optional fields of the heartbeat and its answer, so agents and APIs from before
 * HA keep working.
 */

/** The most VMs one heartbeat may list (a host runs at most 1,024 VMs, Hyper-V's limit). */
export const HA_MAX_HELD_VMS = 1024;
/** The most peers one heartbeat may report (a cluster has at most 64 hosts). */
export const HA_MAX_PEERS = 64;

export const ISOLATION_RESPONSES = ['keep-running', 'shut-down', 'power-off'] as const;
export type IsolationResponse = (typeof ISOLATION_RESPONSES)[number];

/** What the agent adds to a heartbeat. */
export const haHeartbeatSchema = z.object({
  /**
   * The VMs this host holds, with the epoch it recorded for each (ownership.ts). Sent
   * after the agent starts and after it lost the API for a while; the API answers
   * with the ones it must discard.
   */
  vms: z
    .array(
      z.object({
        vmId: z.string().uuid(),
        epoch: z.number().int().min(0).max(2_147_483_647),
        state: oneOf('VM state', ['off', 'running', 'paused', 'saved']),
      }),
    )
    .max(HA_MAX_HELD_VMS, `at most ${HA_MAX_HELD_VMS} VMs in one heartbeat`)
    .optional(),
  /**
   * The second channel: peers of the cluster whose shared-storage heartbeat this
   * agent saw, and how long ago (ms) each last wrote it.
   */
  peers: z
    .array(
      z.object({
        hostId: z.string().uuid(),
        ageMs: z.number().int().min(0).max(86_400_000),
        /** The peer wrote that it fenced itself (its isolation response), this long ago. */
        fencedAgeMs: z.number().int().min(0).max(86_400_000).nullable().default(null),
      }),
    )
    .max(HA_MAX_PEERS, `at most ${HA_MAX_PEERS} peers in one heartbeat`)
    .optional(),
  /** When this agent last applied its isolation response (ms since the epoch), if it did since it last reported. */
  isolatedAt: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable().optional(),
  /**
   * Sent with `isolatedAt`: the VMs that isolation response stopped, with the epoch each was held under. A
   * control plane that did not restart them elsewhere (it was down itself, or the host came back before its
   * lease ran out) starts them again here: an isolation response is a fence, not a decision to stop them.
   */
  isolationStopped: z
    .array(z.object({ vmId: z.string().uuid(), epoch: z.number().int().min(0).max(2_147_483_647) }))
    .max(HA_MAX_HELD_VMS, `at most ${HA_MAX_HELD_VMS} VMs in one heartbeat`)
    .optional(),
});
export type HaHeartbeat = z.infer<typeof haHeartbeatSchema>;

/** What the API adds to the heartbeat's answer. */
export const haHeartbeatAnswerSchema = z.object({
  clusterId: z.string().uuid(),
  enabled: z.boolean(),
  /** With the API unreachable this long, the agent applies `isolationResponse` to its VMs. */
  isolationTimeoutMs: z.number().int().min(1000).max(3_600_000),
  isolationResponse: z.enum(ISOLATION_RESPONSES),
  /** VMs this host holds but no longer owns: turn them off and delete them; never start them. */
  discard: z
    .array(
      z.object({
        vmId: z.string().uuid(),
        currentEpoch: z.number().int().min(0),
        reason: z.enum(['moved', 'deleted']),
      }),
    )
    .max(HA_MAX_HELD_VMS),
  /**
   * List the held VMs (`vms`) in the next heartbeat too: the host has a failure event whose restarts are
   * under way (or just ended), so its copies may move elsewhere at any moment and are discarded as they do.
   * Absent (older APIs): the agent lists them only after it starts and after an outage.
   */
  listVms: z.boolean().optional(),
});
export type HaHeartbeatAnswer = z.infer<typeof haHeartbeatAnswerSchema>;
