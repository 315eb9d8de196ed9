import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspectSource } from '../../inspect/inspect.js';
import { BytesSource } from '../../io/source.js';
import { buildZip, type ZipMemberSpec } from '../../../test/helpers/zip-writer.js';
import { SparseSource } from '../../../test/helpers/sparse-source.js';
import { enc } from '../pytorch/testkit.test.js';
import { persid, pickle, sparseZip, sparseZipSize, tensor, type PickleBuilder } from '../pytorch/inspect-kit.test.js';
import { parseClasses, codeFileOf } from './code.js';
import type { ModelReport } from '../../types.js';

const NET_PY = `class Net(Module):
  __parameters__ = []
  __buffers__ = []
  training : bool
  lin : __torch__.torch.nn.modules.linear.Linear
  def forward(self: __torch__.Net,
    x: Tensor) -> Tensor:
    lin = self.lin
    return (lin).forward(x, )
  def helper(self: __torch__.Net) -> int:
    return 1
`;
const LINEAR_PY = `class Linear(Module):
  __parameters__ = ["weight", "bias", ]
  __buffers__ = ["count", ]
  weight : Tensor
  bias : Optional[Tensor]
  count : Tensor
  cache : Tensor
  training : bool
  out_features : Final[int] = 2
  def forward(self: __torch__.torch.nn.modules.linear.Linear,
    input: Tensor) -> Tensor:
    return torch.linear(input, self.weight, self.bias)
`;

/** An object of a TorchScript class: NEWOBJ + BUILD with an attribute dict. */
function object(b: PickleBuilder, module: string, cls: string, attrs: (b: PickleBuilder) => void): PickleBuilder {
  b.global(module, cls).emptyTuple().newobj().emptyDict().mark();
  attrs(b);
  return b.setitems().build();
}

/** data.pkl of Net { lin: Linear { weight, bias, count (buffer), cache (plain attribute) }, packed: custom class }. */
function netPickle(extra?: (b: PickleBuilder) => void): Uint8Array {
  const b = pickle().proto(2);
  object(b, '__torch__', 'Net', (x) => {
    x.str('training').raw(0x89);
    x.str('lin');
    object(x, '__torch__.torch.nn.modules.linear', 'Linear', (y) => {
      tensor(y.str('weight'), { key: '0', shape: [2, 3] });
      y.str('bias').none();
      tensor(y.str('count'), { key: '1', storage: 'LongStorage', shape: [] });
      tensor(y.str('cache'), { key: '2', shape: [4] });
      y.str('training').raw(0x89);
      y.str('out_features').int(2);
    });
    x.str('packed').global('__torch__.torch.classes.quantized', 'LinearPackedParamsBase').emptyTuple().newobj();
    x.global('torch._utils', '_rebuild_qtensor').mark();
    persid(x, { key: '3', storage: 'QInt8Storage', shape: [2, 2] });
    x.int(0).mark().int(2).int(2).tuple().mark().int(2).int(1).tuple().mark().global('torch', 'per_tensor_affine').raw(0x47, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a).int(0).tuple();
    x.raw(0x89).global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce().none().tuple2().build();
    x.str('sizes').global('torch.jit._pickle', 'build_intlist').mark().emptyList().mark().int(1).int(2).raw(0x65).tuple().reduce();
    extra?.(x);
  });
  return b.stop().build_();
}

function archive(opts: { data?: Uint8Array; code?: Record<string, string>; records?: Record<string, Uint8Array>; top?: string } = {}) {
  const top = opts.top ?? 'net';
  const code = opts.code ?? { '__torch__.py': NET_PY, '__torch__/torch/nn/modules/linear.py': LINEAR_PY };
  const constants = pickle().proto(2).mark();
  tensor(constants, { key: 'c0', storage: 'LongStorage', shape: [3] });
  const members: ZipMemberSpec[] = [
    { name: `${top}/data.pkl`, data: opts.data ?? netPickle() },
    ...Object.entries(code).map(([k, v]) => ({ name: `${top}/code/${k}`, data: v, method: 'deflate' as const })),
    { name: `${top}/constants.pkl`, data: constants.int(5).tuple().stop().build_() },
    { name: `${top}/data/0`, data: new Uint8Array(24) },
    { name: `${top}/data/1`, data: new Uint8Array(8) },
    { name: `${top}/data/2`, data: new Uint8Array(16) },
    { name: `${top}/data/3`, data: new Uint8Array(4) },
    { name: `${top}/constants/c0`, data: new Uint8Array(24) },
    { name: `${top}/version`, data: '3\n' },
    ...Object.entries(opts.records ?? {}).map(([k, v]) => ({ name: `${top}/${k}`, data: v })),
  ];
  return buildZip(members);
}

const run = (bytes: Uint8Array, name = 'net.pt') => inspectSource(new BytesSource(bytes, name), { path: name });
const names = (r: ModelReport) => r.tensors.items.map((t) => t.name);
const codes = (r: ModelReport) => r.diagnostics.map((d) => d.code);

describe('torchscript code files', () => {
  it('parses classes: parameters, buffers, attributes, methods', () => {
    const [c] = parseClasses('__torch__.torch.nn.modules.linear', LINEAR_PY);
    assert.equal(c!.name, '__torch__.torch.nn.modules.linear.Linear');
    assert.equal(c!.base, 'Module');
    assert.deepEqual(c!.parameters, ['weight', 'bias']);
    assert.deepEqual(c!.buffers, ['count']);
    assert.equal(c!.attributes.get('bias'), 'Optional[Tensor]');
    assert.equal(c!.attributes.has('out_features'), false, 'Final constants are not attributes');
    assert.deepEqual(c!.methods, ['forward']);
    assert.equal(codeFileOf('__torch__.torch.nn.modules.linear.___torch_mangle_0'), 'code/__torch__/torch/nn/modules/linear/___torch_mangle_0.py');
    assert.equal(codeFileOf('__torch__'), 'code/__torch__.py');
  });
});

describe('torchscript inspect', () => {
  it('state_dict() names from the declared parameters and buffers; the rest listed apart', async () => {
    const z = archive();
    const r = await run(z.bytes);
    assert.equal(r.format.id, 'torchscript');
    assert.deepEqual(names(r), ['lin.weight', 'lin.count'], 'None parameters are skipped, plain tensor attributes are not in state_dict()');
    assert.deepEqual(r.tensors.items.map((t) => [t.dtype, t.shape, t.byteLength]), [['f32', [2, 3], 24], ['i64', [], 8]]);
    assert.equal(r.tensors.items[0]!.offset, z.members.find((m) => m.name === 'net/data/0')!.dataOffset);
    assert.equal(r.architecture, 'Net');
    const d = r.details!;
    assert.deepEqual(d.methods, ['forward', 'helper']);
    assert.deepEqual(d.tensorAttributes, ['lin.cache']);
    assert.deepEqual(d.customObjects, [{ name: 'packed', class: '__torch__.torch.classes.quantized.LinearPackedParamsBase', tensors: [{ name: '0', dtype: 'qint8', shape: [2, 2], storage: '3', scheme: 'per_tensor_affine' }] }]);
    assert.match(r.quantization!.summary, /LinearPackedParamsBase objects \(not in state_dict\(\)\): 1 qint8 per_tensor_affine/);
    assert.deepEqual(d.constantTensors, [{ index: 0, dtype: 'i64', shape: [3], storage: 'constants/c0' }]);
    assert.equal(d.constants, 2);
    assert.deepEqual((d.codeFiles as { path: string }[]).map((f) => f.path).sort(), ['code/__torch__.py', 'code/__torch__/torch/nn/modules/linear.py']);
    assert.equal(d.versionRecord, 3);
    assert.deepEqual(r.diagnostics, []);
  });

  it('a class without code: every tensor attribute is counted, with CODE_MISSING', async () => {
    const r = await run(archive({ code: { '__torch__.py': NET_PY } }).bytes);
    assert.deepEqual(names(r), ['lin.weight', 'lin.count', 'lin.cache']);
    assert.ok(codes(r).includes('CODE_MISSING'));
  });

  it('lite interpreter: bytecode version, methods and operator counts; producer_info', async () => {
    const ins = (op: string, a: number) => (b: PickleBuilder) => b.str(op).int(a).int(0).tuple3();
    const b = pickle().proto(2).mark().int(8).str('__torch__.Net.forward').mark();
    b.str('instructions').mark();
    for (const f of [ins('OP', 0), ins('OP', 1), ins('OP', 0), ins('RET', 0)]) f(b);
    b.tuple().tuple2();
    b.str('operators').mark().str('aten::linear').str('').int(3).tuple3().str('aten::add').str('Tensor').int(3).tuple3().tuple().tuple2();
    b.tuple().tuple2().tuple().stop();
    const r = await run(archive({ records: { 'bytecode.pkl': b.build_(), 'extra/producer_info.json': enc('{"producer":"exporter","version":"2.1"}') } }).bytes, 'net.ptl');
    assert.equal(r.format.variant, 'torchscript-lite');
    assert.equal(r.details?.bytecodeVersion, 8);
    assert.deepEqual(r.details?.bytecodeMethods, ['__torch__.Net.forward']);
    assert.deepEqual(r.details?.bytecodeOperators, { 'aten::linear': 2, 'aten::add.Tensor': 1 });
    assert.equal(r.producer, 'exporter 2.1');
    assert.deepEqual(r.details?.extraFiles, ['extra/producer_info.json']);
  });

  it('torch 1.0–1.2 model.json layout', async () => {
    const model = {
      protoVersion: '2', producerName: 'pytorch', producerVersion: '1.1',
      mainModule: { name: 'Top', parameters: [{ name: 'w', tensorId: '0' }], submodules: [{ name: 'bn', parameters: [{ name: 'running_mean', tensorId: '1', isBuffer: true }] }] },
      tensors: [
        { dims: ['2', '2'], offset: '0', strides: ['2', '1'], dataType: 'FLOAT', data: { key: 'tensors/0' } },
        { dims: ['2'], offset: '1', strides: ['1'], dataType: 'DOUBLE', data: { key: 'tensors/1' } },
      ],
    };
    const z = buildZip([
      { name: 'm/model.json', data: JSON.stringify(model) },
      { name: 'm/tensors/0', data: new Uint8Array(16) },
      { name: 'm/tensors/1', data: new Uint8Array(24) },
      { name: 'm/code/m.py', data: 'op_version_set = 1\n' },
      { name: 'm/version', data: '1\n' },
    ]);
    const r = await run(z.bytes);
    assert.equal(r.format.id, 'torchscript');
    assert.deepEqual(r.tensors.items.map((t) => [t.name, t.dtype, t.shape]), [['w', 'f32', [2, 2]], ['bn.running_mean', 'f64', [2]]]);
    assert.equal(r.tensors.items[1]!.offset, z.members.find((m) => m.name === 'm/tensors/1')!.dataOffset + 8);
    assert.equal(r.producer, 'pytorch 1.1');
    assert.equal(r.architecture, 'Top');
  });

  it('hostile: os.system in data.pkl is reported; deep and cyclic trees do not crash', async () => {
    const r = await run(archive({ data: netPickle((x) => x.str('evil').global('os', 'system').mark().str('id').tuple().reduce()) }).bytes);
    assert.deepEqual(names(r), ['lin.weight', 'lin.count']);
    const d = r.diagnostics.find((x) => x.code === 'UNSAFE_PICKLE');
    assert.match(d!.message, /os\.system/);

    const cyc = pickle().proto(2).global('__torch__', 'Net').emptyTuple().newobj().binput(0).emptyDict().mark().str('me').binget(0).str('training').raw(0x89).setitems().build().stop().build_();
    const rc = await run(archive({ data: cyc }).bytes);
    assert.equal(rc.tensors.count, 0);

    const deep = pickle().proto(2);
    for (let i = 0; i < 300; i++) deep.global('__torch__', 'Net').emptyTuple().newobj().emptyDict().mark().str('training').raw(0x89).str('lin');
    deep.none();
    for (let i = 0; i < 300; i++) deep.setitems().build();
    const rd = await run(archive({ data: deep.stop().build_() }).bytes);
    assert.ok(codes(rd).includes('LIMIT_EXCEEDED'));
  });

  it('a 10 GB TorchScript archive is inspected reading well under 1 MiB', async () => {
    const GB = 1024 ** 3;
    const b = pickle().proto(2);
    object(b, '__torch__.torch.nn.modules.linear', 'Linear', (y) => {
      tensor(y.str('weight'), { key: '0', shape: [50000, 50000] });
      tensor(y.str('bias'), { key: '1', shape: [50000] });
      y.str('count').none();
    });
    const members = [
      { name: 'big/data.pkl', data: b.stop().build_() },
      { name: 'big/code/__torch__/torch/nn/modules/linear.py', data: enc(LINEAR_PY) },
      { name: 'big/constants.pkl', data: pickle().proto(2).emptyTuple().stop().build_() },
      { name: 'big/data/0', size: 10 * GB },
      { name: 'big/data/1', size: 200000 },
      { name: 'big/version', data: enc('3\n') },
    ];
    const src = new SparseSource(sparseZipSize(members), 'big.pt');
    const at = sparseZip(src, members);
    const r = await inspectSource(src, { path: 'big.pt' });
    assert.equal(r.format.id, 'torchscript');
    assert.deepEqual(names(r), ['weight', 'bias']);
    assert.equal(r.tensors.items[0]!.offset, at.get('big/data/0'));
    assert.ok(src.bytesRead < 1024 * 1024, `read ${src.bytesRead} bytes`);
  });

  it('FlatBuffers lite modules: identified, tensors not listed yet (diagnostic)', async () => {
    const fb = new Uint8Array(64);
    new DataView(fb.buffer).setUint32(0, 16, true);
    fb.set(enc('PTMF'), 4);
    const r = await run(fb, 'm.ptl');
    assert.equal(r.format.id, 'torchscript');
    assert.ok(codes(r).includes('UNSUPPORTED_VARIANT'));
  });
});
