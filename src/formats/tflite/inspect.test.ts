import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspectSource, locateSource } from '../../inspect/inspect.js';
import { BytesSource, type ByteSource } from '../../io/source.js';
import { ModelwiseError } from '../../errors.js';
import { SparseSource } from '../../../test/helpers/sparse-source.js';
import { buildZip } from '../../../test/helpers/zip-writer.js';
import { tflite } from './index.js';
import { TensorType, BuiltinOperator } from './generated/schema_generated.js';
import { buildModel, buildModelMetadata, type ModelSpec } from './build-model.test-util.js';
import type { TensorInfo } from '../../types.js';

const enc = (s: string) => new TextEncoder().encode(s);
const i8 = (n: number, f = (i: number) => i) => Uint8Array.from({ length: n }, (_, i) => f(i) & 0xff);

function spec(over: Partial<ModelSpec> = {}): ModelSpec {
  return {
    description: 'MLIR Converted.',
    opcodes: [
      { deprecated: BuiltinOperator.CONV_2D, builtin: BuiltinOperator.CONV_2D, version: 3 },
      { deprecated: BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES, builtin: BuiltinOperator.GELU },
      { deprecated: BuiltinOperator.CUSTOM, builtin: BuiltinOperator.CUSTOM, custom: 'FlexAddV2' },
      { deprecated: BuiltinOperator.CUSTOM, custom: 'MyOp' },
      { deprecated: BuiltinOperator.FULLY_CONNECTED },
    ],
    tensors: [
      { name: 'input', type: TensorType.INT8, shape: [1, 4, 4, 2], buffer: 0, signature: [-1, 4, 4, 2], scale: [0.5], zeroPoint: [-3] },
      { name: 'conv/w', type: TensorType.INT8, shape: [3, 1, 1, 2], buffer: 1, scale: [0.1, 0.2, 0.3], zeroPoint: [0, 0, 0], axis: 0 },
      { name: 'conv/b', type: TensorType.INT32, shape: [3], buffer: 2 },
      { name: 'fc/w', type: TensorType.FLOAT32, shape: [8, 4], buffer: 3 },
      { name: 'empty-buffer', type: TensorType.FLOAT32, shape: [5], buffer: 4 },
      { name: 'output', type: TensorType.FLOAT32, shape: [1, 8], buffer: 0 },
    ],
    inputs: [0],
    outputs: [5],
    operators: [0, 1, 2, 2, 3, 4],
    buffers: [{}, { data: i8(6) }, { data: i8(12, (i) => 100 + i) }, {}, {}, { data: enc('1.14.0\0\0\0\0') }, {}],
    metadata: [{ name: 'min_runtime_version', buffer: 5 }],
    signature: { key: 'serving_default', inputs: [['x', 0]], outputs: [['y', 5]] },
    extraSubgraphs: [{ name: 'body', operators: [4] }],
    ...over,
  };
}

/** A model with fc/w stored externally at `at` (past the flatbuffer) and the TFLite metadata. */
function withExternal(at: number, fcSize = 128): ModelSpec {
  const s = spec();
  s.buffers[3] = { offset: at, size: fcSize };
  return s;
}

async function implFor(source: ByteSource, path: string) {
  const { id, probe } = await locateSource(source, { path });
  const impl = await tflite.load!();
  return { read: (t: TensorInfo) => impl.readTensor!({ id, probe, options: {} }, t) };
}

describe('tflite inspect', () => {
  it('reads tensors, quantization, graph, ops, signatures and metadata', async () => {
    const fb = buildModel(withExternal(1 << 20));
    const ext = new Uint8Array(fb.length + 64 + 128);
    const fb2 = buildModel(withExternal(fb.length + 64));
    assert.equal(fb2.length, fb.length);
    ext.set(fb2);
    const r = await inspectSource(new BytesSource(ext, 'm.tflite'), { path: 'm.tflite' });
    assert.equal(r.format.id, 'tflite');
    assert.equal(r.format.version, '3');
    assert.equal(r.producer, 'MLIR Converted.');
    assert.deepEqual(r.tensors.items.map((t) => [t.name, t.dtype, t.shape]), [
      ['conv/w', 'i8', [3, 1, 1, 2]],
      ['conv/b', 'i32', [3]],
      ['fc/w', 'f32', [8, 4]],
    ]);
    const w = r.tensors.items[0]!;
    assert.deepEqual(w.quantization, { scheme: 'affine-per-axis', scale: [0.1, 0.2, 0.3], zeroPoint: [0, 0, 0], axis: 0 });
    assert.equal(r.tensors.items[2]!.offset, fb.length + 64);
    assert.equal(r.parameters.total, 6 + 3 + 32);
    assert.deepEqual(r.graph!.inputs, [{ name: 'input', dtype: 'i8', shape: [1, 4, 4, 2], shapeSignature: ['?', 4, 4, 2], quantization: { scheme: 'affine', scale: 0.5, zeroPoint: -3 } }]);
    assert.deepEqual(r.graph!.outputs.map((o) => o.name), ['output']);
    assert.deepEqual(r.graph!.ops, { CONV_2D: 1, GELU: 1, FlexAddV2: 2, MyOp: 1, FULLY_CONNECTED: 1 });
    const d = r.details as Record<string, any>;
    assert.deepEqual(d.flexOps, ['FlexAddV2']);
    assert.deepEqual(d.customOps, ['FlexAddV2', 'MyOp']);
    assert.deepEqual(d.subgraphs.map((g: any) => [g.name, g.tensors, g.operators]), [['main', 6, 6], ['body', 0, 1]]);
    assert.deepEqual(d.subgraphs[1].ops, { FULLY_CONNECTED: 1 });
    assert.deepEqual(d.signatureDefs, [{ key: 'serving_default', subgraphIndex: 0, inputs: ['x'], outputs: ['y'] }]);
    assert.equal(d.operatorCodes[0].version, 3);
    assert.deepEqual(d.buffers, { count: 7, inline: 3, inlineBytes: 28, external: 1, externalBytes: 128, empty: 3, damaged: 0 });
    assert.equal(r.metadata.min_runtime_version, '1.14.0');
    assert.equal(d.minRuntimeVersion, '1.14.0');
    assert.deepEqual(r.diagnostics, []);
    assert.match(r.quantization!.summary, /1 per-axis/);
  });

  it('readTensor returns inline and external bytes', async () => {
    const fbLen = buildModel(withExternal(1 << 20)).length;
    const bytes = new Uint8Array(fbLen + 64 + 128);
    bytes.set(buildModel(withExternal(fbLen + 64)));
    bytes.set(i8(128, (i) => 255 - i), fbLen + 64);
    const src = new BytesSource(bytes, 'm.tflite');
    const r = await inspectSource(src, { path: 'm.tflite' });
    const { read } = await implFor(src, 'm.tflite');
    assert.deepEqual([...(await read(r.tensors.items[0]!))], [0, 1, 2, 3, 4, 5]);
    assert.deepEqual([...(await read(r.tensors.items[1]!))], [...i8(12, (i) => 100 + i)]);
    assert.deepEqual([...(await read(r.tensors.items[2]!))], [...i8(128, (i) => 255 - i)]);
  });

  it('decodes TFLITE_METADATA (M001) and lists an appended zip of associated files', async () => {
    const s = spec();
    const meta = buildModelMetadata({ name: 'Tiny classifier', version: 'v2', author: 'me', license: 'MIT', files: ['labels.txt'] });
    s.buffers[6] = { data: meta };
    s.metadata = [...s.metadata!, { name: 'TFLITE_METADATA', buffer: 6 }];
    const z = buildZip([{ name: 'labels.txt', data: 'cat\ndog\n' }], { prefix: buildModel(s) });
    const r = await inspectSource(new BytesSource(z.bytes, 'm.tflite'), { path: 'm.tflite' });
    const d = r.details as Record<string, any>;
    assert.equal(r.architecture, 'Tiny classifier');
    assert.deepEqual(d.modelMetadata, { name: 'Tiny classifier', version: 'v2', author: 'me', license: 'MIT', associatedFiles: [{ name: 'labels.txt', type: 'TENSOR_AXIS_LABELS' }] });
    assert.deepEqual(d.associatedFiles, [{ name: 'labels.txt', size: 8 }]);
    assert.equal((r.metadata.TFLITE_METADATA as any).author, 'me');
  });

  it('reads a small, size-independent amount of a huge model (external buffers past the flatbuffer)', async () => {
    const counts: number[] = [];
    for (const size of [10e9, 50e9]) {
      const s = spec();
      s.buffers[3] = { offset: 4e9, size: 2e9 };
      s.buffers[1] = { data: i8(6) };
      s.buffers[2] = { offset: size - 3e9, size: 12 };
      s.tensors[1]!.shape = [3, 1, 1, 2];
      s.tensors[2]!.shape = [3];
      s.tensors[3]!.shape = [250_000_000, 2];
      const fb = buildModel(s);
      const src = new SparseSource(size, 'big.tflite').write(0, fb);
      const r = await inspectSource(src, { path: 'big.tflite' });
      assert.equal(r.tensors.count, 3);
      assert.equal(r.parameters.total, 6 + 3 + 500_000_000);
      assert.equal(r.tensors.items[2]!.byteLength, 2e9);
      assert.ok(src.bytesRead < 1024 * 1024, `read ${src.bytesRead} bytes`);
      counts.push(src.bytesRead);
    }
    assert.equal(counts[0], counts[1]);
  });

  it('never reads inline weight payloads', async () => {
    const s = spec();
    s.buffers[3] = { data: new Uint8Array(4 * 1024 * 1024) };
    s.tensors[3]!.shape = [1024, 1024];
    const fb = buildModel(s);
    const src = new SparseSource(fb.length, 'inline.tflite').write(0, fb);
    const r = await inspectSource(src, { path: 'inline.tflite' });
    assert.equal(r.tensors.items[2]!.byteLength, 4 * 1024 * 1024);
    assert.ok(src.bytesRead < 512 * 1024, `read ${src.bytesRead} bytes`);
  });

  it('reports damage as diagnostics: out-of-bounds buffers, size mismatch, no identifier', async () => {
    const s = spec({ identifier: false });
    s.buffers[3] = { offset: 1e6, size: 128 };
    s.tensors[2]!.shape = [4];
    const fb = buildModel(s);
    const r = await inspectSource(new BytesSource(fb, 'old.tflite'), { path: 'old.tflite' });
    const codes = r.diagnostics.map((d) => d.code).sort();
    assert.deepEqual(codes, ['NO_IDENTIFIER', 'TENSOR_OUT_OF_BOUNDS', 'TENSOR_SIZE_MISMATCH']);
    const { read } = await implFor(new BytesSource(fb, 'old.tflite'), 'old.tflite');
    await assert.rejects(read(r.tensors.items[1]!), (e: ModelwiseError) => e.code === 'UNSUPPORTED');
    await assert.rejects(read(r.tensors.items[2]!), (e: ModelwiseError) => e.code === 'UNEXPECTED_EOF');
  });

  it('sparse tensors are listed but refused by readTensor', async () => {
    const s = spec();
    s.tensors[3] = { name: 'fc/w', type: TensorType.FLOAT32, shape: [8, 4], buffer: 3, sparse: true };
    s.buffers[3] = { data: i8(16) };
    const src = new BytesSource(buildModel(s), 'sp.tflite');
    const r = await inspectSource(src, { path: 'sp.tflite' });
    assert.deepEqual(r.diagnostics, []);
    const { read } = await implFor(src, 'sp.tflite');
    await assert.rejects(read(r.tensors.items[2]!), (e: ModelwiseError) => e.code === 'UNSUPPORTED');
  });

  it('a lying vector length is refused before any loop runs', async () => {
    const fb = buildModel(spec());
    // Find the buffers vector length (7) right before its offsets and make it huge.
    const dv = new DataView(fb.buffer);
    let patched = 0;
    for (let p = 8; p + 4 <= fb.length; p += 4) {
      if (dv.getUint32(p, true) === 7 && patched === 0) {
        const b = fb.slice();
        new DataView(b.buffer).setUint32(p, 0x3fffffff, true);
        try {
          const r = await inspectSource(new BytesSource(b, 'x.tflite'), { path: 'x.tflite' });
          assert.ok(r.format.id === 'tflite');
        } catch (e) {
          assert.ok(e instanceof ModelwiseError, String(e));
          patched++;
        }
      }
    }
    assert.ok(patched > 0);
  });

  it('corrupted files yield a report or a ModelwiseError, never a crash or hang', async () => {
    const base = buildModel(spec());
    let reports = 0;
    let errors = 0;
    for (let i = 8; i < base.length; i += 5) {
      for (const v of [0xff, 0x00]) {
        const b = base.slice();
        b[i] = v;
        b[i + 1] = 0x7f;
        try {
          await inspectSource(new BytesSource(b, 'f.tflite'), { path: 'f.tflite' });
          reports++;
        } catch (e) {
          if (!(e instanceof ModelwiseError)) throw e;
          errors++;
        }
      }
    }
    assert.ok(reports > 0 && errors >= 0);
  });
});
