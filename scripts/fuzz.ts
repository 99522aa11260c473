/**
 * npm run fuzz [-- --iterations N --seed S]: mutation-fuzz the object parser over every
 * fixture and every xdp-tools object. Exits 1 on any finding.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fuzzObjects } from '../test/support/fuzz.js';

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '100000' }, seed: { type: 'string', default: '1' } } });
const dirs = [join(process.cwd(), 'test/fixtures/obj'), '/usr/lib/x86_64-linux-gnu/bpf'];
const seeds = dirs
  .filter(existsSync)
  .flatMap((d) =>
    readdirSync(d)
      .filter((f) => f.endsWith('.o'))
      .map((f) => ({ name: f, bytes: new Uint8Array(readFileSync(join(d, f))) })),
  )
  .filter((s) => s.bytes.length < 200_000);
const t0 = performance.now();
const res = fuzzObjects(seeds, Number(values.iterations), { seed: Number(values.seed) });
const secs = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ seeds: seeds.length, ...res, findings: res.findings.length, seconds: Number(secs.toFixed(1)) }));
for (const f of res.findings) console.error(f);
process.exitCode = res.findings.length ? 1 : 0;
