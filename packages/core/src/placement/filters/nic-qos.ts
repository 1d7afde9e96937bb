import { type Filter, PASS } from '../plugin';
import { assignNics } from '../reservation';

/**
 * QoS admission: every absolute minimum the VM asks for must be reserved on
 * some NIC without the NIC's sum of minimums exceeding its link speed.
 */
export const nicQosFilter: Filter = {
  name: 'nic-qos',
  check(host, { demand, explain }) {
    if (demand.nicMinimums.length === 0) return PASS;
    const result = assignNics(host, demand, explain);
    return result.ok ? PASS : result;
  },
};
