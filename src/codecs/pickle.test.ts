import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { walkPickle, describe as describeValue, rootGlobal, type PValue } from './pickle.js';
import { pickle } from '../../test/helpers/pickle-builder.js';

const imports = (r: ReturnType<typeof walkPickle>) => r.events.filter((e) => e.type === 'import').map((e) => `${e.module}.${e.name}`);

describe('pickle walker', () => {
  it('decodes containers, memo and strings without importing anything', () => {
    const b = pickle().proto(2).emptyDict().binput(0).mark().str('a').int(1).str('b').emptyList().binput(1).int(7).append().str('c').binget(1).setitems().stop();
    const r = walkPickle(b.build_());
    assert.equal(r.error, undefined);
    assert.equal(r.protocol, 2);
    const v = r.value as Extract<PValue, { kind: 'dict' }>;
    assert.equal(v.kind, 'dict');
    assert.deepEqual(v.entries.map(([k]) => k), ['a', 'b', 'c']);
    assert.equal(v.entries[1]![1], v.entries[2]![1], 'memo returns the same list');
    assert.deepEqual(imports(r), []);
  });

  it('records GLOBAL + REDUCE as an import and a call', () => {
    const r = walkPickle(pickle().proto(2).call('os', 'system', (b) => b.str('echo hi')).stop().build_());
    assert.deepEqual(imports(r), ['os.system']);
    const calls = r.events.filter((e) => e.type === 'call');
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.op, 'REDUCE');
    assert.equal(rootGlobal(r.value)?.name, 'system');
    assert.equal(describeValue(r.value), 'os.system(…)');
  });

  it('marks STACK_GLOBAL with non-constant operands as computed', () => {
    // module name built by a call: builtins.str.join(...) — not a provable constant
    const b = pickle().proto(4).str('os').global('builtins', 'str').mark().str('sys').tuple().reduce().stackGlobal().stop();
    const r = walkPickle(b.build_());
    const g = r.events.filter((e) => e.type === 'import' && e.op === 'STACK_GLOBAL');
    assert.equal(g.length, 1);
    assert.equal(g[0]!.computed, true);
  });

  it('reads protocol 0 text opcodes (INST, STRING, INT, GET/PUT)', () => {
    const b = pickle().mark().text("S'ls'\np0\n").inst('subprocess', 'check_output').text('p1\ng1\nI01\n').raw(0x30).stop();
    const r = walkPickle(b.build_());
    assert.equal(r.error, undefined, JSON.stringify(r.error));
    assert.deepEqual(imports(r), ['subprocess.check_output']);
    assert.equal(r.events.find((e) => e.type === 'call')?.op, 'INST');
  });

  it('reads several pickles in a row (legacy torch files) by offset', () => {
    const one = pickle().proto(2).int(5).stop().build_();
    const two = pickle().proto(2).str('x').stop().build_();
    const all = new Uint8Array([...one, ...two]);
    const a = walkPickle(all);
    assert.equal(a.value, 5);
    const b = walkPickle(all, a.end);
    assert.equal(b.value, 'x');
  });

  it('stops on a malformed stream with the offset, keeping what it saw', () => {
    const b = pickle().proto(2).global('os', 'system').raw(0xff).stop();
    const r = walkPickle(b.build_());
    assert.equal(r.error?.code, 'MALFORMED');
    assert.equal(r.error?.offset, 2 + 1 + 'os\nsystem\n'.length);
    assert.deepEqual(imports(r), ['os.system']);
  });

  it('reports truncation as UNEXPECTED_EOF and never reads past the end', () => {
    const r = walkPickle(pickle().proto(2).raw(0x58, 0xff, 0xff, 0xff, 0x7f).build_());
    assert.equal(r.error?.code, 'UNEXPECTED_EOF');
  });

  it('turns resource abuse into LIMIT_EXCEEDED, not a hang', () => {
    const b = pickle().proto(2);
    for (let i = 0; i < 2000; i++) b.emptyList();
    const r = walkPickle(b.stop().build_(), 0, { maxOps: 1_000_000, maxStack: 1000, maxMemo: 10, maxItems: 10 });
    assert.equal(r.error?.code, 'LIMIT_EXCEEDED');
    const loop = pickle().proto(2);
    for (let i = 0; i < 100; i++) loop.emptyTuple().raw(0x30);
    const r2 = walkPickle(loop.stop().build_(), 0, { maxOps: 50, maxStack: 1000, maxMemo: 10, maxItems: 10 });
    assert.equal(r2.error?.code, 'LIMIT_EXCEEDED');
  });

  it('decodes LONG1 big integers as strings (no bigint in output)', () => {
    const r = walkPickle(Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]));
    assert.deepEqual(r.value, { kind: 'long', value: '119547037146038801333356' });
  });

  it('records BUILD on a global and SETITEM on a non-dict', () => {
    const b = pickle().proto(2).global('os', 'environ').emptyDict().build().stop();
    const r = walkPickle(b.build_());
    assert.ok(r.events.some((e) => e.type === 'build' && rootGlobal(e.target as PValue)?.name === 'environ'));
    const s = pickle().proto(2).global('sys', 'modules').str('k').str('v').setitem().stop();
    const r2 = walkPickle(s.build_());
    assert.ok(r2.events.some((e) => e.type === 'setitem'));
  });
});
