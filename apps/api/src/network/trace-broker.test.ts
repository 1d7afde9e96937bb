import { EventEmitter } from 'node:events';
import type { TraceAnswerMessage } from '@fabric/core/network/network-protocol.schema';
import type { Packet } from '@fabric/core/network/switch';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AgentTraceBroker } from './trace-broker';

const packet: Packet = {
  fromNic: 'nic-1',
  kind: 'ip',
  srcMac: '00-15-5D-00-00-01',
  srcCa: '10.0.0.1',
  dstCa: '10.0.0.2',
  protocol: 'tcp',
  bytes: 64,
};
const HOST = 'host-a';

function broker() {
  const events = new EventEmitter();
  const notices: string[] = [];
  const b = new AgentTraceBroker({
    events,
    notify: async (payload) => {
      notices.push(payload);
    },
    timeoutMs: 3_000,
  });
  return { b, events, notices };
}

const answerOf = (traceId: string): TraceAnswerMessage => ({
  traceId,
  version: 7,
  digest: 'd',
  result: { kind: 'drop', verdicts: [{ hostId: 'self', stage: 'egress', ok: false, rule: 'dropped' }] },
});

afterEach(() => {
  vi.useRealTimers();
});

describe('trace questions for agents', () => {
  it("wakes the host's poll, hands the question out once, and takes the answer from that host only", async () => {
    const { b, events, notices } = broker();
    const woken: string[] = [];
    events.on('network-trace', (h: string) => woken.push(h));
    const asked = b.ask(HOST, { hop: 'egress', packet });
    expect(woken).toEqual([HOST]);
    expect(b.hasFor(HOST)).toBe(true);
    expect(b.hasFor('host-b')).toBe(false);
    const [question] = b.takeFor(HOST);
    expect(question).toMatchObject({ hop: 'egress', packet });
    expect(b.takeFor(HOST)).toEqual([]); // handed out once by this process
    const traceId = question?.traceId ?? '';
    expect(b.answer('host-b', answerOf(traceId))).toBe(false); // another host's credential
    expect(b.answer(HOST, answerOf(traceId))).toBe(true);
    await expect(asked).resolves.toMatchObject({ version: 7, digest: 'd', result: { kind: 'drop' } });
    expect(b.answer(HOST, answerOf(traceId))).toBe(false); // already answered
    expect(JSON.parse(notices[0] ?? '{}')).toMatchObject({ t: 'ask', hostId: HOST });
  });

  it('resolves null at the deadline, and a late answer is not taken', async () => {
    vi.useFakeTimers();
    const { b } = broker();
    const asked = b.ask(HOST, { hop: 'egress', packet });
    const traceId = b.takeFor(HOST)[0]?.traceId ?? '';
    vi.advanceTimersByTime(3_001);
    await expect(asked).resolves.toBeNull();
    expect(b.answer(HOST, answerOf(traceId))).toBe(false);
  });

  it('carries questions and answers between API processes', async () => {
    const asker = broker();
    const poller = broker();
    const asked = asker.b.ask(HOST, { hop: 'egress', packet });
    // The agent polls the other process: it learns the question from the asker's notice.
    for (const n of asker.notices) poller.b.receive(n);
    const traceId = poller.b.takeFor(HOST)[0]?.traceId ?? '';
    expect(traceId).not.toBe('');
    expect(poller.b.answer(HOST, answerOf(traceId))).toBe(true);
    // Its answer goes back by notice; the asker's own notice coming back adds nothing.
    for (const n of [...poller.notices, ...asker.notices]) asker.b.receive(n);
    await expect(asked).resolves.toMatchObject({ version: 7 });
    expect(asker.b.hasFor(HOST)).toBe(false);
  });
});
