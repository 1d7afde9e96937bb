// `npm run bench -- network`: tenant networks (issue 13). Prints figures; never asserts.
//   A. In core, no database: a fabric of 1,000 hosts, 40,000 vNICs and 2,000
//      virtual subnets (500 tenants × 1 VM network × 4 subnets, CAs overlapping
//      between tenants): full compile time; policy bytes per host against
//      sending every record to every host; the isolation proof's time; one VM
//      move: recompile + diff time and the hosts it touches.
//   B. With the real API, Postgres and real agent processes for a sample of
//      hosts: a VM moves (its host changes), Fabric reconciles, and every
//      affected agent pulls, applies and acknowledges: p50 / p99 from the
//      change to the last acknowledgement.
// Flags: --hosts 1000 --vnics 40000 --subnets 2000 --agents 6 --vms 120 --moves 40
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { type AgentProcess, eventually, spawnAgent } from '../apps/api/src/testing/agent-process';
import {
  affectedHosts,
  type CompileInput,
  canonical,
  compileAll,
  type HostPolicy,
} from '../packages/core/src/network/compile';
import { formatIpv4 } from '../packages/core/src/network/ip';
import { verifyIsolation } from '../packages/core/src/network/isolation';
import { DEFAULT_PORT_POLICY, type VnicPlacement } from '../packages/core/src/network/network';
import { seededRandom } from '../packages/core/src/placement/seeded-order';
import { percentile, withBenchStack } from './lib/bench-stack';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const HOSTS = arg('hosts', 1000);
const VNICS = arg('vnics', 40_000);
const SUBNETS = arg('subnets', 2000);
const AGENTS = arg('agents', 6);
const VMS = arg('vms', 120);
const MOVES = arg('moves', 40);

function fabric(): CompileInput {
  const random = seededRandom(13);
  const subnetsPerRd = 4;
  const rds = Math.max(1, Math.floor(SUBNETS / subnetsPerRd));
  const hosts = Array.from({ length: HOSTS }, (_, i) => ({
    hostId: `h${i}`,
    pa: formatIpv4(((172 << 24) | (16 << 16)) + i + 1),
  }));
  const routingDomains = Array.from({ length: rds }, (_, r) => ({
    rdid: `rd${r}`,
    tenantId: `t${r}`,
    isolation: 'gre' as const,
    // Every tenant uses 10.1.0.0/24 … 10.1.3.0/24: overlapping CAs across tenants, as the whitepaper allows.
    subnets: Array.from({ length: subnetsPerRd }, (_, s) => ({
      vsid: 5000 + r * subnetsPerRd + s,
      prefix: `10.1.${s}.0/24`,
      gateway: `10.1.${s}.1`,
    })),
  }));
  // A tenant's VMs sit on a handful of hosts (placement packs a tenant's tiers near each other): 16 hosts per tenant.
  const tenantHosts = routingDomains.map(() => Array.from({ length: 16 }, () => Math.floor(random() * HOSTS)));
  const used = new Map<string, number>();
  const vnics: VnicPlacement[] = [];
  for (let n = 0; n < VNICS; n++) {
    const r = n % rds;
    const s = Math.floor(n / rds) % subnetsPerRd;
    const key = `${r}/${s}`;
    const k = (used.get(key) ?? 1) + 1;
    used.set(key, k);
    const rd = routingDomains[r];
    const hostList = tenantHosts[r] ?? [0];
    vnics.push({
      nicId: `n${n}`,
      vmId: `vm${n}`,
      vmName: `vm${n}`,
      tenantId: rd?.tenantId ?? 't0',
      vmNetworkId: rd?.rdid ?? 'rd0',
      subnetId: `${r}-${s}`,
      vsid: rd?.subnets[s]?.vsid ?? 5000,
      ca: `10.1.${s}.${k}`,
      mac: `00-15-5D-${((n >> 16) & 255).toString(16).padStart(2, '0')}-${((n >> 8) & 255).toString(16).padStart(2, '0')}-${(n & 255).toString(16).padStart(2, '0')}`.toUpperCase(),
      hostId: `h${hostList[Math.floor(random() * hostList.length)] ?? 0}`,
      policy: DEFAULT_PORT_POLICY,
    });
  }
  return { hosts, routingDomains, vnics };
}

const ms = (t: number) => `${t.toFixed(0)} ms`;
const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;

function partA() {
  console.log(`A. core: ${HOSTS} hosts, ${VNICS} vNICs, ${SUBNETS} virtual subnets`);
  const input = fabric();
  let t = performance.now();
  const compiled = compileAll(input);
  const compileMs = performance.now() - t;
  const sizes = [...compiled.values()].map((p) => Buffer.byteLength(canonical(p))).sort((a, b) => a - b);
  const total = sizes.reduce((a, b) => a + b, 0);
  // Everything everywhere: every lookup record and every port on every host.
  const all: HostPolicy = {};
  for (const p of compiled.values()) Object.assign(all, p);
  const everything = Buffer.byteLength(canonical(all));
  console.log(`  full compile: ${ms(compileMs)}`);
  console.log(
    `  policy per host: p50 ${kib(percentile(sizes, 50))}, p99 ${kib(percentile(sizes, 99))}, max ${kib(sizes.at(-1) ?? 0)}; all hosts ${(total / 2 ** 20).toFixed(1)} MiB`,
  );
  console.log(
    `  everything-everywhere: ${kib(everything)} per host, ${((everything * HOSTS) / 2 ** 20).toFixed(0)} MiB in all (${(everything / Math.max(1, percentile(sizes, 50))).toFixed(0)}× the median host's compiled policy)`,
  );
  t = performance.now();
  const proof = verifyIsolation(compiled);
  console.log(
    `  isolation proof: ${ms(performance.now() - t)} (${proof.ok ? 'isolated' : `${proof.violations.length} violations`}; ${proof.candidates} port × record candidates)`,
  );
  // One VM move.
  const moved = input.vnics[0];
  if (moved) {
    const next = {
      ...input,
      vnics: input.vnics.map((v) =>
        v === moved ? { ...v, hostId: `h${(Number(moved.hostId?.slice(1)) + 1) % HOSTS}` } : v,
      ),
    };
    t = performance.now();
    const after = compileAll(next);
    const touched = affectedHosts(compiled, after);
    console.log(
      `  one VM move: recompile + diff ${ms(performance.now() - t)}, ${touched.length} of ${HOSTS} hosts get a delta`,
    );
  }
}

async function partB() {
  console.log(
    `B. real API + Postgres + ${AGENTS} real agents: ${VMS} VMs in 2 tenants' VM networks (same 10.1.1.0/24), ${MOVES} moves`,
  );
  await withBenchStack('network', async ({ api, admin, databaseUrl }) => {
    const sql = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    sql.on('error', () => undefined); // Postgres stopping at the end terminates idle connections
    const agents: AgentProcess[] = [];
    try {
      const clusters = await admin.query<{ id: string; name: string }[]>('clusters.list');
      const cluster = clusters[0];
      if (!cluster) throw new Error('no cluster');
      const ln = await admin.mutate<{ id: string }>('network.createLogicalNetwork', { name: 'bench-provider' });
      await admin.mutate('network.addPaPool', {
        logicalNetworkId: ln.id,
        clusterId: cluster.id,
        prefix: '192.168.0.0/22',
        vlanId: 100,
      });
      for (let i = 0; i < AGENTS; i++) {
        const { token } = await admin.mutate<{ token: string }>('tokens.create', { clusterId: cluster.id });
        agents.push(
          spawnAgent({
            api: api.url,
            hostname: `bench-net-${i}`,
            token,
            stateDir: mkdtempSync(path.join(os.tmpdir(), 'fabric-bench-net-')),
            heartbeatMs: 5000,
          }),
        );
      }
      const hostIds = await eventually(
        async () => {
          const r = await sql.query<{ id: string }>("SELECT id FROM hosts WHERE name LIKE 'bench-net-%'");
          return r.rows.length === AGENTS ? r.rows.map((x) => x.id) : null;
        },
        120_000,
        'agents to register',
      );
      const tenants = (
        await sql.query<{ id: string; name: string }>('SELECT id, name FROM tenants ORDER BY name LIMIT 2')
      ).rows;
      const vmIds: string[] = [];
      for (const [ti, tenant] of tenants.entries()) {
        const net = randomUUID();
        await sql.query("INSERT INTO vm_networks (id, tenant_id, name, isolation) VALUES ($1, $2, 'bench', 'gre')", [
          net,
          tenant.id,
        ]);
        const subnet = randomUUID();
        await sql.query(
          "INSERT INTO virtual_subnets (id, tenant_id, vm_network_id, name, vsid, prefix, gateway) VALUES ($1, $2, $3, 'lan', $4, '10.1.1.0/24', '10.1.1.1')",
          [subnet, tenant.id, net, 900_000 + ti],
        );
        for (let v = 0; v < VMS / tenants.length; v++) {
          const vm = randomUUID();
          vmIds.push(vm);
          await sql.query(
            `INSERT INTO vms (id, tenant_id, name, state, cluster_id, host_id, vcpus, memory_mib, minimum_memory_mib, maximum_memory_mib, storage_bytes, updated_at)
             VALUES ($1, $2, $3, 'running', $4, $5, 1, 512, 512, 512, 0, now())`,
            [vm, tenant.id, `bench-net-vm-${v}`, cluster.id, hostIds[v % hostIds.length]],
          );
          await sql.query(
            "INSERT INTO vm_nics (id, vm_id, name, mac_address, network, subnet_id, ca_address) VALUES ($1, $2, 'nic0', $3, 'bench/lan', $4, $5)",
            [
              randomUUID(),
              vm,
              `00:15:5D:F${ti}:${(v >> 8).toString(16).padStart(2, '0')}:${(v & 255).toString(16).padStart(2, '0')}`.toUpperCase(),
              subnet,
              `10.1.1.${v + 2}`,
            ],
          );
        }
      }
      const allAcked = async () => {
        const r = await sql.query<{ n: string }>(
          'SELECT count(*)::text AS n FROM host_network_policies WHERE host_id = ANY($1::uuid[]) AND (applied_version <> version OR applied_digest <> digest)',
          [hostIds],
        );
        return r.rows[0]?.n === '0';
      };
      let t = performance.now();
      await api.services.network.reconcile('bench initial');
      await eventually(allAcked, 120_000, 'every agent to acknowledge');
      console.log(`  initial compile and every agent acknowledged: ${ms(performance.now() - t)}`);
      const random = seededRandom(7);
      const latencies: number[] = [];
      const reconcileMs: number[] = [];
      const touched: number[] = [];
      for (let m = 0; m < MOVES; m++) {
        const vm = vmIds[Math.floor(random() * vmIds.length)];
        const to = hostIds[Math.floor(random() * hostIds.length)];
        t = performance.now();
        await sql.query('UPDATE vms SET host_id = $2 WHERE id = $1', [vm, to]);
        const r0 = performance.now();
        const out = await api.services.network.reconcile('bench move');
        reconcileMs.push(performance.now() - r0);
        touched.push(out.changedHosts.length);
        while (!(await allAcked())) await new Promise((r) => setTimeout(r, 2));
        latencies.push(performance.now() - t);
      }
      latencies.sort((a, b) => a - b);
      reconcileMs.sort((a, b) => a - b);
      console.log(
        `  one VM move → every affected agent acknowledged: p50 ${ms(percentile(latencies, 50))}, p99 ${ms(percentile(latencies, 99))} (reconcile p50 ${ms(percentile(reconcileMs, 50))}; hosts touched per move: mean ${(touched.reduce((a, b) => a + b, 0) / Math.max(1, touched.length)).toFixed(1)} of ${AGENTS})`,
      );
    } finally {
      await Promise.all(agents.map((a) => a.kill('SIGTERM')));
      await sql.end();
    }
  });
}

partA();
if (AGENTS > 0) await partB();
