import { EventEmitter } from 'node:events';
import type { HostChangeEvent } from '@fabric/core/fabric/fabric.schema';
import pg from 'pg';
import { NETWORK_TRACE_CHANNEL } from '../network/trace-broker';
import { HOST_EVENTS_CHANNEL } from '../repositories/prisma-fabric-repository';
import { JOBS_CHANNEL } from '../repositories/prisma-job-repository';
import { TASKS_CHANNEL } from '../repositories/prisma-task-queue-repository';
import { VM_EVENTS_CHANNEL } from '../repositories/prisma-vm-repository';

/**
 * Changes from every API process, as Postgres NOTIFY delivers them on commit:
 * 'event' (a HostChangeEvent), 'vm' (a VmChangeEvent), 'tasks' (the id of
 * a host with newly queued tasks, which wakes its agent's long poll) and
 * 'tasks-changed' ({ tenantId }: a job or a VM's task changed; the Tasks panel) and
 * 'network-trace-notice' (a trace question or answer, network/trace-broker.ts). The
 * LISTEN connection is re-established with backoff when it drops.
 */
export class HostEventBus extends EventEmitter {
  private client: pg.Client | null = null;
  private stopped = false;
  private retryMs = 250;
  private notifying: Promise<void> = Promise.resolve();

  constructor(private readonly databaseUrl: string) {
    super();
    this.setMaxListeners(0);
  }

  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl });
    client.on('notification', (message) => {
      if (!message.payload) return;
      if (message.channel === NETWORK_TRACE_CHANNEL) {
        this.emit('network-trace-notice', message.payload);
        return;
      }
      if (message.channel === TASKS_CHANNEL) {
        this.emit('tasks', message.payload);
        return;
      }
      if (message.channel === VM_EVENTS_CHANNEL) {
        const vm = JSON.parse(message.payload) as { tenantId: string };
        this.emit('vm', vm);
        // A VM's task started, progressed or ended: the Tasks panel reads again.
        this.emit('tasks-changed', { tenantId: vm.tenantId });
        return;
      }
      if (message.channel === JOBS_CHANNEL) {
        const [, tenantId] = message.payload.split(':');
        this.emit('tasks-changed', { tenantId: tenantId || null });
        return;
      }
      if (message.channel !== HOST_EVENTS_CHANNEL) return;
      const raw = JSON.parse(message.payload) as Omit<HostChangeEvent, 'lastHeartbeatAt'> & {
        lastHeartbeatAt: string | null;
      };
      const event: HostChangeEvent = {
        ...raw,
        lastHeartbeatAt: raw.lastHeartbeatAt ? new Date(raw.lastHeartbeatAt) : null,
      };
      this.emit('event', event);
    });
    const lost = () => {
      if (this.client !== client) return;
      this.client = null;
      this.scheduleReconnect();
    };
    client.on('error', lost);
    client.on('end', lost);
    await client.connect();
    await client.query(
      `LISTEN ${HOST_EVENTS_CHANNEL}; LISTEN ${TASKS_CHANNEL}; LISTEN ${VM_EVENTS_CHANNEL}; LISTEN ${JOBS_CHANNEL}; LISTEN ${NETWORK_TRACE_CHANNEL}`,
    );
    this.client = client;
    this.retryMs = 250;
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, 10_000);
    setTimeout(() => {
      if (!this.stopped) this.connect().catch(() => this.scheduleReconnect());
    }, delay).unref();
  }

  /** NOTIFY every API process (this one too) on `channel`, on the LISTEN connection; fails while it is down. */
  async notify(channel: string, payload: string): Promise<void> {
    const client = this.client;
    if (!client) throw new Error('the event connection is down');
    // One query at a time on this connection (pg warns about overlapping ones, and pg 9 refuses them).
    const sent = this.notifying.then(() => client.query('SELECT pg_notify($1, $2)', [channel, payload]));
    this.notifying = sent.then(
      () => undefined,
      () => undefined,
    );
    await sent;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }
}
