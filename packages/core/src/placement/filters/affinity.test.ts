import { describe, expect, it } from 'vitest';
import type { GroupMembership } from '../snapshot';
import { aContext, aHost, aRequest } from '../testing/builders';
import { affinityFilter } from './affinity';
import { antiAffinityFilter } from './anti-affinity';

const hard = (name: string, kind: GroupMembership['kind']): GroupMembership => ({ name, kind, hard: true });
const soft = (name: string, kind: GroupMembership['kind']): GroupMembership => ({ name, kind, hard: false });

describe('affinity filter (hard)', () => {
  it.each<
    [
      name: string,
      onHost: Record<string, number>,
      inCluster: Record<string, number>,
      groups: GroupMembership[],
      ok: boolean,
    ]
  >([
    ['first VM of the group goes anywhere', {}, {}, [hard('db', 'affinity')], true],
    ['follows the group to its host', { db: 1 }, { db: 1 }, [hard('db', 'affinity')], true],
    ['not where the group is absent', {}, { db: 2 }, [hard('db', 'affinity')], false],
    ['soft affinity never filters', {}, { db: 2 }, [soft('db', 'affinity')], true],
    ['a group named like a prototype key', {}, { constructor: 1 }, [hard('constructor', 'affinity')], false],
  ])('%s', (_name, groups, inCluster, memberships, ok) => {
    const verdict = affinityFilter.check(
      aHost({ id: 'h', groups }),
      aContext(aRequest({ groups: memberships }), { groupVmCounts: inCluster }),
    );
    expect(verdict.ok).toBe(ok);
    if (!verdict.ok) expect(verdict.code).toBe('AFFINITY_ELSEWHERE');
  });
});

describe('anti-affinity filter (hard)', () => {
  it.each<[name: string, onHost: Record<string, number>, groups: GroupMembership[], ok: boolean]>([
    ['no member on the host', { other: 3 }, [hard('web', 'anti-affinity')], true],
    ['a member on the host', { web: 1 }, [hard('web', 'anti-affinity')], false],
    ['soft anti-affinity never filters', { web: 1 }, [soft('web', 'anti-affinity')], true],
    ['a prototype key is not a member', {}, [hard('toString', 'anti-affinity')], true],
  ])('%s', (_name, groups, memberships, ok) => {
    const verdict = antiAffinityFilter.check(aHost({ id: 'h', groups }), aContext(aRequest({ groups: memberships })));
    expect(verdict.ok).toBe(ok);
    if (!verdict.ok) expect(verdict.reason).toBe("host already runs a VM of anti-affinity group 'web'");
  });
});
