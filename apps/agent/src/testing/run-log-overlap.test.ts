import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunLog } from '../ha/run-log';
import { findRunOverlaps, runsOf } from './run-log-overlap';

function logAt(dir: string, host: string) {
  let now = new Date(0);
  const log = new RunLog(dir, host, () => now);
  return (ms: number, vmId: string, event: 'started' | 'stopped') => {
    now = new Date(ms);
    log.record(vmId, 1, event, 'test');
  };
}

describe('run log overlaps', () => {
  const vm = '11111111-1111-4111-8111-111111111111';

  it('finds a VM live on two hosts at once, and none when one stopped before the other started', () => {
    const a = mkdtempSync(path.join(os.tmpdir(), 'runlog-a-'));
    const b = mkdtempSync(path.join(os.tmpdir(), 'runlog-b-'));
    const onA = logAt(a, 'hv-a');
    const onB = logAt(b, 'hv-b');
    onA(1000, vm, 'started');
    onA(5000, vm, 'stopped');
    onB(5000, vm, 'started');
    expect(findRunOverlaps([{ path: a }, { path: b }], new Date(9000))).toEqual([]);
    onB(6000, vm, 'stopped');
    onA(5500, vm, 'started'); // started again on A while B still ran it
    const overlaps = findRunOverlaps([{ path: a }, { path: b }], new Date(9000));
    expect(overlaps).toHaveLength(1);
    expect(overlaps[0]?.overlapMs).toBe(500);
  });

  it('ends a dead host’s open runs when it died', () => {
    const a = mkdtempSync(path.join(os.tmpdir(), 'runlog-a-'));
    const b = mkdtempSync(path.join(os.tmpdir(), 'runlog-b-'));
    logAt(a, 'hv-a')(1000, vm, 'started');
    logAt(b, 'hv-b')(4000, vm, 'started');
    expect(runsOf({ path: a, endedAt: new Date(3000) })[0]?.to).toEqual(new Date(3000));
    expect(findRunOverlaps([{ path: a, endedAt: new Date(3000) }, { path: b }], new Date(9000))).toEqual([]);
    expect(findRunOverlaps([{ path: a }, { path: b }], new Date(9000))).toHaveLength(1);
  });
});
