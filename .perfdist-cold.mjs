import { readFileSync } from 'node:fs';
const dist = process.argv[2];
const { parseObject } = await import(dist + '/src/loader/object/index.js');
const { planObject } = await import(dist + '/src/loader/plan/index.js');
const { generateLoader } = await import(dist + '/src/loader/gen/index.js');
const bytes = new Uint8Array(readFileSync('/work/main/test/fixtures/obj/big.clang-el.o'));
const med = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
const tp = [], tpl = [], tg = [], tt = [];
for (let i = 0; i < 35; i++) {
  const t0 = performance.now();
  const spec = parseObject(bytes, { name: 'big' });
  const t1 = performance.now();
  const plan = planObject(spec, { object: bytes, possibleCpus: 2 });
  const t2 = performance.now();
  generateLoader(plan, { scheme: 'unsigned' });
  const t3 = performance.now();
  if (i >= 5) { tp.push(t1 - t0); tpl.push(t2 - t1); tg.push(t3 - t2); tt.push(t3 - t0); }
}
console.log(`cold: parse ${med(tp).toFixed(3)} plan ${med(tpl).toFixed(3)} gen ${med(tg).toFixed(3)} total ${med(tt).toFixed(3)}`);
