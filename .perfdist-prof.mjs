import { readFileSync } from 'node:fs';
const dist = process.argv[2]; const what = process.argv[3] ?? 'parse';
const { parseObject } = await import(dist + '/src/loader/object/index.js');
const { planObject } = await import(dist + '/src/loader/plan/index.js');
const { generateLoader } = await import(dist + '/src/loader/gen/index.js');
const bytes = new Uint8Array(readFileSync('/work/main/test/fixtures/obj/big.clang-el.o'));
const med = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
const N = +(process.argv[4] ?? 300);
const tp = [], tpl = [], tg = [];
for (let i = 0; i < N; i++) {
  const t0 = performance.now();
  const spec = parseObject(bytes, { name: 'big' });
  const t1 = performance.now();
  let t2 = t1, t3 = t1;
  if (what !== 'parse') {
    const plan = planObject(spec, { object: bytes, possibleCpus: 2 });
    t2 = performance.now();
    generateLoader(plan, { scheme: 'unsigned' });
    t3 = performance.now();
  }
  tp.push(t1 - t0); tpl.push(t2 - t1); tg.push(t3 - t2);
}
const w = (a) => med(a.slice(20)).toFixed(3);
console.log(`parse ${w(tp)} plan ${w(tpl)} gen ${w(tg)}`);
