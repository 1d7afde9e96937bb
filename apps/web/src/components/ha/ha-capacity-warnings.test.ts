import { describe, expect, it } from 'vitest';
import { type ClusterAbsorbHealth, capacityWarnings } from './ha-capacity-warnings';

const production: ClusterAbsorbHealth = {
  clusterId: 'prod',
  clusterName: 'Production',
  ok: false,
  worst: { hostName: 'hv-prod-01', unplaced: ['a', 'b'] },
};
const development: ClusterAbsorbHealth = {
  clusterId: 'dev',
  clusterName: 'Development',
  ok: false,
  worst: { hostName: 'hv-dev-03', unplaced: ['a'] },
};

describe('HA capacity warnings', () => {
  it('warn only about the selected cluster', () => {
    expect(capacityWarnings([production, development], { clusterId: 'prod', haEnabled: true })).toEqual([
      'Production cannot absorb the loss of hv-prod-01: 2 HA VMs would not restart.',
    ]);
    expect(capacityWarnings([production, development], { clusterId: 'dev', haEnabled: true })).toEqual([
      'Development cannot absorb the loss of hv-dev-03: 1 HA VM would not restart.',
    ]);
  });

  it('say nothing while HA is off in the selected cluster, or its settings are not read yet', () => {
    expect(capacityWarnings([production, development], { clusterId: 'dev', haEnabled: false })).toEqual([]);
    expect(capacityWarnings([production, development], { clusterId: 'dev', haEnabled: undefined })).toEqual([]);
    expect(capacityWarnings([production], { clusterId: null, haEnabled: true })).toEqual([]);
  });

  it('say nothing of a cluster that can absorb the loss', () => {
    expect(capacityWarnings([{ ...production, ok: true }], { clusterId: 'prod', haEnabled: true })).toEqual([]);
  });
});
