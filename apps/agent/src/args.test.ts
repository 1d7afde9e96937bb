import { describe, expect, it } from 'vitest';
import { defaultStateDir, parseAgentArgs } from './args';

describe('parseAgentArgs', () => {
  const base = ['--api', 'http://localhost:4000', '--profile', 'small-1x8-64g'];

  it('accepts a full command line', () => {
    const result = parseAgentArgs([
      ...base,
      '--token',
      'fab_0123456789abcdef',
      '--driver',
      'simulated',
      '--state-dir',
      '/tmp/x',
      '--hostname',
      'hv-07.lab',
      '--heartbeat-ms',
      '2000',
    ]);
    expect(result).toEqual({
      ok: true,
      config: {
        api: 'http://localhost:4000',
        token: 'fab_0123456789abcdef',
        driver: 'simulated',
        profile: 'small-1x8-64g',
        stateDir: '/tmp/x',
        hostname: 'hv-07.lab',
        heartbeatMs: 2000,
        sampleSeconds: 60,
        sampleBufferMax: 100_000,
      },
    });
  });

  it('defaults the driver to simulated and leaves the token optional', () => {
    const result = parseAgentArgs(base);
    expect(result.ok && result.config.driver).toBe('simulated');
    expect(result.ok && result.config.token).toBeUndefined();
  });

  it.each([
    [['--profile', 'x'], '--api is required'],
    [['--api', 'ftp://x', '--profile', 'x'], 'http(s) URL'],
    [['--api', 'not a url', '--profile', 'x'], 'http(s) URL'],
    [['--api', 'http://x'], '--profile is required'],
    [[...base, '--driver', 'vmware'], '--driver must be simulated or libvirt'],
    [[...base, '--heartbeat-ms', '10.5'], 'whole number'],
    [[...base, '--heartbeat-ms', '5'], 'at least 100'],
    [[...base, '--hostname', 'bad_name!'], 'DNS name'],
    [[...base, '--token', 'short'], 'too short'],
    [[...base, '--bogus'], "Unknown option '--bogus'"],
    [[...base, 'positional'], 'positional'],
  ])('rejects %j', (argv, message) => {
    const result = parseAgentArgs(argv);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.message).toContain(message);
  });

  it('takes --sim-speed as a positive number, absent by default', () => {
    const fast = parseAgentArgs([...base, '--sim-speed', '20']);
    expect(fast.ok && fast.config.simSpeed).toBe(20);
    const plain = parseAgentArgs(base);
    expect(plain.ok && plain.config.simSpeed).toBeUndefined();
    for (const bad of ['0', '-1', 'fast']) expect(parseAgentArgs([...base, '--sim-speed', bad]).ok).toBe(false);
  });

  it('takes --sample-seconds (1–3600) and --sample-buffer-max (≥ 1)', () => {
    const parsed = parseAgentArgs([...base, '--sample-seconds', '10', '--sample-buffer-max', '500']);
    expect(parsed.ok && [parsed.config.sampleSeconds, parsed.config.sampleBufferMax]).toEqual([10, 500]);
    for (const bad of ['0', '3601', '1.5', 'minute']) {
      expect(parseAgentArgs([...base, '--sample-seconds', bad]).ok).toBe(false);
    }
    for (const bad of ['0', '-5', 'lots']) expect(parseAgentArgs([...base, '--sample-buffer-max', bad]).ok).toBe(false);
  });

  it('recognises --help', () => {
    expect(parseAgentArgs(['--help'])).toEqual({ ok: false, help: true, message: '' });
  });

  it('puts state under ~/.fabric-agent/<hostname>', () => {
    expect(defaultStateDir('hv-01', '/home/ops')).toBe('/home/ops/.fabric-agent/hv-01');
  });
});
