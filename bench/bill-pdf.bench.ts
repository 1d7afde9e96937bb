// `npm run bench -- bill-pdf`: rendering the all-tenants bill PDF, the
// export's own cost (no API, no database): 500 tenants × 8 VMs × 6 resources
// (48 lines a tenant, about 1,000 pages) by default, tenant names in Latin,
// Latin with diacritics, Cyrillic, Greek, Japanese and Arabic. Prints wall and
// CPU time per run, pages, file size and throughput; never asserts (machines differ).
//   --tenants N  --vms N (per tenant)  --runs N
import { parseArgs } from 'node:util';
import { PdfkitRenderer } from '../apps/api/src/pdf/pdfkit-renderer';
import type { BillDocument } from '../packages/core/src/chargeback/bill-document';
import { BillPdf } from '../packages/core/src/chargeback/invoice-pdf';
import type { InvoiceLine } from '../packages/core/src/chargeback/rate';

const { values: flags } = parseArgs({
  args: process.argv.slice(2).filter((a, i, all) => a.startsWith('--') || all[i - 1]?.startsWith('--')),
  options: {
    tenants: { type: 'string', default: '500' },
    vms: { type: 'string', default: '8' },
    runs: { type: 'string', default: '3' },
  },
  strict: false,
});
const TENANTS = Number(flags.tenants);
const VMS = Number(flags.vms);
const RUNS = Number(flags.runs);

const RESOURCES: InvoiceLine['resource'][] = [
  'vcpu',
  'memory',
  'disk',
  'network-out-internet',
  'network-in-internet',
  'replica-storage',
];
const NAMES = ['Blue Corp', 'Société Générale', 'Газпром нефть', 'Αθήνα Α.Ε.', '株式会社東京', 'شركة النور'];

function documents(): BillDocument[] {
  return Array.from({ length: TENANTS }, (_, t) => ({
    tenant: {
      id: `00000000-0000-4000-8000-${String(t).padStart(12, '0')}`,
      name: `${NAMES[t % NAMES.length]} ${t}`,
      slug: `tenant-${t}`,
    },
    status: 'estimate' as const,
    invoice: {
      currency: 'USD',
      period: { from: '2026-10-01T00:00:00Z', to: '2026-11-01T00:00:00Z' },
      lines: Array.from({ length: VMS * RESOURCES.length }, (_, i) => {
        const vm = Math.floor(i / RESOURCES.length);
        return {
          vmId: `vm-${t}-${vm}`,
          vmName: `web-${String(vm).padStart(2, '0')}`,
          resource: RESOURCES[i % RESOURCES.length],
          quantity: '123.4567891234',
          unit: 'vCPU-hour',
          rate: '0.0125',
          amount: '1.54',
          cardEffectiveFrom: '2026-10-01',
        } as InvoiceLine;
      }),
      subtotal: (VMS * RESOURCES.length * 1.54).toFixed(2),
      discount: '0.00',
      total: (VMS * RESOURCES.length * 1.54).toFixed(2),
    },
  }));
}

const docs = documents();
const renderer = new PdfkitRenderer();
console.log(`${TENANTS} tenants × ${VMS * RESOURCES.length} lines, ${RUNS} runs`);
for (let run = 0; run < RUNS; run++) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  let bytes = 0;
  let chunks = 0;
  const pdf = new BillPdf(renderer, (chunk) => {
    bytes += chunk.length;
    chunks++;
  });
  for (const doc of docs) pdf.add(doc);
  pdf.end('Bills, all tenants');
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000;
  console.log(
    `run ${run + 1}: ${ms.toFixed(0)} ms wall, ${cpuMs.toFixed(0)} ms CPU, ${(bytes / 1e6).toFixed(2)} MB in ${chunks} chunks, ` +
      `${((TENANTS / ms) * 1000).toFixed(0)} tenants/s, peak RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`,
  );
}
