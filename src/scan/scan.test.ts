/**
 * Each scan rule's attack, built in code, next to a near-miss that must stay clean: computed
 * STACK_GLOBAL names, memo tricks, protocol-0 text, nested pickles, zip flag and name tricks,
 * templates built by concatenation, GGUF header lies.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync, zlibSync } from 'fflate';
import { BytesSource } from '../io/source.js';
import { scanSource } from './scan.js';
import { scanPickle } from './pickle-scan.js';
import { scanTemplate } from './jinja.js';
import { classifyGlobal } from './pickle-policy.js';
import { pickle } from '../../test/helpers/pickle-builder.js';
import { buildZip } from '../../test/helpers/zip-writer.js';

const rules = (b: Uint8Array) => scanPickle(b, 'x.pkl').findings.map((f) => f.rule).sort();
const scanBytes = (b: Uint8Array, name = 'model.bin') => scanSource(new BytesSource(b, name), { path: name });

/** A plain state-dict-like pickle: OrderedDict + _rebuild_tensor_v2 + FloatStorage. */
function benignCheckpoint() {
  return pickle()
    .proto(2)
    .global('collections', 'OrderedDict').emptyTuple().reduce()
    .str('w')
    .global('torch._utils', '_rebuild_tensor_v2')
    .mark()
    .mark().str('storage').global('torch', 'FloatStorage').str('0').str('cpu').int(4).tuple().binpersid()
    .int(0).mark().int(2).int(2).tuple().mark().int(2).int(1).tuple().raw(0x89).global('collections', 'OrderedDict').emptyTuple().reduce()
    .tuple().reduce()
    .setitem()
    .stop()
    .build_();
}

describe('pickle rules', () => {
  it('allow-listed tensor checkpoints are clean (near-miss for every pickle rule)', () => {
    const r = scanPickle(benignCheckpoint(), 'data.pkl');
    assert.deepEqual(r.findings, []);
    assert.deepEqual([...new Set(r.imports.map((i) => i.global))].sort(), ['collections.OrderedDict', 'torch.FloatStorage', 'torch._utils._rebuild_tensor_v2']);
  });

  it('PKL-001: dangerous imports, with aliases and every dotted component', () => {
    for (const [m, n] of [['os', 'system'], ['posix', 'system'], ['nt', 'system'], ['__builtin__', 'eval'], ['builtins', 'exec'], ['subprocess', 'Popen'], ['_operator', 'attrgetter'], ['runpy', '_run_code'], ['asyncio.unix_events', '_UnixSubprocessTransport._start'], ['pip', 'main'], ['torch.serialization', 'load'], ['numpy.testing._private.utils', 'runstring'], ['pkgutil', 'resolve_name'], ['webbrowser', 'open'], ['marshal', 'loads'], ['types', 'FunctionType']]) {
      const b = pickle().proto(2).call(m!, n!, (x) => x.str('id')).stop().build_();
      assert.ok(rules(b).some((r) => r === 'PKL-001' || r === 'PKL-003'), `${m}.${n}`);
    }
    // near-miss: a harmless builtin
    assert.deepEqual(rules(pickle().proto(2).global('builtins', 'set').mark().tuple().reduce().stop().build_()), []);
  });

  it('PKL-002: STACK_GLOBAL with computed operands (rot13 via _codecs.encode)', () => {
    const b = pickle().proto(4)
      .global('_codecs', 'encode').mark().str('cbfvk').str('rot13').tuple().reduce()
      .str('system').stackGlobal().mark().str('id').tuple().reduce().stop().build_();
    assert.ok(rules(b).includes('PKL-002'));
    // near-miss: constant operands through the memo are resolved, not "computed"
    const ok = pickle().proto(4).str('collections').memoize().str('OrderedDict').memoize().binget(0).binget(1).stackGlobal().emptyTuple().reduce().stop().build_();
    assert.deepEqual(rules(ok), []);
  });

  it('memo tricks: names stored with PUT and fetched with GET are still seen (imaginaryctf shape)', () => {
    const b = pickle().text('Vos\np2\n0Vsystem\np3\n0Vtorch\np0\n0VLongStorage\np1\n0g2\ng3\n').stackGlobal().mark().text('Vid\n').tuple().reduce().stop().build_();
    assert.ok(rules(b).includes('PKL-001'));
  });

  it('PKL-003: dunders and dotted names that walk into other modules', () => {
    assert.ok(rules(pickle().proto(4).str('pathlib').str('os.system').stackGlobal().stop().build_()).includes('PKL-003'));
    assert.ok(rules(pickle().proto(2).global('numpy', '__builtins__').stop().build_()).includes('PKL-003'));
    assert.equal(classifyGlobal('__main__', 'MyModel').class, 'unknown', '__main__ is not a dunder hit');
  });

  it('PKL-004: BUILD on an imported module (monkey-patching)', () => {
    const b = pickle().proto(2).global('torch._utils', '_rebuild_tensor').emptyDict().build().stop().build_();
    assert.ok(rules(b).includes('PKL-004'));
    // near-miss: BUILD on an object made by a call (ordinary object state)
    const ok = pickle().proto(2).global('collections', 'OrderedDict').emptyTuple().reduce().emptyDict().build().stop().build_();
    assert.deepEqual(rules(ok), []);
  });

  it('PKL-005: pickles hidden in bytes, latin-1 strings, base64 and zlib', () => {
    const inner = pickle().proto(2).call('os', 'system', (x) => x.str('id')).stop().build_();
    const asBytes = pickle().proto(3).bytes(inner).stop().build_();
    assert.ok(rules(asBytes).includes('PKL-005'));
    assert.ok(rules(asBytes).includes('PKL-001'));
    const asB64 = pickle().proto(2).str(Buffer.from(inner).toString('base64')).stop().build_();
    assert.ok(rules(asB64).includes('PKL-005'));
    const asZlib = pickle().proto(3).bytes(zlibSync(inner)).stop().build_();
    assert.ok(rules(asZlib).includes('PKL-005'));
    // near-miss: random bytes constants
    assert.deepEqual(rules(pickle().proto(3).bytes(Uint8Array.from({ length: 64 }, (_, i) => (i * 37) & 0xff)).stop().build_()), []);
  });

  it('PKL-006 unknown imports are suspicious, not malicious', () => {
    assert.deepEqual(rules(pickle().proto(2).global('sklearn.tree._classes', 'DecisionTreeClassifier').emptyTuple().reduce().stop().build_()), ['PKL-006']);
  });

  it('PKL-008: a stream that breaks after a dangerous import is high; plain damage is low', () => {
    const broken = pickle().proto(2).call('os', 'system', (x) => x.str('id')).raw(0xff).build_();
    const f = scanPickle(broken, 'x').findings.find((x) => x.rule === 'PKL-008');
    assert.equal(f?.severity, 'high');
    const damaged = pickle().proto(2).emptyDict().raw(0xff).build_();
    assert.equal(scanPickle(damaged, 'x').findings.find((x) => x.rule === 'PKL-008')?.severity, 'low');
  });

  it('keeps scanning after a break: a second stream is still judged', () => {
    const a = pickle().proto(2).emptyDict().raw(0xfe).build_();
    const b = pickle().proto(2).call('os', 'system', (x) => x.str('id')).stop().build_();
    const r = rules(new Uint8Array([...a, ...b]));
    assert.ok(r.includes('PKL-001'));
  });

  it('PKL-009: resource abuse is a finding, not a hang', () => {
    const b = pickle().proto(2);
    for (let i = 0; i < 200_000; i++) b.emptyList();
    const f = scanPickle(b.stop().build_(), 'x').findings;
    assert.ok(f.some((x) => x.rule === 'PKL-009' && x.incomplete));
  });

  it('PKL-010 / PKL-011: extension registry and scanner imports', () => {
    assert.ok(rules(pickle().proto(2).raw(0x82, 1).stop().build_()).includes('PKL-010'));
    assert.ok(rules(pickle().proto(2).global('fickling', 'always_check_safety').stop().build_()).includes('PKL-011'));
  });
});

describe('archive rules', () => {
  const evil = pickle().proto(2).call('os', 'system', (x) => x.str('id')).stop().build_();

  it('a pickle under any name in a zip is found by content (CVE-2025-1889)', async () => {
    const z = buildZip([{ name: 'archive/notes.txt', data: evil }, { name: 'archive/data.pkl', data: benignCheckpoint() }]).bytes;
    const r = await scanBytes(z, 'model.pt');
    assert.equal(r.verdict, 'malicious');
    assert.ok(r.findings.some((f) => f.rule === 'PKL-001' && f.location.includes('archive/notes.txt')));
  });

  it('ARC-001: traversal, absolute and duplicate names; near-miss: normal names', async () => {
    for (const name of ['../evil.pkl', '/etc/x', 'C:/x', 'a/../../b']) {
      const r = await scanBytes(buildZip([{ name, data: 'x' }]).bytes, 'a.zip');
      assert.ok(r.findings.some((f) => f.rule === 'ARC-001'), name);
    }
    const dup = await scanBytes(buildZip([{ name: 'a/data.pkl', data: benignCheckpoint() }, { name: 'a/data.pkl', data: evil }]).bytes, 'a.zip');
    assert.ok(dup.findings.some((f) => f.rule === 'ARC-001' && f.evidence.includes('2 members')));
    const ok = await scanBytes(buildZip([{ name: 'archive/data.pkl', data: benignCheckpoint() }, { name: 'archive/version', data: '3\n' }]).bytes, 'ok.pt');
    assert.equal(ok.verdict, 'benign');
  });

  it('ARC-002 symlinks; ARC-005 encrypted members make the scan incomplete', async () => {
    const link = await scanBytes(buildZip([{ name: 'a', data: '/etc/passwd', unixMode: 0o120777 }]).bytes, 'a.zip');
    assert.ok(link.findings.some((f) => f.rule === 'ARC-002'));
    // traditional PKWARE encryption: a 12-byte header before the (encrypted) byte
    const enc = await scanBytes(buildZip([{ name: 'a.bin', data: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]), encrypted: true, declaredSize: 1 }]).bytes, 'a.zip');
    assert.equal(enc.verdict, 'unscanned');
    const encDeflated = await scanBytes(buildZip([{ name: 'a.bin', data: Uint8Array.from({ length: 40 }, (_, i) => (i * 73) & 0xff), encrypted: true, method: 8 }]).bytes, 'a.zip');
    assert.equal(encDeflated.verdict, 'unscanned');
  });

  it('ARC-004: encryption flag on plain data (CVE-2025-1945) is read like torch reads it; near-miss: real encryption', async () => {
    for (const method of ['store', 'deflate'] as const) {
      const r = await scanBytes(buildZip([{ name: 'model/config.pkl', data: evil, encrypted: true, method }]).bytes, 'm.zip');
      assert.equal(r.verdict, 'malicious', method);
      assert.ok(r.findings.some((f) => f.rule === 'ARC-004' && f.severity === 'medium' && f.evidence.includes('encryption flag')), method);
      assert.ok(r.findings.some((f) => f.rule === 'PKL-001'), method);
      assert.ok(!r.findings.some((f) => f.rule === 'ARC-005'), method);
    }
    const plainOk = await scanBytes(buildZip([{ name: 'archive/data.pkl', data: benignCheckpoint(), encrypted: true }]).bytes, 'ok.zip');
    assert.equal(plainOk.verdict, 'suspicious');
  });

  it('ARC-003: a deflate bomb is not inflated', async () => {
    const big = new Uint8Array(64 * 1024 * 1024);
    const r = await scanBytes(buildZip([{ name: 'bomb.pkl', data: big, method: 'deflate' }]).bytes, 'a.zip');
    assert.ok(r.findings.some((f) => f.rule === 'ARC-003'));
    assert.notEqual(r.verdict, 'benign');
  });

  it('nested zips are opened (depth-limited)', async () => {
    const inner = buildZip([{ name: 'data.pkl', data: evil }]).bytes;
    const outer = buildZip([{ name: 'inner.zip', data: inner, method: 'deflate' }]).bytes;
    const r = await scanBytes(outer, 'outer.zip');
    assert.ok(r.findings.some((f) => f.rule === 'PKL-001' && f.location.includes('inner.zip > data.pkl')));
  });

  it('deflated pickle members are scanned', async () => {
    const r = await scanBytes(buildZip([{ name: 'archive/data.pkl', data: evil, method: 'deflate' }]).bytes, 'm.pt');
    assert.equal(r.verdict, 'malicious');
    void deflateSync;
  });
});

describe('template rule TPL-001', () => {
  const llama3 = "{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";
  it('real chat templates are clean (near-miss)', () => {
    assert.deepEqual(scanTemplate(llama3, 't'), []);
    assert.deepEqual(scanTemplate("{% if messages[0]['role'] == 'system' %}{{ messages[0]['content'] }}{% endif %}", 't'), []);
  });
  it('SSTI payloads, also when built by concatenation or join', () => {
    const payloads = [
      "{{ ''.__class__.__mro__[1].__subclasses__() }}",
      "{{ self.__init__.__globals__.__builtins__ }}",
      "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
      "{{ ''|attr('__cla' ~ 'ss__') }}",
      "{{ ''|attr(['__cl','ass__']|join) }}",
      "{{ lipsum.__globals__['os'].popen('id') }}",
      "{{ ''|attr('\\x5f\\x5fclass\\x5f\\x5f') }}",
    ];
    for (const p of payloads) assert.equal(scanTemplate(p, 't')[0]?.rule, 'TPL-001', p);
  });
});
