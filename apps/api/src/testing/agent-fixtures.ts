import type { HostInventory } from '@fabric/core/fabric/inventory.schema';

/** A plausible host: 2 × 16 cores with hyper-threading, 512 GiB, two NUMA nodes. */
export function inventoryFor(hostname: string, overrides: Partial<HostInventory> = {}): HostInventory {
  return {
    hostname,
    osName: 'Fabric simulated host',
    cpu: { model: 'Intel Xeon E5-2690', mhz: 2900, sockets: 2, coresPerSocket: 16, logicalProcessors: 64 },
    memoryMiB: 512 * 1024,
    numaNodes: 2,
    nics: [
      { name: 'eth0', macAddress: '00:15:5D:00:00:01', linkSpeedMbps: 10_000, linkUp: true },
      { name: 'eth1', macAddress: '00:15:5D:00:00:02', linkSpeedMbps: 10_000, linkUp: true },
    ],
    storagePools: [{ name: 'local', kind: 'local', capacityBytes: 4 * 1024 ** 4, usedBytes: 1024 ** 4 }],
    ...overrides,
  };
}

export async function agentPost(
  baseUrl: string,
  path: string,
  body: unknown,
  options: { method?: string; credential?: string; contentType?: string; raw?: string } = {},
) {
  const headers: Record<string, string> = { 'content-type': options.contentType ?? 'application/json' };
  if (options.credential) headers.authorization = `Bearer ${options.credential}`;
  const response = await fetch(`${baseUrl}${path}`, {
    method: options.method ?? 'POST',
    headers,
    body: options.raw ?? JSON.stringify(body),
  });
  const text = await response.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return {
    status: response.status,
    body: json as Record<string, unknown> & { error?: { code: string; message: string } },
  };
}

export async function register(baseUrl: string, token: string, hostname: string, inventory = inventoryFor(hostname)) {
  return agentPost(baseUrl, '/agent/v1/register', { token, agentVersion: '0.1.0', driver: 'simulated', inventory });
}
