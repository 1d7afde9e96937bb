// `npm run bench -- close [--seed 1] [--tenants 500] [--vms 40000] [--days 90] [--runs 3] [--tenants-per-step 25]`
//
// The month close at bench scale: the chargeback bench's data set (generated
// once, cached in .data-bench/), then per run a fresh copy of its database
// (CREATE DATABASE … TEMPLATE, so every run closes the same open October and
// runs are repeatable), an API process of its own on that copy
// (FABRIC_CLOSE_TENANTS_PER_STEP = --tenants-per-step), and finance's
// chargeback.closePeriod for October over HTTP, timed until the task has
// succeeded. Prints the wall time, invoices and invoice lines written,
// tenants/s, and from tasks.get each step's duration (with the invoice
// chunks' spread, read from the workflow engine's step records). First, in
// this process and read-only: rating every tenant at once (billAll) against
// rating them a chunk at a time (billTenants), each with its usage query.
//
// `--api-root DIR --data-dir DIR` runs another checkout's API instead (e.g.
// an older commit in a git worktree) against a data set that checkout
// prepared with its own migrations (`npm run bench -- chargeback
// --prepare-only …` there); this process then only copies, times and counts.
// A close that answers without a task (the synchronous close before the
// durable workflows) is timed by its request. Prints figures; never asserts.

import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { RunningApi } from '../apps/api/src/server';
import { ApiClient } from '../apps/api/src/testing/api-client';
import { pricedPeriod } from '../packages/core/src/chargeback/rate-card';
import { startEmbeddedPostgres } from '../packages/db/src/embedded';
import { withBenchStack } from './lib/bench-stack';
import { CHARGEBACK_MONTH, chargebackDataSet } from './lib/chargeback-data-set';
import { startCheckoutApi } from './lib/checkout-api';

interface Step {
  key: string;
  label: string;
  state: string;
  startedAt: string | null;
  finishedAt: string | null;
  detail: string;
}
interface Task {
  state: string;
  steps: Step[];
  errorMessage: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  createdAt: string;
}
interface RunResult {
  wallMs: number;
  invoices: number;
  lines: number;
  documentBytes: number;
  steps: { key: string; ms: number; detail: string }[];
  chunkMs: number[];
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? 0;
const spread = (xs: number[], unit = (x: number) => `${(x / 1000).toFixed(2)} s`) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return `median ${unit(median(sorted))}, min ${unit(sorted[0] ?? 0)}, max ${unit(sorted.at(-1) ?? 0)}`;
};

async function closeOnce(options: {
  root: string;
  serverUrl: string;
  databaseUrl: (name: string) => string;
  month: string;
  tenantsPerStep: number;
}): Promise<RunResult> {
  const copy = 'bench_close_run';
  const server = new pg.Client({ connectionString: options.serverUrl });
  await server.connect();
  try {
    await server.query(`DROP DATABASE IF EXISTS ${copy}`);
    await server.query(`CREATE DATABASE ${copy} TEMPLATE bench`);
  } finally {
    await server.end();
  }
  const databaseUrl = options.databaseUrl(copy);
  const api = await startCheckoutApi(options.root, databaseUrl, {
    FABRIC_CLOSE_TENANTS_PER_STEP: String(options.tenantsPerStep),
  });
  const sql = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  sql.on('error', () => {});
  try {
    const finance = await ApiClient.signIn(api.url, 'finance@fabric.local', 'fabric-finance-1');
    const t0 = performance.now();
    const period = await finance.mutate<{ status: string; taskId?: string }>('chargeback.closePeriod', {
      month: options.month,
    });
    // Past FABRIC_CLOSE_WAIT_MS the close answers 'closing' and goes on as a task: wait for its end.
    let task: Task | null = null;
    if (period.taskId) {
      for (;;) {
        task = await finance.query<Task>('tasks.get', { id: period.taskId });
        if (task.state !== 'queued' && task.state !== 'running') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      if (task.state !== 'succeeded') throw new Error(`the close ended ${task.state}: ${task.errorMessage}`);
    } else if (period.status !== 'closed') {
      throw new Error(`the close answered ${period.status} without a task`);
    }
    const wallMs = performance.now() - t0;
    const counts = (
      await sql.query<{ invoices: string; lines: string; bytes: string }>(
        `SELECT count(*)::text AS invoices, coalesce(sum(line_count), 0)::text AS lines,
           coalesce(sum(pg_column_size(document)), 0)::text AS bytes
         FROM invoices WHERE month = $1::date AND version = 1`,
        [`${options.month}-01`],
      )
    ).rows[0];
    const ms = (s: Step) => (s.startedAt && s.finishedAt ? Date.parse(s.finishedAt) - Date.parse(s.startedAt) : 0);
    // Each chunk of tenants is a step of the workflow; the engine records when each ran.
    const chunkMs = period.taskId
      ? (
          await sql.query<{ ms: string }>(
            `SELECT (completed_at_epoch_ms - started_at_epoch_ms)::text AS ms FROM dbos.operation_outputs
             WHERE workflow_uuid = $1 AND function_name ~ '^invoices-[0-9]+$' ORDER BY function_id`,
            [period.taskId],
          )
        ).rows.map((r) => Number(r.ms))
      : [];
    return {
      wallMs,
      invoices: Number(counts?.invoices ?? 0),
      lines: Number(counts?.lines ?? 0),
      documentBytes: Number(counts?.bytes ?? 0),
      steps: (task?.steps ?? []).map((s) => ({ key: s.key, ms: ms(s), detail: s.detail })),
      chunkMs,
    };
  } finally {
    await sql.end();
    await api.close();
    const cleanup = new pg.Client({ connectionString: options.serverUrl });
    await cleanup.connect();
    await cleanup.query(`DROP DATABASE IF EXISTS ${copy}`);
    await cleanup.end();
  }
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const result = await fn();
  return [result, performance.now() - t];
}

/**
 * Where a close's rating goes, read-only in this process on the data set
 * (warm, second of two passes): every tenant from one usage query, as the
 * close before the durable workflows rated, against the same tenants a
 * chunk at a time, as each step of the durable close rates; each with its
 * usage query (summing in Postgres) alone.
 */
async function ratingSplit(api: RunningApi, tenantsPerStep: number) {
  const { chargeback } = api.services;
  const repo = api.services.uow.repos.chargeback;
  const { segments } = pricedPeriod(
    await repo.listRateCards(),
    Date.parse(CHARGEBACK_MONTH.from),
    Date.parse(CHARGEBACK_MONTH.to),
  );
  const ids = await chargeback.tenantIds(CHARGEBACK_MONTH);
  const chunks = Array.from({ length: Math.ceil(ids.length / tenantsPerStep) }, (_, i) =>
    ids.slice(i * tenantsPerStep, (i + 1) * tenantsPerStep),
  );
  const figures = { all: 0, allSql: 0, chunked: 0, chunkedSql: 0 };
  for (let pass = 0; pass < 2; pass++) {
    figures.all = (await timed(() => chargeback.billAll(CHARGEBACK_MONTH)))[1];
    figures.allSql = (await timed(() => repo.usageBySpan(segments)))[1];
    figures.chunked = 0;
    figures.chunkedSql = 0;
    for (const chunk of chunks) {
      figures.chunked += (await timed(() => chargeback.billTenants(CHARGEBACK_MONTH, chunk)))[1];
      figures.chunkedSql += (await timed(() => repo.usageBySpan(segments, chunk)))[1];
    }
  }
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  console.log(
    `rating ${ids.length} tenants in this process: all at once (billAll) ${s(figures.all)}, of which the usage query ${s(figures.allSql)}; in ${chunks.length} chunks of ${tenantsPerStep} (billTenants) ${s(figures.chunked)}, of which the usage queries ${s(figures.chunkedSql)}`,
  );
}

async function main() {
  const { values: flags } = parseArgs({
    args: process.argv.slice(2).filter((a, i, all) => a.startsWith('--') || all[i - 1]?.startsWith('--')),
    options: {
      seed: { type: 'string', default: '1' },
      tenants: { type: 'string', default: '500' },
      vms: { type: 'string', default: '40000' },
      days: { type: 'string', default: '90' },
      runs: { type: 'string', default: '3' },
      'tenants-per-step': { type: 'string', default: '25' },
      /** Another checkout whose API closes the month (its data set prepared by its own code: --data-dir). */
      'api-root': { type: 'string' },
      'data-dir': { type: 'string' },
    },
  });
  const scale = {
    seed: Number(flags.seed),
    tenants: Number(flags.tenants),
    vms: Number(flags.vms),
    days: Number(flags.days),
  };
  const runs = Number(flags.runs);
  const tenantsPerStep = Number(flags['tenants-per-step']);
  for (const [name, value] of Object.entries({ ...scale, runs, 'tenants-per-step': tenantsPerStep })) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
  }
  const here = path.resolve(import.meta.dirname, '..');
  const root = path.resolve(flags['api-root'] ?? here);
  if (root !== here && !flags['data-dir']) {
    throw new Error('--api-root needs --data-dir: a data set prepared by that checkout, with its own migrations');
  }
  const dataSet = chargebackDataSet({ ...scale, dataDir: flags['data-dir'] });
  const month = CHARGEBACK_MONTH.from.slice(0, 7);

  // This checkout's data set: migrated, generated if missing, demo users seeded (the bench stack does all three).
  if (root === here) {
    await withBenchStack('close', ({ api }) => ratingSplit(api, tenantsPerStep), {
      dataDir: dataSet.dataDir,
      settings: dataSet.settings,
      prepare: dataSet.prepare,
    });
  }

  const port = 56_000 + Math.floor(Math.random() * 3000);
  // The server settings were written into the data directory (ALTER SYSTEM) when it was prepared.
  const server = await startEmbeddedPostgres({ dataDir: dataSet.dataDir, port });
  const results: RunResult[] = [];
  try {
    console.log(
      `closing ${month} of ${scale.tenants} tenants, ${scale.vms} VMs, ${scale.days} days (seed ${scale.seed}) in ${dataSet.dataDir}`,
    );
    console.log(
      `API: ${root === here ? 'this checkout' : root}, FABRIC_CLOSE_TENANTS_PER_STEP=${tenantsPerStep} (an API before the durable close ignores it), ${runs} runs, each on a fresh copy of the database`,
    );
    for (let run = 1; run <= runs; run++) {
      const r = await closeOnce({
        root,
        serverUrl: server.serverUrl,
        databaseUrl: (name) => server.databaseUrl(name),
        month,
        tenantsPerStep,
      });
      results.push(r);
      const steps = r.steps.map((s) => `${s.key} ${(s.ms / 1000).toFixed(2)} s`).join(', ');
      const chunks = r.chunkMs.length
        ? `; ${r.chunkMs.length} invoice chunks, together ${(sum(r.chunkMs) / 1000).toFixed(2)} s: ${spread(r.chunkMs)}`
        : '';
      console.log(
        `run ${run}: ${(r.wallMs / 1000).toFixed(2)} s, ${r.invoices} invoices, ${r.lines.toLocaleString('en-US')} lines, ${(r.invoices / (r.wallMs / 1000)).toFixed(0)} tenants/s, ${Math.round(r.lines / (r.wallMs / 1000)).toLocaleString('en-US')} lines/s${steps ? ` (steps: ${steps}${chunks})` : ''}`,
      );
    }
  } finally {
    await server.stop();
  }

  const first = results[0];
  if (!first) return;
  const wall = results.map((r) => r.wallMs);
  console.log(
    `month close: ${spread(wall)} over ${results.length} runs; ${first.invoices} invoices, ${first.lines.toLocaleString('en-US')} lines (${(first.documentBytes / 2 ** 20).toFixed(1)} MiB of documents); median ${(first.invoices / (median(wall) / 1000)).toFixed(0)} tenants/s, ${Math.round(first.lines / (median(wall) / 1000)).toLocaleString('en-US')} lines/s`,
  );
  for (const key of first.steps.map((s) => s.key)) {
    const times = results.map((r) => r.steps.find((s) => s.key === key)?.ms ?? 0);
    console.log(`  step ${key.padEnd(8)} ${spread(times)}  (${first.steps.find((s) => s.key === key)?.detail})`);
  }
  const chunks = results.flatMap((r) => r.chunkMs);
  if (chunks.length) {
    console.log(
      `  invoice chunks of ${tenantsPerStep} tenants: ${chunks.length / results.length} per close, ${spread(chunks, (x) => `${x.toFixed(0)} ms`)}`,
    );
  }
}

await main();
