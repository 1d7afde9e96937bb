// `npm run bench` runs every benchmark; `npm run bench -- <name>` runs one
// (bench/<name>.bench.ts). Benchmarks print figures and never assert times.
// Flags after the names are the benchmark's own: `npm run bench -- chargeback --vms 4000 --days 30`.
import { readdirSync } from 'node:fs';
import path from 'node:path';

const dir = import.meta.dirname;
const available = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''))
  .sort();
const args = process.argv.slice(2);
const firstFlag = args.findIndex((a) => a.startsWith('--'));
const wanted = firstFlag < 0 ? args : args.slice(0, firstFlag);
const unknown = wanted.filter((w) => !available.includes(w));
if (unknown.length) {
  console.error(`unknown benchmark ${unknown.join(', ')}; available: ${available.join(', ')}`);
  process.exit(2);
}
for (const name of wanted.length ? wanted : available) {
  console.log(`\n== ${name} ==`);
  await import(path.join(dir, `${name}.bench.ts`));
}
