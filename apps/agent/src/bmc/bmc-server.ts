import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RunLog } from '../ha/run-log';
import { readAgentPid, readPower, writePower } from './power-file';

/**
 * A simulated BMC for one host (docs/high-availability.md, "Fencing through a BMC"): a process of its
 * own beside the agent, that outlives it as a real BMC outlives the host's OS, answering the Redfish
 * routes HA uses, with HTTP Basic auth:
 *   GET  /redfish/v1/Systems/1                                  → { PowerState: 'On' | 'Off', … }
 *   POST /redfish/v1/Systems/1/Actions/ComputerSystem.Reset     { "ResetType": "ForceOff" | "On" } → 204
 * ForceOff is a real power cut: it kills the agent's process (SIGKILL, its pid from the state directory),
 * so the simulated VMs in it stop; waits until the process is gone; writes in the host's run log that its
 * live VMs stopped then; and records Off. The agent does not start while its BMC says Off, and after a
 * power loss its VMs are off (apps/agent/src/main.ts). On records the power back; starting the agent is
 * its supervisor's business (npm start, the test kit), as booting is the host's.
 */
export interface BmcServerOptions {
  stateDir: string;
  username: string;
  password: string;
  /** The host's name, in the answers. */
  hostname: string;
  log: (line: string) => void;
  /** How long a killed agent may take to be gone. Default 10 s. */
  killTimeoutMs?: number;
}

const SYSTEM = '/redfish/v1/Systems/1';
const RESET = `${SYSTEM}/Actions/ComputerSystem.Reset`;
const RESET_TYPES = ['ForceOff', 'On'] as const;

export function createBmcServer(options: BmcServerOptions) {
  // Power operations one at a time: a second ForceOff waits for the first and finds the host Off.
  let power: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = power.then(fn);
    power = run.catch(() => undefined);
    return run;
  };

  const server = http.createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      options.log(`error: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) send(res, 500, redfishError('InternalError', 'the BMC failed'));
      else res.end();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://bmc');
    if (url.pathname === '/redfish/v1' || url.pathname === '/redfish/v1/') {
      // The service root is open, as in Redfish.
      return send(res, 200, {
        '@odata.id': '/redfish/v1',
        RedfishVersion: '1.6.0',
        Systems: { '@odata.id': '/redfish/v1/Systems' },
      });
    }
    if (url.pathname !== SYSTEM && url.pathname !== RESET)
      return send(res, 404, redfishError('ResourceMissingAtURI', url.pathname));
    if (!authorized(req.headers.authorization, options.username, options.password)) {
      res.setHeader('WWW-Authenticate', 'Basic realm="fabric-bmc"');
      return send(res, 401, redfishError('InsufficientPrivilege', 'wrong or missing credentials'));
    }
    if (url.pathname === SYSTEM) {
      if (req.method !== 'GET') return send(res, 405, redfishError('ActionNotSupported', `${req.method} ${SYSTEM}`));
      const record = readPower(options.stateDir);
      return send(res, 200, {
        '@odata.id': SYSTEM,
        Id: '1',
        Name: options.hostname,
        PowerState: record.state,
        Oem: { Fabric: { PowerChangedAt: record.changedAt, PowerLosses: record.powerLosses } },
      });
    }
    if (req.method !== 'POST') return send(res, 405, redfishError('ActionNotSupported', `${req.method} ${RESET}`));
    let resetType: unknown;
    try {
      resetType = (JSON.parse(await readBody(req)) as { ResetType?: unknown }).ResetType;
    } catch {
      return send(res, 400, redfishError('MalformedJSON', 'the body must be JSON: {"ResetType": "ForceOff"}'));
    }
    if (resetType !== 'ForceOff' && resetType !== 'On') {
      return send(
        res,
        400,
        redfishError('ActionParameterValueNotInList', `ResetType must be one of ${RESET_TYPES.join(', ')}`),
      );
    }
    await serial(() => (resetType === 'ForceOff' ? forceOff() : powerOn()));
    res.writeHead(204).end();
  }

  async function forceOff() {
    const before = readPower(options.stateDir);
    if (before.state === 'Off') return;
    const pid = readAgentPid(options.stateDir);
    if (pid !== null && alive(pid)) {
      options.log(`ForceOff: killing the host's agent (pid ${pid})`);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
      const deadline = Date.now() + (options.killTimeoutMs ?? 10_000);
      while (alive(pid)) {
        if (Date.now() > deadline) throw new Error(`the agent (pid ${pid}) is still alive after SIGKILL`);
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    // The process is gone, so are its VMs: the run log says so, at a time no earlier than they stopped.
    const at = new Date();
    const open = new RunLog(options.stateDir, options.hostname).openRuns();
    for (const entry of open.values()) {
      new RunLog(options.stateDir, entry.host, () => at).record(entry.vmId, entry.epoch, 'stopped', 'bmc-power-off');
    }
    writePower(options.stateDir, { state: 'Off', changedAt: at.toISOString(), powerLosses: before.powerLosses + 1 });
    options.log(`ForceOff: powered off at ${at.toISOString()} (${open.size} running VM(s) stopped)`);
  }

  async function powerOn() {
    const before = readPower(options.stateDir);
    if (before.state === 'On') return;
    const at = new Date().toISOString();
    writePower(options.stateDir, { ...before, state: 'On', changedAt: at });
    options.log(`On: power restored at ${at}; the agent may start`);
  }

  return {
    server,
    listen(port: number, host: string): Promise<string> {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const address = server.address() as AddressInfo;
          resolve(`http://${host}:${address.port}`);
        });
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function authorized(header: string | undefined, username: string, password: string): boolean {
  if (!header?.startsWith('Basic ')) return false;
  const given = Buffer.from(Buffer.from(header.slice(6), 'base64').toString('utf8'));
  const expected = Buffer.from(`${username}:${password}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Is the process there (a zombie, killed but not yet reaped by its parent, is not)? */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S …"; Z is a zombie.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > 10_000) req.destroy(new Error('body too large'));
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

function redfishError(code: string, message: string) {
  return { error: { code: `Base.1.8.${code}`, message } };
}

function send(res: http.ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
