// The bpfsign console: the transparency log (checkpoint and entries, checked here), manifests by
// digest, the trust bundle, signing and verification. Plain DOM; every value from the service is
// put in the page as text, never as markup.
import {
  b64decode, b64encode, hex, sha256, verifyConsistency, verifyEntryInclusion, verifyEnvelope, verifyNote, parseCertificate,
} from './verify.js';

const $ = (id) => document.getElementById(id);

/** An element with attributes (on* as listeners) and children (strings become text). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

const STATUS = { pass: ['PASS', 'pass'], fail: ['FAIL', 'fail'], skipped: ['SKIP', 'skip-s'], skip: ['SKIP', 'skip-s'] };
const badge = (status, label) => { const [t, cls] = STATUS[status]; return h('span', { class: `badge ${cls}` }, label ?? t); };
const show = (el, ...nodes) => el.replaceChildren(...nodes.flat());
const failure = (what, e) => h('p', { role: 'alert' }, badge('fail'), ` ${what}: ${e.message ?? e}`);
const table = (caption, head, rows) => h('table', {}, h('caption', {}, caption),
  h('thead', {}, h('tr', {}, head.map((x) => h('th', { scope: 'col' }, x)))),
  h('tbody', {}, rows.map((r) => h('tr', {}, r.map((x) => h('td', {}, x ?? '—'))))));
const facts = (rows) => h('table', { class: 'facts' }, h('tbody', {}, rows.filter(Boolean).map(([k, v]) => h('tr', {}, h('th', { scope: 'row' }, k), h('td', {}, v ?? '—')))));
const mono = (s) => h('span', { class: 'mono' }, s);

// --- the token and requests ---
const TOKEN = 'bpfsign.token';
const token = () => sessionStorage.getItem(TOKEN) ?? '';

class Problem extends Error {
  constructor(status, body) {
    super(`${status} ${body?.code ?? ''} ${body?.detail ?? body?.message ?? body?.title ?? ''}`.replace(/\s+/g, ' ').trim());
    this.status = status; this.body = body;
  }
}

async function api(path, init = {}) {
  const headers = new Headers(init.headers);
  if (token()) headers.set('authorization', `Bearer ${token()}`);
  const res = await fetch(path, { ...init, headers });
  if (!res.ok) throw new Problem(res.status, await res.json().catch(() => null));
  return res;
}

let keysPromise = null;
const trust = () => (keysPromise ??= api('/v1/keys').then((r) => r.json()).catch((e) => { keysPromise = null; throw e; }));

// --- the log ---
const SEEN = (origin) => `bpfsign.checkpoint.${origin}`;

async function loadLog() {
  const box = $('checkpoint');
  let note, keys;
  try {
    [note, keys] = await Promise.all([api('/v1/log/checkpoint').then((r) => r.text()), trust()]);
  } catch (e) { show(box, failure('Could not read the log', e)); return; }
  let cp;
  try {
    ({ checkpoint: cp } = await verifyNote(note, keys.logKey));
  } catch (e) {
    show(box, h('p', { id: 'checkpoint-status' }, badge('fail'), ` Checkpoint signature NOT verified: ${e.message}`), h('pre', {}, note));
    return;
  }
  const consistency = h('p', { id: 'consistency-status' });
  show(box,
    h('p', { id: 'checkpoint-status' }, badge('pass', 'VERIFIED'), ` Checkpoint signed by ${keys.logKey.split('+').slice(0, 2).join('+')} (Ed25519, checked in this browser)`),
    facts([['Origin', cp.origin], ['Tree size', cp.size.toString()], ['Root hash', mono(hex(cp.root))]]),
    consistency,
    h('details', {}, h('summary', {}, 'Signed note'), h('pre', {}, note)));
  await checkConsistency(cp, consistency);
  await loadEntries(cp.size);
}

/** The log must extend the last checkpoint this browser verified (kept in localStorage). */
async function checkConsistency(cp, el) {
  const key = SEEN(cp.origin);
  let prev = null;
  try { prev = JSON.parse(localStorage.getItem(key) ?? 'null'); } catch { /* none */ }
  const save = () => localStorage.setItem(key, JSON.stringify({ size: cp.size.toString(), root: b64encode(cp.root) }));
  if (!prev) { show(el, badge('skip'), ' First checkpoint seen by this browser: remembered to check that the log only grows.'); save(); return; }
  const size1 = BigInt(prev.size);
  try {
    if (size1 > cp.size) throw new Error(`the log shrank from ${size1} to ${cp.size} entries`);
    const hashes = size1 === 0n || size1 === cp.size ? [] : (await (await api(`/v1/log/consistency?from=${size1}&to=${cp.size}`)).json()).hashes.map(b64decode);
    await verifyConsistency(size1, cp.size, b64decode(prev.root), cp.root, hashes);
    show(el, badge('pass', 'CONSISTENT'), ` Extends the checkpoint of size ${size1} seen before`);
    save();
  } catch (e) {
    show(el, badge('fail'), ` NOT consistent with the checkpoint of size ${size1} seen before: ${e.message}`);
  }
}

async function loadEntries(size) {
  const box = $('entries');
  const n = size < 5n ? Number(size) : 5;
  if (n === 0) { show(box, h('p', {}, 'The log is empty.')); return; }
  show(box, h('p', {}, `The newest ${n} of ${size}:`));
  for (let i = 0; i < n; i++) box.append(await entryCard(size - 1n - BigInt(i)));
}

/** An entry as the API returns it, whatever its fields; its inclusion proof checked over its bytes. */
async function entryCard(index) {
  const card = h('article', { class: 'entry', 'aria-label': `Log entry ${index}` }, h('h4', {}, `Entry ${index}`));
  let e;
  try { e = await (await api(`/v1/log/entries/${index}`)).json(); } catch (err) { card.append(failure('Could not read the entry', err)); return card; }
  const status = h('p', { class: 'proof-status' });
  card.append(status);
  const { inclusionProof: proof, body, ...rest } = e;
  // The leaf is SHA-256(0x00 ‖ the entry's bytes); the API sends those bytes as `body` (base64).
  const bytes = typeof body === 'string' ? b64decode(body) : null;
  try {
    const keys = await trust();
    const r = await verifyEntryInclusion(proof, bytes, keys.logKey);
    show(status, badge('pass', 'INCLUDED'), ` Inclusion proof verified: ${r.fromBytes ? 'leaf hash of the entry\'s bytes' : 'the proof\'s leaf hash (the entry carries no bytes)'} → root of the signed checkpoint of size ${r.size}`);
  } catch (err) {
    show(status, badge('fail'), ` Inclusion proof NOT verified: ${err.message}`);
  }
  card.append(facts(Object.entries(rest).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)])));
  const decoded = decodeBody(body, bytes);
  if (decoded !== null) card.append(h('details', {}, h('summary', {}, 'Logged content'), h('pre', {}, decoded.text)));
  // A loader record names its object's digest; an older entry (a DSSE envelope) its loader's.
  const j = decoded?.json ?? {};
  const insns = j.objectSha256 ?? j.insnsSha256 ?? (j.payload ? statementOf(j)?.subject?.find((s) => s.name === 'insns.bin')?.digest?.sha256 : null);
  if (typeof insns === 'string' && /^[0-9a-f]{64}$/.test(insns)) card.append(h('button', { type: 'button', onclick: () => lookup(insns, true) }, `Show the manifest of entry ${index}`));
  if (proof) card.append(h('details', {}, h('summary', {}, 'Inclusion proof'), h('pre', {}, JSON.stringify({ ...proof, checkpoint: undefined }, null, 2))));
  return card;
}

function decodeBody(body, bytes) {
  if (body === undefined) return null;
  if (bytes === null) return { text: JSON.stringify(body, null, 2), json: body };
  const text = new TextDecoder().decode(bytes);
  try { const json = JSON.parse(text); return { text: JSON.stringify(json, null, 2), json }; } catch { return { text: `${bytes.length} bytes: ${hex(bytes.subarray(0, 64))}${bytes.length > 64 ? '…' : ''}`, json: null }; }
}

function statementOf(envelope) {
  try { return JSON.parse(new TextDecoder().decode(b64decode(envelope.payload))); } catch { return null; }
}

// --- manifests ---
async function lookup(digest, scroll = false) {
  $('manifest-digest').value = digest;
  const box = $('manifest-result');
  if (scroll) $('manifests').scrollIntoView();
  show(box, h('p', {}, 'Looking up…'));
  try {
    const [r, keys] = await Promise.all([api(`/v1/manifests/${digest.toLowerCase()}`).then((x) => x.json()), trust()]);
    if (r.manifests.length === 0) { show(box, h('p', {}, `No manifest for ${digest}.`)); return; }
    show(box, ...(await Promise.all(r.manifests.map((m) => manifestView(m, keys)))));
  } catch (e) { show(box, failure('Lookup failed', e)); }
}

async function manifestView(m, keys) {
  const out = h('article', { class: 'entry manifest', 'aria-label': `Manifest of loader ${m.id}` });
  const st = m.envelope ? statementOf(m.envelope) : null;
  if (!st) { out.append(h('p', {}, `Loader ${m.id}: unsigned, no manifest.`)); return out; }
  const p = st.predicate ?? {}, obj = p.object ?? {}, sum = obj.summary ?? {};
  let signer;
  try {
    const cert = await verifyEnvelope(m.envelope, keys.keys.map((k) => k.certificate));
    const key = keys.keys.find((k) => k.certificate && parseCertificate(k.certificate).ski === cert.ski);
    signer = h('span', {}, badge('pass', 'VERIFIED'), ` ${cert.subject} (key ${key?.id ?? cert.ski}, issued by ${cert.issuer})`);
  } catch (e) {
    signer = h('span', {}, badge('fail'), ` signature not verified: ${e.message}`);
  }
  const programs = sum.programs ?? [];
  const helpers = new Map();
  for (const prog of programs) for (const x of prog.helpers ?? []) {
    const k = `${x.id}`; if (!helpers.has(k)) helpers.set(k, { ...x, users: [] }); helpers.get(k).users.push(prog.name);
  }
  out.append(
    h('h3', {}, `${obj.name ?? 'object'} — loader ${m.id}`),
    facts([
      ['Object', `${obj.file ?? '—'} (${obj.size ?? '?'} bytes)`], ['Object SHA-256', mono(obj.sha256)], ['Scheme', p.scheme], ['Signer', signer],
      ['Signed', m.createdAt], ['Log index', m.logIndex], ['Kernel profile', p.kernelProfile ? `${p.kernelProfile.name}${p.kernelProfile.mapExcl ? ' (map exclusivity)' : ''}` : null],
      ['License', sum.license], ['Loader instructions SHA-256', mono(p.loader?.insns?.sha256)], ['Generator', p.generator ? `${p.generator.name} ${p.generator.version}` : null],
    ]),
    table('Programs', ['Name', 'Section', 'Type', 'Attach', 'Instructions', 'Helpers', 'Maps'], programs.map((x) => [
      x.name, mono(x.section), x.type, [x.expectedAttachType, x.attachTarget].filter(Boolean).join(' → ') || null, x.insns,
      (x.helpers ?? []).map((y) => y.name).join(', ') || null, (x.maps ?? []).join(', ') || null])),
    table('Maps', ['Name', 'Type', 'Key bytes', 'Value bytes', 'Max entries', 'Flags', 'Pinning'], (sum.maps ?? []).map((x) => [
      x.name, x.type, x.keySize, x.valueSize, x.maxEntries, x.flags, x.pinning])),
    table('Helpers', ['ID', 'Name', 'Used by'], [...helpers.values()].sort((a, b) => a.id - b.id).map((x) => [x.id, x.name, x.users.join(', ')])),
    h('details', {}, h('summary', {}, 'Signed statement (JSON)'), h('pre', {}, JSON.stringify(st, null, 2))));
  return out;
}

// --- keys ---
async function loadKeys() {
  const box = $('keys-result');
  try {
    const k = await trust();
    const cert = (pem) => { try { return parseCertificate(pem); } catch { return {}; } };
    const ca = cert(k.caCertificate);
    show(box,
      facts([['Log origin', k.logOrigin], ['Log key', mono(k.logKey)], ['CA', ca.subject], ['CA valid', ca.notBefore && `${ca.notBefore} to ${ca.notAfter}`]]),
      table('Signing keys', ['Key', 'Active', 'Subject', 'Issuer', 'Key identifier (SKI)', 'Valid until'], k.keys.map((x) => {
        const c = cert(x.certificate);
        return [x.id, x.active ? 'active' : 'no', c.subject, c.issuer, mono(c.ski ?? '—'), c.notAfter];
      })),
      h('details', {}, h('summary', {}, 'Certificates (PEM)'), h('pre', {}, [k.caCertificate, ...k.keys.map((x) => x.certificate)].join('\n'))));
  } catch (e) { show(box, failure('Could not read the keys', e)); }
}

// --- signing ---
async function sign(ev) {
  ev.preventDefault();
  const box = $('sign-result');
  const file = $('sign-object').files[0];
  if (!file) { show(box, failure('Sign', 'choose an object first')); return; }
  const name = $('sign-name').value || (file.name.replace(/\.[^.]*$/, '').replace(/\W/g, '_').replace(/^(?=\d)/, '_') || 'obj');
  const form = new FormData();
  form.append('name', name);
  form.append('scheme', $('sign-scheme').value);
  form.append('profile', $('sign-profile').value);
  form.append('object', file, file.name);
  show(box, h('p', {}, `Signing ${file.name}…`));
  try {
    const created = await (await api('/v1/loaders', { method: 'POST', body: form })).json();
    const b = created.bundle;
    const url = URL.createObjectURL(new Blob([JSON.stringify(b, null, 2)], { type: 'application/json' }));
    show(box,
      h('p', { id: 'sign-status' }, badge('pass', 'SIGNED'), ` ${file.name} as loader ${created.id}${b.tlog ? `, log entry ${b.tlog.logIndex}` : ' (not logged: unsigned)'}`),
      h('p', {}, h('a', { href: url, download: `${name}.bundle.json` }, 'Download the bundle'), ' · ',
        h('a', { href: created.links.header }, 'Light skeleton header'), ' · ',
        h('button', { type: 'button', onclick: () => verify({ bundle: b }) }, 'Verify this bundle')));
    lookup(hex(await sha256(new Uint8Array(await file.arrayBuffer()))));
    loadLog();
  } catch (e) {
    show(box, failure('Signing failed', e.status === 401 || e.status === 403 ? new Error(`${e.message} — set a token with the sign scope above`) : e));
  }
}

// --- verification ---
async function verifyForm(ev) {
  ev.preventDefault();
  const box = $('verify-result');
  const file = $('verify-bundle').files[0];
  if (!file) { show(box, failure('Verify', 'choose a bundle or header first')); return; }
  try {
    const text = await file.text();
    const body = /^\s*\{/.test(text) ? { bundle: JSON.parse(text) } : { header: text };
    const obj = $('verify-object').files[0];
    if (obj) body.object = b64encode(new Uint8Array(await obj.arrayBuffer()));
    const pol = $('verify-policy').files[0];
    if (pol) body.policy = JSON.parse(await pol.text());
    else if ($('verify-policy-name').value) body.policy = $('verify-policy-name').value;
    await verify(body);
  } catch (e) { show(box, failure('Could not read the files', e)); }
}

async function verify(body) {
  const box = $('verify-result');
  $('verify').scrollIntoView();
  show(box, h('p', {}, 'Verifying…'));
  let v;
  try {
    v = await (await api('/v1/verifications', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json();
  } catch (e) {
    const noHeaders = 'header' in body && e.status === 400 && e.body?.errors?.some((x) => x.path === '/bundle');
    show(box, failure('Verification refused', noHeaders ? new Error('this server verifies bundles only, not headers') : e));
    return;
  }
  show(box,
    h('p', { class: 'verdict', id: 'verdict' }, badge(v.ok ? 'pass' : 'fail', v.verdict), v.ok ? ' Verified' : ' Not verified',
      v.signer ? ` — signed by ${v.signer.subject}` : '', v.scheme ? `, scheme ${v.scheme}` : '', `, policy ${v.policy}`),
    h('ol', { class: 'checks', 'aria-label': 'Checks' }, v.checks.map((c) => h('li', {},
      badge(c.status), ' ', h('strong', {}, c.check), ` (${c.level}) `, c.message, c.code ? h('code', {}, ` ${c.code}`) : null,
      c.details ? h('details', {}, h('summary', {}, 'details'), h('pre', {}, JSON.stringify(c.details, null, 2))) : null))));
}

// --- drop zones: files dropped on a form go to its labelled inputs ---
function dropZone(form, route) {
  form.addEventListener('dragover', (e) => { e.preventDefault(); form.classList.add('over'); });
  form.addEventListener('dragleave', () => form.classList.remove('over'));
  form.addEventListener('drop', (e) => {
    e.preventDefault(); form.classList.remove('over');
    for (const f of e.dataTransfer.files) {
      const input = route(f);
      const dt = new DataTransfer(); dt.items.add(f); input.files = dt.files;
    }
  });
}

function start() {
  if (!globalThis.isSecureContext || !globalThis.crypto?.subtle) $('insecure').hidden = false;
  const state = () => { $('token-state').textContent = token() ? 'Token set for this tab.' : 'No token: anonymous reads (and loopback in development).'; };
  $('token').value = token();
  $('token-form').addEventListener('submit', (e) => { e.preventDefault(); sessionStorage.setItem(TOKEN, $('token').value.trim()); keysPromise = null; state(); refresh(); });
  $('token-forget').addEventListener('click', () => { sessionStorage.removeItem(TOKEN); $('token').value = ''; state(); });
  state();
  $('log-refresh').addEventListener('click', loadLog);
  $('entry-form').addEventListener('submit', async (e) => { e.preventDefault(); $('entries').prepend(await entryCard(BigInt($('entry-index').value))); });
  $('manifest-form').addEventListener('submit', (e) => { e.preventDefault(); lookup($('manifest-digest').value.trim()); });
  $('digest-file').addEventListener('change', async (e) => { const f = e.target.files[0]; if (f) lookup(hex(await sha256(new Uint8Array(await f.arrayBuffer())))); });
  $('sign-form').addEventListener('submit', sign);
  $('verify-form').addEventListener('submit', verifyForm);
  dropZone($('sign-form'), () => $('sign-object'));
  dropZone($('verify-form'), (f) => /\.o$/.test(f.name) ? $('verify-object') : /polic/i.test(f.name) ? $('verify-policy') : $('verify-bundle'));
  refresh();
}

function refresh() { loadLog(); loadKeys(); }

start();
