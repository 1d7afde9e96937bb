import { describe, expect, it } from 'vitest';
import { clusterNameSchema } from './fabric.schema';

describe('cluster names', () => {
  it.each(['Production', '東京 本番', 'Москва-1', 'Αθήνα_2', 'الرياض 1', 'Zürich.West'])('accepts %j', (name) => {
    expect(clusterNameSchema.safeParse(name)).toMatchObject({ success: true, data: name });
  });

  it.each(['-leading', ' ', 'a/b', 'prod*', 'x\u0000y'])('refuses %j', (name) => {
    expect(clusterNameSchema.safeParse(name).success).toBe(false);
  });
});
