import { describe, expect, it } from 'vitest';
import { movedSincePlacement } from './placement-now';

const decided = { hostId: 'h1', hostName: 'hv-01', createdAt: new Date('2026-12-04T10:00:00Z') };
const at = (iso: string) => new Date(`2026-12-04T${iso}Z`);

describe('the VM page’s Placement card after the VM moved', () => {
  it('still where the decision put it, nothing since: the decision stands', () => {
    expect(movedSincePlacement(decided, { hostId: 'h1', hostName: 'hv-01' }, [])).toBeNull();
  });

  it.each([
    ['migration', 'a migration'],
    ['rebalance', 'rebalancing'],
    ['ha', 'an HA restart'],
  ] as const)('moved by %s: the current host and what moved it', (cause, words) => {
    const moved = movedSincePlacement(decided, { hostId: 'h2', hostName: 'hv-02' }, [{ cause, at: at('11:00:00') }]);
    expect(moved).toEqual({
      cause,
      at: at('11:00:00'),
      text: `Now on hv-02: moved by ${words} after this placement (which chose hv-01)`,
    });
  });

  it('the latest move after the decision counts; moves before it do not', () => {
    const moved = movedSincePlacement(decided, { hostId: 'h3', hostName: 'hv-03' }, [
      { cause: 'migration', at: at('09:00:00') },
      { cause: 'ha', at: at('12:00:00') },
      { cause: 'rebalance', at: at('11:00:00') },
    ]);
    expect(moved?.cause).toBe('ha');
    expect(
      movedSincePlacement(decided, { hostId: 'h1', hostName: 'hv-01' }, [{ cause: 'ha', at: at('09:00:00') }]),
    ).toBeNull();
  });

  it('moved away and back: the decision no longer explains it, so it still says so', () => {
    const moved = movedSincePlacement(decided, { hostId: 'h1', hostName: 'hv-01' }, [
      { cause: 'migration', at: at('11:00:00') },
    ]);
    expect(moved?.text).toBe('Now on hv-01: moved by a migration after this placement (which chose hv-01)');
  });

  it('on another host with no move on record (a replica failover): moved, cause unknown', () => {
    expect(movedSincePlacement(decided, { hostId: 'h2', hostName: 'hv-02' }, [])).toEqual({
      cause: 'other',
      at: null,
      text: 'Now on hv-02: moved after this placement (which chose hv-01)',
    });
  });
});
