/**
 * An ExecuTorch program (`.pte`, schema/program.fbs of pytorch/executorch) as `to_executorch()`
 * writes it today: the "ET12" FlatBuffer with the 32-byte extended header "eh00" at offset 8
 * (program_size, segment_base_offset, segment_data_size), constant tensors in one data segment
 * after the program (segment base aligned to 128), located by `constant_segment.offsets`
 * (offsets[0] is the reserved placeholder). The plan `forward` is an MLP of mm/relu KernelCalls
 * over `tensorCount` FLOAT16 weights; the segment is a hole.
 */
import { fb, finishFlatbuffer, type FbNode, type FbTable } from './flatbuffers.js';
import type { Piece } from './sparse.js';

const HALF = 5; // ScalarType.HALF (schema/scalar_type.fbs)
const KT_TENSOR = 5; // KernelTypes.Tensor
const IA_KERNEL_CALL = 1; // InstructionArguments.KernelCall
const HEADER = 32;

function tensor(sizes: number[], dataBufferIdx: number, memoryOffset?: number): FbTable {
  // scalar_type, storage_offset, sizes, dim_order, requires_grad, data_buffer_idx, allocation_info, layout, shape_dynamism
  return fb.table(
    fb.i8(HALF),
    fb.i32(0),
    fb.vec('i32', sizes),
    fb.vec('u8', sizes.map((_, i) => i)),
    fb.bool(false),
    fb.u32(dataBufferIdx),
    memoryOffset === undefined ? undefined : fb.table(fb.u32(1), fb.u32(memoryOffset % 2 ** 32), fb.u32(Math.floor(memoryOffset / 2 ** 32))),
    fb.i8(0),
    fb.i8(0),
  );
}

const evalue = (t: FbTable): FbTable => fb.table(fb.u8(KT_TENSOR), t);

export function executorchLayout(targetSize: number, tensorCount = 300): { size: number; pieces: Piece[] } {
  const hidden = 8192;
  const layers = Math.floor(tensorCount / 2);
  const ffn = Math.max(1, Math.floor(targetSize / tensorCount / 2 / hidden));
  const per = hidden * ffn * 2;
  const perAligned = Math.ceil(per / 16) * 16;
  const values: FbNode[] = [evalue(tensor([1, hidden], 0, 0))];
  const weights: number[] = [];
  for (let i = 0; i < tensorCount; i++) {
    weights.push(values.length);
    values.push(evalue(tensor(i % 2 === 0 ? [hidden, ffn] : [ffn, hidden], i + 1)));
  }
  const instructions: FbNode[] = [];
  const call = (op: number, args: number[]) => instructions.push(fb.table(fb.u8(IA_KERNEL_CALL), fb.table(fb.i32(op), fb.vec('i32', args))));
  let h = 0;
  let arena = 0;
  const activation = (cols: number) => {
    const idx = values.length;
    values.push(evalue(tensor([1, cols], 0, arena)));
    arena += cols * 2;
    return idx;
  };
  for (let l = 0; l < layers; l++) {
    const up = activation(ffn);
    call(0, [h, weights[2 * l]!, up, up]);
    const relu = activation(ffn);
    call(1, [up, relu, relu]);
    const down = activation(hidden);
    call(0, [relu, weights[2 * l + 1]!, down, down]);
    h = down;
  }
  const plan = fb.table(
    fb.str('forward'),
    // The pytree specs torch.export writes for forward(x) -> y.
    fb.table(
      fb.str('[1, {"type": "builtins.tuple", "context": "null", "children_spec": [{"type": "builtins.tuple", "context": "null", "children_spec": [{"type": null, "context": null, "children_spec": []}]}, {"type": "builtins.dict", "context": "[]", "children_spec": []}]}]'),
      fb.str('[1, {"type": null, "context": null, "children_spec": []}]'),
    ),
    fb.vecOf(values),
    fb.vec('i32', [0]),
    fb.vec('i32', [h]),
    fb.vecOf([fb.table(fb.vec('i32', [0]), fb.vec('i32', [h]), fb.vecOf(instructions))]),
    fb.vecOf([fb.table(fb.str('aten::mm'), fb.str('out')), fb.table(fb.str('aten::relu'), fb.str('out'))]),
    fb.vecOf([]),
    fb.vec('i64', [0, arena]),
  );
  const segmentSize = perAligned * (tensorCount - 1) + per;
  const offsets = [0, ...Array.from({ length: tensorCount }, (_, i) => i * perAligned)];
  const program = fb.table(
    fb.u32(0), // version
    fb.vecOf([plan]),
    undefined, // constant_buffer (deprecated)
    undefined, // backend_delegate_data
    fb.vecOf([fb.table(fb.u64(0), fb.u64(segmentSize))]),
    fb.table(fb.u32(0), fb.vec('u64', offsets)),
  );
  const bytes = finishFlatbuffer(program, 'ET12', HEADER);
  const base = Math.ceil(bytes.length / 128) * 128;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  new TextEncoder().encodeInto('eh00', bytes.subarray(8, 12));
  dv.setUint32(12, HEADER, true);
  dv.setBigUint64(16, BigInt(bytes.length), true);
  dv.setBigUint64(24, BigInt(base), true);
  dv.setBigUint64(32, BigInt(segmentSize), true);
  return { size: base + segmentSize, pieces: [{ offset: 0, bytes }] };
}
