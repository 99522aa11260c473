// usage: node snap.mjs <distdir>  -> prints sha of outputs per object
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
const dist = process.argv[2];
const { parseObject } = await import(dist + '/src/loader/object/index.js');
const { planObject } = await import(dist + '/src/loader/plan/index.js');
const { generateLoader } = await import(dist + '/src/loader/gen/index.js');
const dirs = ['/work/main/test/fixtures/obj', '/usr/lib/x86_64-linux-gnu/bpf'];
const ser = (v) => JSON.stringify(v, (k, x) => x instanceof Uint8Array ? 'u8:' + Buffer.from(x).toString('hex') : typeof x === 'bigint' ? 'big:' + x : x === undefined ? 'undef' : x);
const h = (s) => createHash('sha256').update(s).digest('hex').slice(0, 16);
for (const d of dirs) if (existsSync(d)) for (const f of readdirSync(d).filter((f) => f.endsWith('.o')).sort()) {
  const bytes = new Uint8Array(readFileSync(d + '/' + f));
  let out = f + ' ';
  try {
    const spec = parseObject(bytes, { name: f.replace(/\..*/, '') });
    out += 'spec=' + h(ser(spec));
    for (const opts of [{ object: bytes, possibleCpus: 2 }, { object: bytes }]) {
      try {
        const plan = planObject(spec, opts);
        out += ' plan=' + h(ser(plan));
        for (const scheme of ['unsigned', 'linux-6.18', 'linux-load-time']) {
          try { out += ` ${scheme}=` + h(ser(generateLoader(plan, { scheme }))); } catch (e) { out += ` ${scheme}:ERR ${e.code} ${e.message}`; }
        }
      } catch (e) { out += ' plan:ERR ' + e.code + ' ' + e.message; }
    }
  } catch (e) { out += 'ERR ' + e.code + ' ' + e.message; }
  console.log(out);
}
