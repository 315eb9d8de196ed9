import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspectSource } from '../../inspect/inspect.js';
import { BytesSource } from '../../io/source.js';
import { SparseSource } from '../../../test/helpers/sparse-source.js';
import { buildFlatbuffer, bytes, ref, refs, s, scalars, str, table, type FbNode } from '../../../test/helpers/flatbuffer-builder.js';

/** Tensor table (program.fbs field order). */
function tensor(scalarType: number, sizes: number[], dataBufferIdx: number, opts: { mutable?: boolean; fqn?: string; external?: boolean } = {}): FbNode {
  const extra = opts.fqn !== undefined ? table(undefined, ref(str(opts.fqn)), s('i8', opts.external ? 1 : 0)) : undefined;
  return table(s('i8', scalarType), undefined, ref(scalars('i32', sizes)), undefined, undefined, s('u32', dataBufferIdx), opts.mutable ? ref(table(s('u32', 0))) : undefined, undefined, undefined, extra ? ref(extra) : undefined);
}
const evalue = (type: number, val: FbNode) => table(s('u8', type), ref(val));
const kernel = (op: number) => table(s('u8', 1), ref(table(s('i32', op), ref(scalars('i32', [])))));
const delegateCall = (d: number) => table(s('u8', 2), ref(table(s('i32', d), ref(scalars('i32', [])))));

function program(segmentSize: number | bigint, constOffsets: (number | bigint)[], firstOp = 0): FbNode {
  const plan = table(
    ref(str('forward')),
    undefined,
    ref(refs([
      evalue(5, tensor(6, [2, 3], 1)), // 0: constant f32[2,3]
      evalue(5, tensor(6, [1, 3], 0)), // 1: input
      evalue(2, table(s('i64', 4n))), // 2: Int
      evalue(5, tensor(6, [1, 3], 0)), // 3: output
      evalue(5, tensor(1, [4], 2)), // 4: constant i8[4]
      evalue(5, tensor(1, [4], 2)), // 5: same buffer as 4 (deduplicated constant)
    ])),
    ref(scalars('i32', [1, 2])),
    ref(scalars('i32', [3])),
    ref(refs([table(undefined, undefined, ref(refs([kernel(firstOp), delegateCall(0), kernel(1), kernel(0)])))])),
    ref(refs([table(ref(str('aten::add')), ref(str('out'))), table(ref(str('aten::relu')), ref(str('')))])),
    ref(refs([table(ref(str('XnnpackBackend')), ref(table(s('i8', 1), s('u32', 0))))])),
  );
  return table(
    s('u32', 0),
    ref(refs([plan])),
    undefined,
    undefined,
    ref(refs([table(s('u64', 0), s('u64', segmentSize))])),
    ref(table(s('u32', 0), ref(scalars('u64', constOffsets)))),
  );
}

function extendedHeader(programSize: number, segmentBase: number): Uint8Array {
  const h = new Uint8Array(24);
  const dv = new DataView(h.buffer);
  h.set([0x65, 0x68, 0x30, 0x30]); // "eh00"
  dv.setUint32(4, 24, true);
  dv.setBigUint64(8, BigInt(programSize), true);
  dv.setBigUint64(16, BigInt(segmentBase), true);
  return h;
}

/** A .pte: flatbuffer (with eh00) + segment data at `segmentBase`. */
function pte(segmentSize: number): Uint8Array {
  const first = buildFlatbuffer(program(segmentSize, [0, 0, 64]), 'ET12', extendedHeader(0, 0)).bytes;
  const base = Math.ceil(first.length / 64) * 64;
  const { bytes: b } = buildFlatbuffer(program(segmentSize, [0, 0, 64]), 'ET12', extendedHeader(first.length, base));
  const out = new Uint8Array(base + segmentSize);
  out.set(b);
  return out;
}

describe('executorch inspect', () => {
  it('reads plans, constant tensors, IO, operators, delegates and segments', async () => {
    const b = pte(128);
    const r = await inspectSource(new BytesSource(b, 'model.pte'));
    assert.equal(r.format.id, 'executorch');
    assert.deepEqual(r.tensors.items.map((t) => [t.name, t.dtype, t.shape]), [
      ['forward/values/0', 'f32', [2, 3]],
      ['forward/values/4', 'i8', [4]],
      ['forward/values/5', 'i8', [4]],
    ]);
    const base = (r.details!.extendedHeader as { segmentBaseOffset: number }).segmentBaseOffset;
    assert.equal(r.tensors.items[0]!.offset, base + 0);
    assert.equal(r.tensors.items[1]!.offset, base + 64);
    assert.equal(r.tensors.items[0]!.byteLength, 24);
    assert.deepEqual(r.tensors.items[1]!.tiedWith, ['forward/values/5']);
    assert.deepEqual(r.graph!.inputs, [{ name: 'forward/values/1', dtype: 'f32', shape: [1, 3] }, { name: 'forward/values/2', dtype: 'int', shape: [] }]);
    assert.deepEqual(r.graph!.outputs, [{ name: 'forward/values/3', dtype: 'f32', shape: [1, 3] }]);
    assert.deepEqual(r.graph!.ops, { 'aten::add.out': 2, 'delegate:XnnpackBackend': 1, 'aten::relu': 1 });
    assert.deepEqual(r.details!.backends, ['XnnpackBackend']);
    assert.ok(r.diagnostics.some((d) => d.code === 'EXECUTORCH_DELEGATED'));
    assert.ok(!r.diagnostics.some((d) => d.code === 'TENSOR_OUT_OF_BOUNDS'));
  });

  it('keeps the report when an instruction names a missing operator', async () => {
    const { bytes: b } = buildFlatbuffer(program(0, [0, 0, 0], 7), 'ET12');
    const r = await inspectSource(new BytesSource(b, 'badop.pte'));
    assert.deepEqual(r.graph!.ops, { 'aten::add.out': 1, 'delegate:XnnpackBackend': 1, 'aten::relu': 1 });
    assert.ok(r.diagnostics.some((d) => d.code === 'EXECUTORCH_BAD_OPERATOR_INDEX'));
    // Constants in a segment, but no extended header to locate it.
    assert.ok(r.diagnostics.some((d) => d.code === 'EXECUTORCH_BAD_BUFFER_INDEX'));
    assert.equal(r.tensors.items[0]!.offset, null);
  });

  it('reports truncated segment data', async () => {
    const b = pte(128);
    const r = await inspectSource(new BytesSource(b.subarray(0, b.length - 100), 'cut.pte'));
    assert.ok(r.diagnostics.some((d) => d.code === 'TENSOR_OUT_OF_BOUNDS'));
  });

  it('reads a bundled program through the program it embeds', async () => {
    const inner = pte(128);
    const { bytes: b } = buildFlatbuffer(table(s('u32', 1), ref(refs([table(ref(str('forward')), ref(refs([table()])))])), ref(bytes(inner))), 'BP08');
    const r = await inspectSource(new BytesSource(b, 'model.bpte'));
    assert.equal(r.format.variant, 'bundled-program');
    assert.equal(r.tensors.count, 3);
    const bp = r.details!.bundledProgram as { programOffset: number; methodTestSuites: unknown };
    assert.deepEqual(bp.methodTestSuites, [{ method: 'forward', testCases: 1 }]);
    // Offsets are absolute in the .bpte.
    const innerBase = (r.details!.extendedHeader as { segmentBaseOffset: number }).segmentBaseOffset;
    assert.equal(r.tensors.items[0]!.offset, bp.programOffset + innerBase);
  });

  it('reads a 10 GB program touching only the flatbuffer', async () => {
    const GB = 1024 ** 3;
    const first = buildFlatbuffer(program(10 * GB, [0, 0, 5 * GB]), 'ET12', extendedHeader(0, 0)).bytes;
    const base = Math.ceil(first.length / 4096) * 4096;
    const { bytes: fbBytes } = buildFlatbuffer(program(10 * GB, [0, 0, 5 * GB]), 'ET12', extendedHeader(first.length, base));
    const src = new SparseSource(base + 10 * GB, 'big.pte').write(0, fbBytes);
    const r = await inspectSource(src, { path: 'big.pte' });
    assert.equal(r.tensors.count, 3);
    assert.equal(r.tensors.items[1]!.offset, base + 5 * GB);
    assert.ok(src.bytesRead < 1024 * 1024, `read ${src.bytesRead}`);
  });

  it('fails cleanly on a bad root offset, diagnoses a lying program size', async () => {
    const b = pte(128);
    const badRoot = b.slice();
    new DataView(badRoot.buffer).setUint32(0, b.length + 4096, true);
    await assert.rejects(inspectSource(new BytesSource(badRoot, 'x.pte')));
    // A lying program_size in the extended header: diagnosed, the file is still read.
    const badSize = b.slice();
    new DataView(badSize.buffer).setBigUint64(16, 1n << 40n, true);
    const r = await inspectSource(new BytesSource(badSize, 'y.pte'));
    assert.ok(r.diagnostics.some((d) => d.code === 'EXECUTORCH_BAD_PROGRAM_SIZE'));
    assert.equal(r.tensors.count, 3);
  });
});
