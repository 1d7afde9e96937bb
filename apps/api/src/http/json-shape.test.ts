import { describe, expect, it } from 'vitest';
import { checkJsonShape } from './json-shape';

const bytes = (text: string) => Buffer.from(text, 'utf8');
const limits = { maxDepth: 4, maxValues: 5 };

describe('checkJsonShape', () => {
  it('accepts what is within both limits, brackets and commas inside strings not counted', () => {
    expect(checkJsonShape(bytes('{"a":[1,2],"b":{"c":"[[[[,,,,\\"[[["}}'), limits)).toEqual({ ok: true });
    expect(checkJsonShape(bytes('[[[[]]]]'), limits)).toEqual({ ok: true });
    expect(checkJsonShape(bytes('[ ]'), limits)).toEqual({ ok: true });
  });

  it('refuses nesting past the limit, saying so', () => {
    const verdict = checkJsonShape(bytes('[[[[[]]]]]'), limits);
    expect(verdict).toMatchObject({ ok: false, reason: 'depth' });
    if (!verdict.ok) expect(verdict.message).toContain('more than 4 levels deep');
    expect(checkJsonShape(bytes('{"a":{"b":{"c":{"d":{}}}}}'), limits)).toMatchObject({ reason: 'depth' });
  });

  it('counts values exactly for valid JSON (members once, not key and value)', () => {
    expect(checkJsonShape(bytes('[1,2,3,4,5]'), limits)).toEqual({ ok: true });
    expect(checkJsonShape(bytes('[1,2,3,4,5,6]'), limits)).toMatchObject({ ok: false, reason: 'values' });
    expect(checkJsonShape(bytes('{"a":1,"b":2,"c":{"d":3}}'), limits)).toEqual({ ok: true });
    expect(checkJsonShape(bytes('{"a":1,"b":2,"c":{"d":3,"e":4,"f":5}}'), limits)).toMatchObject({
      reason: 'values',
    });
  });

  it('300,000 levels in 600 KB are refused in a few milliseconds (JSON.parse took ~700 ms)', () => {
    const body = bytes(`${'['.repeat(300_000)}${']'.repeat(300_000)}`);
    const started = performance.now();
    const verdict = checkJsonShape(body);
    expect(verdict).toMatchObject({ ok: false, reason: 'depth' });
    const flat = bytes(`[${Array(500_000).fill('0').join(',')}]`);
    expect(checkJsonShape(flat)).toMatchObject({ ok: false, reason: 'values' });
    expect(performance.now() - started).toBeLessThan(200);
  });
});
