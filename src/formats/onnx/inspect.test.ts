import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pb } from '../../codecs/protobuf.js';
import type { ModelReport } from '../../types.js';
import {
  DT, direct, open, attrGraph, attrInt, attrTensor, f32, functionProto, graph, mapType, modelProto, node, optionalType, seqType, sparseTensor, tensorProto, tensorType, valueInfo,
} from './testing.js';

const codes = (r: ModelReport) => r.diagnostics.map((d) => d.code);

describe('onnx inspect: report', () => {
  const thenBranch = graph({ name: 'then', nodes: [node('Identity', ['w_then'], ['y_then'])], initializers: [tensorProto({ name: 'w_then', dtype: DT.FLOAT, dims: [2], raw: f32(1, 2) })], outputs: [valueInfo('y_then')] });
  const elseBranch = graph({ name: 'else', nodes: [node('Neg', ['x'], ['y_else'])], outputs: [valueInfo('y_else')] });
  const bytes = modelProto({
    ir: 9, producer: 'pytorch', version: '2.3.0', domain: 'ai.example', modelVersion: 3, doc: 'a test',
    opsets: [['', 18], ['com.microsoft', 1]],
    metadata: [['author', 'me'], ['license', 'MIT']],
    graph: graph({
      name: 'main',
      nodes: [
        node('Conv', ['x', 'W', 'B'], ['c']),
        node('If', ['cond'], ['y'], { name: 'if0', attrs: [attrGraph('then_branch', thenBranch), attrGraph('else_branch', elseBranch)] }),
        node('Constant', [], ['k'], { attrs: [attrTensor('value', tensorProto({ name: '', dtype: DT.FLOAT, dims: [1], raw: f32(5) }))] }),
        node('FusedGemm', ['c', 'k'], ['z'], { domain: 'com.microsoft' }),
        node('MyFn', ['z'], ['out'], { domain: 'local' }),
      ],
      initializers: [
        tensorProto({ name: 'W', dtype: DT.FLOAT, dims: [4, 1, 3, 3], raw: new Uint8Array(144) }),
        tensorProto({ name: 'B', dtype: DT.FLOAT, dims: [4], floats: [1, 2, 3, 4] }),
        tensorProto({ name: 'steps', dtype: DT.INT64, dims: [], int64: [-7] }),
        tensorProto({ name: 'names', dtype: DT.STRING, dims: [2], strings: ['ab', 'cde'] }),
      ],
      sparse: [sparseTensor(tensorProto({ name: 'S', dtype: DT.FLOAT, dims: [2], floats: [7, 8] }), tensorProto({ name: 'S_idx', dtype: DT.INT64, dims: [2], int64: [1, 5] }), [2, 3])],
      inputs: [valueInfo('x', tensorType(DT.FLOAT, ['batch', 1, null, 8])), valueInfo('W', tensorType(DT.FLOAT, [4, 1, 3, 3])), valueInfo('cond', tensorType(DT.BOOL, []))],
      outputs: [
        valueInfo('out', tensorType(DT.FLOAT)),
        valueInfo('s', seqType(tensorType(DT.INT64, [3]))),
        valueInfo('mp', mapType(DT.INT64, tensorType(DT.FLOAT))),
        valueInfo('o', optionalType(seqType(tensorType(DT.FLOAT16)))),
        valueInfo('untyped'),
      ],
    }),
    functions: [functionProto('MyFn', 'local', [node('Relu', ['a'], ['b']), node('Relu', ['b'], ['c'])])],
  });

  it('reads header, tensors (nested subgraphs included), graph IO and ops', async () => {
    const { report: r } = await open(bytes);
    assert.equal(r.format.variant, 'onnx-protobuf');
    assert.equal(r.format.version, '9');
    assert.equal(r.producer, 'pytorch 2.3.0');
    assert.deepEqual(r.metadata, { author: 'me', license: 'MIT' });
    const t = Object.fromEntries(r.tensors.items.map((x) => [x.name, x]));
    assert.deepEqual(Object.keys(t).sort(), ['B', 'S', 'W', 'names', 'steps', 'w_then']);
    assert.deepEqual([t.W!.dtype, t.W!.shape, t.W!.byteLength], ['f32', [4, 1, 3, 3], 144]);
    assert.deepEqual([t.B!.dtype, t.B!.byteLength], ['f32', 16]);
    assert.deepEqual([t.steps!.dtype, t.steps!.shape, t.steps!.byteLength], ['i64', [], 8]);
    assert.deepEqual([t.names!.dtype, t.names!.byteLength], ['string', 5]);
    assert.deepEqual([t.S!.dtype, t.S!.shape], ['f32', [2, 3]]);
    assert.deepEqual(t.w_then!.shape, [2]);
    assert.equal(r.parameters.total, 36 + 4 + 1 + 2 + 6 + 2);
    assert.deepEqual(r.graph!.inputs, [
      { name: 'x', dtype: 'f32', shape: ['batch', 1, '?', 8] },
      { name: 'cond', dtype: 'bool', shape: [] },
    ]);
    assert.deepEqual(r.graph!.outputs.map((o) => [o.dtype, o.shape]), [['f32', null], ['seq(i64)', null], ['map(i64,f32)', null], ['optional(seq(f16))', null], ['unknown', null]]);
    assert.deepEqual(r.graph!.ops, { Conv: 1, If: 1, Identity: 1, Neg: 1, Constant: 1, FusedGemm: 1, MyFn: 1 });
    const d = r.details as Record<string, unknown>;
    assert.deepEqual(d.opsets, { 'ai.onnx': 18, 'com.microsoft': 1 });
    assert.deepEqual(d.opsByDomain, { 'com.microsoft': { FusedGemm: 1 }, local: { MyFn: 1 } });
    assert.equal(d.subgraphCount, 2);
    assert.equal(d.domain, 'ai.example');
    assert.equal(d.modelVersion, 3);
    assert.deepEqual(d.functions, [{ name: 'MyFn', domain: 'local', nodes: 2, ops: { Relu: 2 } }]);
    assert.equal(r.quantization, undefined);
    assert.deepEqual(r.diagnostics, []);
  });

  it('reads tensors as contiguous little-endian bytes', async () => {
    const { read } = await open(bytes);
    assert.deepEqual(await read('B'), f32(1, 2, 3, 4));
    assert.deepEqual(await read('W'), new Uint8Array(144));
    const steps = await read('steps');
    assert.equal(new DataView(steps.buffer, steps.byteOffset).getBigInt64(0, true), -7n);
    const s = new Float32Array((await read('S')).slice().buffer);
    assert.deepEqual([...s], [0, 7, 0, 0, 0, 8]);
    await assert.rejects(read('names'), { code: 'UNSUPPORTED' });
  });

  it('converts typed fields of every width', async () => {
    const m = modelProto({
      graph: graph({
        nodes: [node('Identity', ['x'], ['y'])],
        initializers: [
          tensorProto({ name: 'h', dtype: DT.FLOAT16, dims: [2], int32: [0x3c00, 0xc000] }),
          tensorProto({ name: 'b', dtype: DT.BFLOAT16, dims: [1], int32: [0x3f80], unpacked: true }),
          tensorProto({ name: 'q', dtype: DT.INT8, dims: [3], int32: [-1, 127, -128] }),
          tensorProto({ name: 'n4', dtype: DT.INT4, dims: [3], int32: [0x21, 0x03] }),
          tensorProto({ name: 'u', dtype: DT.UINT64, dims: [1], uint64: [2 ** 40] }),
          tensorProto({ name: 'dd', dtype: DT.DOUBLE, dims: [2], doubles: [1.5, -2] }),
          tensorProto({ name: 'fu', dtype: DT.FLOAT, dims: [2], floats: [3, 4], unpacked: true }),
          tensorProto({ name: 'pd', dtype: DT.UINT8, dims: [2, 2], packedDims: true, raw: new Uint8Array([1, 2, 3, 4]) }),
        ],
        inputs: [valueInfo('x', tensorType(DT.FLOAT, [1]))],
        outputs: [valueInfo('y', tensorType(DT.FLOAT, [1]))],
      }),
    });
    const { report: r, read } = await open(m);
    assert.deepEqual(r.diagnostics, []);
    assert.deepEqual([...(await read('h'))], [0x00, 0x3c, 0x00, 0xc0]);
    assert.deepEqual([...(await read('b'))], [0x80, 0x3f]);
    assert.deepEqual([...(await read('q'))], [0xff, 0x7f, 0x80]);
    assert.deepEqual([...(await read('n4'))], [0x21, 0x03]);
    assert.deepEqual([...(await read('u'))], [0, 0, 0, 0, 0, 1, 0, 0]);
    assert.deepEqual(await read('dd'), new Uint8Array(new Float64Array([1.5, -2]).buffer));
    assert.deepEqual(await read('fu'), f32(3, 4));
    assert.deepEqual([...(await read('pd'))], [1, 2, 3, 4]);
    assert.deepEqual(r.tensors.items.find((t) => t.name === 'pd')!.shape, [2, 2]);
    assert.equal(r.tensors.items.find((t) => t.name === 'n4')!.byteLength, 2);
  });
});

describe('onnx inspect: quantization in words', () => {
  const base = (nodes: Uint8Array[], initializers: Uint8Array[], opsets: [string, number][] = [['', 21]]) =>
    modelProto({ opsets, graph: graph({ nodes, initializers, inputs: [valueInfo('x', tensorType(DT.FLOAT, [1, 4]))], outputs: [valueInfo('y', tensorType(DT.FLOAT, [1, 4]))] }) });

  it('QDQ int8', async () => {
    const m = base(
      [node('QuantizeLinear', ['x', 'xs', 'xz'], ['xq']), node('DequantizeLinear', ['xq', 'xs', 'xz'], ['xd']), node('DequantizeLinear', ['wq', 'ws', 'wz'], ['wd']), node('MatMul', ['xd', 'wd'], ['y'])],
      [
        tensorProto({ name: 'wq', dtype: DT.INT8, dims: [4, 4], raw: new Uint8Array(16) }),
        tensorProto({ name: 'ws', dtype: DT.FLOAT, dims: [4], raw: f32(1, 1, 1, 1) }),
        tensorProto({ name: 'wz', dtype: DT.INT8, dims: [4], raw: new Uint8Array(4) }),
        tensorProto({ name: 'xs', dtype: DT.FLOAT, dims: [], raw: f32(1) }),
        tensorProto({ name: 'xz', dtype: DT.UINT8, dims: [], raw: new Uint8Array(1) }),
      ],
    );
    const { report: r } = await open(m);
    assert.match(r.quantization!.summary, /^QDQ int8 \(1 QuantizeLinear \/ 2 DequantizeLinear; weights i8, 1 per-channel; activations u8\)/);
    assert.deepEqual(r.quantization!.schemes, ['QDQ int8']);
  });

  it('QOperator, dynamic integer and MatMulNBits', async () => {
    const m = base(
      [
        node('QLinearMatMul', ['a', 'as', 'az', 'w8', 'ws', 'wz', 'ys', 'yz'], ['b']),
        node('DynamicQuantizeLinear', ['x'], ['xq', 's', 'z']),
        node('MatMulInteger', ['xq', 'w8', 'z'], ['i']),
        node('MatMulNBits', ['x', 'w4', 'sc'], ['y'], { domain: 'com.microsoft', attrs: [attrInt('bits', 4), attrInt('block_size', 32), attrInt('K', 4), attrInt('N', 4)] }),
      ],
      [tensorProto({ name: 'w8', dtype: DT.INT8, dims: [4, 4], raw: new Uint8Array(16) }), tensorProto({ name: 'w4', dtype: DT.UINT8, dims: [4, 1, 16], raw: new Uint8Array(64) })],
      [['', 17], ['com.microsoft', 1]],
    );
    const { report: r } = await open(m);
    assert.deepEqual(r.quantization!.schemes, ['QOperator int8', 'dynamic int8', '4-bit blockwise']);
    assert.match(r.quantization!.summary, /4-bit weight-only, block 32 \(MatMulNBits ×1\)/);
  });

  it('4-bit storage types', async () => {
    const m = base([node('DequantizeLinear', ['w', 's'], ['y'], { attrs: [attrInt('block_size', 32)] })], [tensorProto({ name: 'w', dtype: DT.INT4, dims: [4, 64], raw: new Uint8Array(128) }), tensorProto({ name: 's', dtype: DT.FLOAT, dims: [4, 2], raw: new Uint8Array(32) })]);
    const { report: r } = await open(m);
    assert.deepEqual(r.quantization!.schemes, ['QDQ int4']);
    assert.match(r.quantization!.summary, /1 blockwise/);
    assert.match(r.quantization!.summary, /i4: 256 elements/);
    assert.equal(r.tensors.items[0]!.byteLength, 128);
  });
});

describe('onnx inspect: damaged and hostile files', () => {
  const ok = graph({ nodes: [node('Relu', ['x'], ['y'])], initializers: [tensorProto({ name: 'w', dtype: DT.FLOAT, dims: [4], raw: f32(1, 2, 3, 4) })], inputs: [valueInfo('x', tensorType(DT.FLOAT, [4]))], outputs: [valueInfo('y', tensorType(DT.FLOAT, [4]))] });

  it('a file cut inside the graph gives a partial report with TRUNCATED', async () => {
    const whole = modelProto({ producer: 'p', graph: ok });
    const r = await direct(whole.subarray(0, whole.length - 40));
    assert.ok(codes(r).includes('TRUNCATED'), JSON.stringify(r.diagnostics));
    assert.equal(r.graph!.ops.Relu, 1);
  });

  it('raw_data of the wrong size is reported, and refused by readTensor', async () => {
    const m = modelProto({ graph: graph({ nodes: [node('Relu', ['x'], ['y'])], initializers: [tensorProto({ name: 'w', dtype: DT.FLOAT, dims: [4], raw: f32(1, 2) })] }) });
    const { report: r, read } = await open(m);
    assert.deepEqual(codes(r), ['TENSOR_SIZE_MISMATCH']);
    await assert.rejects(read('w'), { code: 'MALFORMED' });
  });

  it('typed values that lie about their count', async () => {
    const m = modelProto({ graph: graph({ nodes: [node('Relu', ['x'], ['y'])], initializers: [tensorProto({ name: 'w', dtype: DT.FLOAT, dims: [1000], floats: [1, 2] })] }) });
    const { report: r, read } = await open(m);
    assert.deepEqual(codes(r), ['TENSOR_SIZE_MISMATCH']);
    await assert.rejects(read('w'), { code: 'MALFORMED' });
  });

  it('subgraphs nested past the depth limit stop with LIMIT_EXCEEDED', async () => {
    let g = graph({ nodes: [node('Relu', ['x'], ['y'])] });
    for (let i = 0; i < 40; i++) g = graph({ nodes: [node('If', ['c'], ['y'], { attrs: [attrGraph('then_branch', g)] })] });
    const r = await direct(modelProto({ graph: g }));
    assert.ok(codes(r).includes('LIMIT_EXCEEDED'));
    assert.equal(r.graph!.ops.If, 33);
  });

  it('garbage inside a node ends that walk with MALFORMED, the rest is read', async () => {
    const bad = pb.concat(pb.message(1, new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f])), pb.message(5, tensorProto({ name: 'w', dtype: DT.FLOAT, dims: [1], raw: f32(1) })));
    const r = await direct(modelProto({ graph: bad }));
    assert.ok(codes(r).includes('MALFORMED'));
    assert.equal(r.tensors.count, 1);
  });

  it('unknown data types are kept by number', async () => {
    const m = modelProto({ graph: graph({ nodes: [node('Relu', ['x'], ['y'])], initializers: [tensorProto({ name: 'w', dtype: 99, dims: [2], raw: new Uint8Array(2) })] }) });
    const { report: r } = await open(m);
    assert.equal(r.tensors.items[0]!.dtype, 'onnx_type_99');
    assert.ok(codes(r).includes('ONNX_UNKNOWN_DTYPE'));
  });
});
