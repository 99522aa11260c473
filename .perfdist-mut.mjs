import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
const dist = process.argv[2];
const { parseObject } = await import(dist + '/src/loader/object/index.js');
const { planObject } = await import(dist + '/src/loader/plan/index.js');
const { generateLoader } = await import(dist + '/src/loader/gen/index.js');
const ser = (v) => JSON.stringify(v, (k, x) => x instanceof Uint8Array ? 'u8:' + Buffer.from(x).toString('hex') : typeof x === 'bigint' ? 'big:' + x : x === undefined ? 'undef' : x);
const h = (s) => createHash('sha256').update(s).digest('hex').slice(0, 16);
let seed = 12345;
const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
for (const f of ['big.clang-el.o', 'globals.clang-el.o', 'maps.gcc-el.o', 'core.clang-eb.o', 'struct_ops.clang-el.o', 'ksyms.clang-el.o', 'map_in_map.clang-el.o', 'legacy_maps.clang-el.o']) {
  const orig = new Uint8Array(readFileSync('/work/main/test/fixtures/obj/' + f));
  for (let i = 0; i < 400; i++) {
    const b = orig.slice();
    const n = 1 + (rnd() % 4);
    for (let j = 0; j < n; j++) { const at = rnd() % b.length; b[at] = (i % 3 === 0) ? (rnd() & 255) : b[at] ^ (1 << (rnd() % 8)); }
    let out = `${f} ${i} `;
    try {
      const spec = parseObject(b, { name: 'x' });
      out += 'spec=' + h(ser(spec));
      const plan = planObject(spec, { object: b, possibleCpus: 2 });
      out += ' plan=' + h(ser(plan));
      out += ' gen=' + h(ser(generateLoader(plan, { scheme: 'linux-6.18' })));
    } catch (e) { out += 'ERR ' + e.constructor.name + ' ' + e.code + ' ' + e.message; }
    console.log(out);
  }
}
