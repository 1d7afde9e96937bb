import { describe, expect, it } from 'vitest';
import { createClusterInput } from './fabric.schema';

// The New cluster form showed zod's own words for a fraction or a huge number
// ("Invalid input: expected int, received number"): the schema says it in people's.
describe('a new cluster’s numbers', () => {
  const messages = (maxHosts: unknown) =>
    createClusterInput.safeParse({ name: 'c1', maxHosts }).error?.issues.map((issue) => issue.message) ?? [];

  it.each([
    ['a fraction', 2.5],
    ['a number too large to be one (1e400 is Infinity)', Number.POSITIVE_INFINITY],
    ['text', 'twelve'],
  ])('%s: says a whole number from 1 to 64', (_what, value) => {
    expect(messages(value)[0]).toBe('Maximum hosts must be a whole number from 1 to 64');
  });

  it('an empty field (NaN) is required, and the bounds keep their Hyper-V messages', () => {
    expect(messages(Number.NaN)).toEqual(['Maximum hosts is required']);
    expect(messages(0)).toEqual(['A cluster needs room for at least 1 host']);
    expect(messages(65)).toEqual(['A cluster has at most 64 hosts (Hyper-V limit)']);
    expect(messages(12)).toEqual([]);
  });
});
