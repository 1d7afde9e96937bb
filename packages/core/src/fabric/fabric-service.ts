import type { Actor } from '../shared/tenant-scope';
import type {
  HeartbeatRequest,
  HeartbeatResponse,
  InventoryRequest,
  InventoryResponse,
  RegisterRequest,
  RegisterResponse,
} from './agent-protocol.schema';
import { AgentAuthenticator, type AgentCredential } from './authenticate-agent';
import { Clusters } from './clusters';
import type {
  ClusterView,
  CreateClusterInput,
  CreateTokenInput,
  HostDetail,
  ListHostsInput,
  TokenView,
} from './fabric.schema';
import type { FabricServiceDeps } from './fabric-deps';
import type { HostRecord } from './fabric-repository';
import { AgentReports } from './heartbeat';
import { HostMonitor, type StateChange } from './host-monitor';
import type { HostState } from './host-state';
import { Hosts } from './hosts';
import { HostRegistration } from './register-host';
import { RegistrationTokens } from './registration-tokens';

export type { AgentCredential } from './authenticate-agent';
export type { FabricServiceDeps } from './fabric-deps';
export type { StateChange } from './host-monitor';

/**
 * The fabric's use cases behind one object, so the composition root builds
 * one thing and routers and agent routes call one thing. Each method only
 * delegates; the use case lives in the file named beside it.
 */
export class FabricService {
  private readonly clusters: Clusters;
  private readonly tokens: RegistrationTokens;
  private readonly registration: HostRegistration;
  private readonly authenticator: AgentAuthenticator;
  private readonly reports: AgentReports;
  private readonly hosts: Hosts;
  private readonly monitor: HostMonitor;

  constructor(deps: FabricServiceDeps) {
    this.clusters = new Clusters(deps);
    this.tokens = new RegistrationTokens(deps);
    this.registration = new HostRegistration(deps);
    this.authenticator = new AgentAuthenticator(deps);
    this.reports = new AgentReports(deps);
    this.hosts = new Hosts(deps);
    this.monitor = new HostMonitor(deps);
  }

  // clusters.ts
  createCluster(actor: Actor, input: CreateClusterInput): Promise<ClusterView> {
    return this.clusters.createCluster(actor, input);
  }
  listClusters(): Promise<ClusterView[]> {
    return this.clusters.listClusters();
  }
  getCluster(id: string): Promise<ClusterView> {
    return this.clusters.getCluster(id);
  }
  setPlacementPolicy(actor: Actor, id: string, policy: 'balance' | 'pack', cpuOvercommitRatio: number) {
    return this.clusters.setPlacementPolicy(actor, id, policy, cpuOvercommitRatio);
  }

  // registration-tokens.ts
  createToken(actor: Actor, input: CreateTokenInput) {
    return this.tokens.createToken(actor, input);
  }
  listTokens(clusterId: string): Promise<TokenView[]> {
    return this.tokens.listTokens(clusterId);
  }
  revokeToken(actor: Actor, id: string): Promise<void> {
    return this.tokens.revokeToken(actor, id);
  }

  // register-host.ts
  registerHost(request: RegisterRequest, source: string): Promise<RegisterResponse> {
    return this.registration.registerHost(request, source);
  }

  // authenticate-agent.ts
  authenticateAgent(pathHostId: string, bearer: string | null, source: string): Promise<HostRecord> {
    return this.authenticator.authenticateAgent(pathHostId, bearer, source);
  }
  authenticateAgentForWrite(pathHostId: string, bearer: string | null, source: string): Promise<AgentCredential> {
    return this.authenticator.authenticateAgentForWrite(pathHostId, bearer, source);
  }

  // heartbeat.ts
  acceptMessage(host: HostRecord, seq: number): Promise<void> {
    return this.reports.acceptMessage(host, seq);
  }
  reportInventory(host: HostRecord, request: InventoryRequest): Promise<InventoryResponse> {
    return this.reports.reportInventory(host, request);
  }
  async heartbeat(agent: AgentCredential, request: HeartbeatRequest): Promise<HeartbeatResponse> {
    const answer = await this.reports.heartbeat(agent, request);
    this.authenticator.confirmCredential(agent);
    return answer;
  }

  // hosts.ts
  listHosts(query: ListHostsInput) {
    return this.hosts.listHosts(query);
  }
  getHost(id: string): Promise<HostDetail> {
    return this.hosts.getHost(id);
  }
  setMaintenance(actor: Actor, id: string, enabled: boolean, reason: string | undefined): Promise<HostState> {
    return this.hosts.setMaintenance(actor, id, enabled, reason);
  }
  removeHost(actor: Actor, id: string): Promise<void> {
    return this.hosts.removeHost(actor, id);
  }
  overview() {
    return this.hosts.overview();
  }
  setDedication(actor: Actor, id: string, tenantId: string | null) {
    return this.hosts.setDedication(actor, id, tenantId);
  }

  // host-monitor.ts
  monitorTick(): Promise<StateChange[]> {
    return this.monitor.monitorTick();
  }
}
