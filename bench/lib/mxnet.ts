/**
 * An MXNet checkpoint as `mod.save_checkpoint('model', 0)` writes it (src/ndarray/ndarray.cc
 * NDArray::Save / the list format of MXNDArraySave):
 *   model-symbol.json — the NNVM graph (data → FullyConnected/Activation × layers → SoftmaxOutput,
 *                       `mxnet_version` 10900 = MXNet 1.9.0);
 *   model-0000.params — kMXAPINDArrayListMagic 0x112, reserved, array count; per array the V2
 *                       header (0xF993FAC9, dense storage, TShape as u32 ndim + i64 dims, cpu
 *                       context, dtype float32) followed by its data — a hole — then the names
 *                       (`arg:fcN_weight`, `arg:fcN_bias`). Every header sits between two holes, so
 *                       an inspector has to seek from array to array.
 */
import { ByteWriter } from './bytes.js';
import type { Piece, TreeFile } from './sparse.js';

export function mxnetLayout(targetSize: number, tensors = 300): { files: Record<string, TreeFile>; tensors: number } {
  const hidden = 8192;
  const layers = Math.floor(tensors / 2);
  const ffn = Math.max(1, Math.floor(targetSize / layers / 4 / hidden));
  const arrays: { name: string; shape: number[] }[] = [];
  const nodes: { op: string; name: string; attrs?: Record<string, string>; inputs: number[][] }[] = [{ op: 'null', name: 'data', inputs: [] }];
  const args: number[] = [0];
  let h = 0;
  for (let l = 0; l < layers; l++) {
    const units = l % 2 === 0 ? ffn : hidden;
    const inDim = l % 2 === 0 ? hidden : ffn;
    arrays.push({ name: `arg:fc${l}_weight`, shape: [units, inDim] }, { name: `arg:fc${l}_bias`, shape: [units] });
    nodes.push({ op: 'null', name: `fc${l}_weight`, attrs: { num_hidden: String(units) }, inputs: [] });
    args.push(nodes.length - 1);
    nodes.push({ op: 'null', name: `fc${l}_bias`, attrs: { num_hidden: String(units) }, inputs: [] });
    args.push(nodes.length - 1);
    nodes.push({ op: 'FullyConnected', name: `fc${l}`, attrs: { num_hidden: String(units) }, inputs: [[h, 0, 0], [nodes.length - 2, 0, 0], [nodes.length - 1, 0, 0]] });
    nodes.push({ op: 'Activation', name: `relu${l}`, attrs: { act_type: 'relu' }, inputs: [[nodes.length - 1, 0, 0]] });
    h = nodes.length - 1;
  }
  nodes.push({ op: 'null', name: 'softmax_label', inputs: [] });
  args.push(nodes.length - 1);
  nodes.push({ op: 'SoftmaxOutput', name: 'softmax', inputs: [[h, 0, 0], [nodes.length - 1, 0, 0]] });
  const symbol = {
    nodes,
    arg_nodes: args,
    node_row_ptr: Array.from({ length: nodes.length + 1 }, (_, i) => i),
    heads: [[nodes.length - 1, 0, 0]],
    attrs: { mxnet_version: ['int', 10900] },
  };

  const pieces: Piece[] = [];
  let pos = 0;
  const first = new ByteWriter().u64(0x112).u64(0).u64(arrays.length);
  let pending = first;
  for (const a of arrays) {
    pending.u32(0xf993fac9).i32(0).u32(a.shape.length);
    for (const d of a.shape) pending.u64(d);
    pending.i32(1).i32(0).i32(0); // cpu(0), float32
    const bytes = pending.build();
    pieces.push({ offset: pos, bytes });
    pos += bytes.length + a.shape.reduce((x, y) => x * y, 1) * 4;
    pending = new ByteWriter();
  }
  pending.u64(arrays.length);
  for (const a of arrays) pending.u64(a.name.length).bytes(a.name);
  const tail = pending.build();
  pieces.push({ offset: pos, bytes: tail });
  return {
    files: {
      'model-symbol.json': new TextEncoder().encode(JSON.stringify(symbol, null, 2)),
      'model-0000.params': { size: pos + tail.length, pieces },
    },
    tensors: arrays.length,
  };
}
