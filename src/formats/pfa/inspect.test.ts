import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspectSource } from '../../inspect/inspect.js';
import { BytesSource } from '../../io/source.js';
import { ModelwiseError } from '../../errors.js';
import { avroType, walkExpressions, type ExpressionStats } from './document.js';

const run = (text: string, name = 'm.pfa') => inspectSource(new BytesSource(new TextEncoder().encode(text), name), { path: name });

const ENGINE = {
  name: 'scorer',
  method: 'emit',
  version: 3,
  input: { type: 'record', name: 'In', fields: [
    { name: 'x', type: 'double' }, { name: 'n', type: ['null', 'int'] }, { name: 'tags', type: { type: 'array', items: 'string' } },
    { name: 'm', type: { type: 'map', values: 'long' } }, { name: 'e', type: { type: 'enum', name: 'Color', symbols: ['r', 'g'] } }, { name: 'r', type: 'In2' },
  ] },
  output: { type: 'array', items: { type: 'record', name: 'Out', fields: [{ name: 'y', type: 'float' }] } },
  begin: [{ log: { string: 'start' } }],
  action: [
    { let: { s: { '+': ['input.x', 1] } } },
    { if: { '>': ['s', 2] }, then: { emit: [{ 'u.sq': ['s'] }] }, else: [{ 'm.exp': ['s'] }] },
    { 'a.map': ['input.tags', { fcn: 's.len' }] },
    { new: { y: { cast: { 'u.sq': ['s'] }, cases: [] } }, type: 'Out' },
    { value: { 'not.a.call': 1 }, type: { type: 'map', values: 'int' } },
  ],
  fcns: { sq: { params: [{ v: 'double' }], ret: 'double', do: [{ '*': ['v', 'v'] }] } },
  cells: { table: { type: { type: 'array', items: 'double' }, init: [1, 2, 3], shared: true }, cfg: { type: 'string', init: 'x' } },
  pools: { seen: { type: 'int', init: { a: 1, b: 2 } } },
  metadata: { author: 'me', licence: 'MIT' },
};

describe('pfa inspect', () => {
  it('reports schemas, graph entries, action, cells, pools, functions and library calls', async () => {
    const r = await run(JSON.stringify(ENGINE, null, 1));
    assert.equal(r.format.id, 'pfa');
    assert.equal(r.format.variant, 'pfa-json');
    assert.equal(r.tensors.count, 0);
    assert.equal(r.architecture, 'scorer');
    assert.deepEqual(r.graph!.inputs.map((i) => [i.name, i.dtype, i.shape]), [
      ['x', 'f64', null], ['n', 'union(null,i32)', null], ['tags', 'array(string)', null], ['m', 'map(i64)', null], ['e', 'enum(Color)', null], ['r', 'In2', null],
    ]);
    assert.deepEqual(r.graph!.outputs, [{ name: 'output', dtype: 'array(record(Out))', shape: null }]);
    assert.deepEqual(r.graph!.ops, { '+': 1, '*': 1, '>': 1, 'a.map': 1, 'm.exp': 1, 's.len': 1, 'u.sq': 2 });
    const d = r.details as Record<string, any>;
    assert.equal(d.method, 'emit');
    assert.equal(d.version, 3);
    assert.deepEqual(d.action, { expressions: 5, nodes: d.action.nodes });
    assert.deepEqual(d.begin, { expressions: 1 });
    assert.deepEqual(d.cellList, [
      { name: 'table', type: 'array(f64)', shared: true, init: { items: 3, nodes: 4 } },
      { name: 'cfg', type: 'string', init: { nodes: 1 } },
    ]);
    assert.deepEqual(d.poolList, [{ name: 'seen', type: 'i32', init: { keys: 2, nodes: 3 }, entries: 2 }]);
    assert.deepEqual(d.fcnList, [{ name: 'sq', params: 1, ret: 'f64', expressions: 1 }]);
    assert.deepEqual(d.userFunctionCalls, { sq: 2 });
    assert.deepEqual(r.metadata, { author: 'me', licence: 'MIT' });
    assert.deepEqual(r.diagnostics, []);
  });

  it('a non-record schema gives one entry named input / output', async () => {
    const r = await run('{"input": "double", "output": ["null", "double"], "action": [{"+": ["input", 10]}]}');
    assert.deepEqual(r.graph!.inputs, [{ name: 'input', dtype: 'f64', shape: null }]);
    assert.deepEqual(r.graph!.outputs, [{ name: 'output', dtype: 'union(null,f64)', shape: null }]);
  });

  it('reads YAML with the core schema: tags are never constructed, aliases are capped', async () => {
    const yaml = [
      'name: yamly',
      'input: double',
      'output: {type: array, items: double}',
      'action:',
      '  - {a.map: [[input], {fcn: u.sq}]}',
      '  - !!python/object/apply:os.system ["echo pwned"]',
      'fcns:',
      '  sq: {params: [{x: double}], ret: double, do: {"*": [x, x]}}',
      'metadata: {author: me}',
      '',
    ].join('\n');
    const r = await run(yaml, 'm.yaml');
    assert.equal(r.format.variant, 'pfa-yaml');
    assert.deepEqual(r.graph!.ops, { '*': 1, 'a.map': 1, 'u.sq': 1 });
    assert.ok(r.diagnostics.some((d) => d.code === 'YAML_WARNING'));
    assert.deepEqual(r.metadata, { author: 'me' });

    const levels = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i < 9; i++) levels.push(`l${i}: &l${i} [${Array(9).fill(i === 1 ? '*a' : `*l${i - 1}`).join(', ')}]`);
    const bomb = ['input: double', 'output: double', 'action: [input]', 'cells:', ...levels.map((l) => `  ${l.replace(/^(\w+): (&\w+) (.*)$/, '$1: {type: string, init: $2 $3}')}`), ''].join('\n');
    await assert.rejects(run(bomb, 'bomb.yaml'), (e: ModelwiseError) => e.code === 'LIMIT_EXCEEDED');
  });

  it('flags missing fields, unknown fields and undefined user functions', async () => {
    const r = await run('{"input": "double", "output": "double", "action": [{"u.nope": [1]}], "fcns": {}}');
    assert.deepEqual(r.diagnostics.map((d) => d.code), ['UNDEFINED_FUNCTION']);
  });

  it('malformed and deeply nested documents fail or walk without a crash', async () => {
    await assert.rejects(run('{"input": "double", "output": "double", "action": [1,', 'bad.pfa'), (e: ModelwiseError) => e instanceof ModelwiseError);
    const deep = `{"input": "double", "output": "double", "action": ${'['.repeat(100_000)}1${']'.repeat(100_000)}}`;
    const r = await run(deep);
    assert.equal((r.details as any).action.expressions, 1);
  });

  it('avroType and walkExpressions on their own', () => {
    assert.equal(avroType({ type: 'fixed', name: 'F', size: 4 }), 'fixed(F)');
    assert.equal(avroType({ type: 'int' }), 'i32');
    assert.equal(avroType(['null', { type: 'record', name: 'R', fields: [] }]), 'union(null,record(R))');
    const s: ExpressionStats = { nodes: 0, library: {}, user: {}, truncated: false };
    walkExpressions([{ '@': 'note', 'm.ln': [{ '-': [1, 2] }] }], s);
    assert.deepEqual(s.library, { 'm.ln': 1, '-': 1 });
    const t: ExpressionStats = { nodes: 0, library: {}, user: {}, truncated: false };
    walkExpressions([Array(100).fill({ '+': [1, 2] })], t, 50);
    assert.equal(t.truncated, true);
  });
});
