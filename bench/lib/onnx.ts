/**
 * An ONNX model with external data (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto):
 * a small valid model.onnx (an MLP of MatMul/Relu layers) whose initializers live in
 * `model.onnx.data` (data_location EXTERNAL, location/offset/length entries), a sparse file of
 * `targetSize` bytes. Encoded with a minimal protobuf writer.
 */
import type { Piece } from './sparse.js';

/** Protobuf wire writer: just what ONNX needs (varints, length-delimited fields). */
class Pb {
  private parts: number[] = [];
  private varint(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) throw new Error(`varint ${v}`);
    while (v >= 0x80) {
      this.parts.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.parts.push(v);
  }
  int(field: number, v: number): this {
    this.varint(field * 8);
    this.varint(v);
    return this;
  }
  bytes(field: number, b: Uint8Array | string): this {
    const u = typeof b === 'string' ? new TextEncoder().encode(b) : b;
    this.varint(field * 8 + 2);
    this.varint(u.length);
    for (const x of u) this.parts.push(x);
    return this;
  }
  msg(field: number, m: Pb): this {
    return this.bytes(field, m.build());
  }
  build(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

const FLOAT16 = 10;

function valueInfo(name: string, dims: (number | string)[]): Pb {
  const shape = new Pb();
  for (const d of dims) shape.msg(1, typeof d === 'number' ? new Pb().int(1, d) : new Pb().bytes(2, d));
  const tensorType = new Pb().int(1, FLOAT16).msg(2, shape);
  return new Pb().bytes(1, name).msg(2, new Pb().msg(1, tensorType));
}

export function onnxExternalLayout(targetSize: number, initializerCount = 300): {
  model: Uint8Array;
  dataSize: number;
  dataPieces: Piece[];
} {
  const hidden = 8192;
  const layers = Math.floor(initializerCount / 2);
  const ffn = Math.floor(targetSize / (layers * 2) / 2 / hidden);
  const per = hidden * ffn * 2;
  const graph = new Pb().bytes(2, 'bench_mlp');
  let h = 'x';
  let offset = 0;
  const inits: Pb[] = [];
  for (let l = 0; l < layers; l++) {
    const up = `layers.${l}.up.weight`;
    const down = `layers.${l}.down.weight`;
    for (const [name, dims] of [
      [up, [hidden, ffn]],
      [down, [ffn, hidden]],
    ] as [string, number[]][]) {
      const t = new Pb();
      for (const d of dims) t.int(1, d);
      t.int(2, FLOAT16).bytes(8, name);
      t.msg(13, new Pb().bytes(1, 'location').bytes(2, 'model.onnx.data'));
      t.msg(13, new Pb().bytes(1, 'offset').bytes(2, String(offset)));
      t.msg(13, new Pb().bytes(1, 'length').bytes(2, String(per)));
      t.int(14, 1); // data_location = EXTERNAL
      inits.push(t);
      offset += per;
    }
    const a = `layers.${l}.up`;
    const r = `layers.${l}.relu`;
    const o = l === layers - 1 ? 'y' : `layers.${l}.out`;
    graph.msg(1, new Pb().bytes(1, h).bytes(1, up).bytes(2, a).bytes(3, `MatMul_${l}_up`).bytes(4, 'MatMul'));
    graph.msg(1, new Pb().bytes(1, a).bytes(2, r).bytes(3, `Relu_${l}`).bytes(4, 'Relu'));
    graph.msg(1, new Pb().bytes(1, r).bytes(1, down).bytes(2, o).bytes(3, `MatMul_${l}_down`).bytes(4, 'MatMul'));
    h = o;
  }
  for (const t of inits) graph.msg(5, t);
  graph.msg(11, valueInfo('x', ['batch', hidden]));
  graph.msg(12, valueInfo('y', ['batch', hidden]));
  const model = new Pb()
    .int(1, 8) // ir_version
    .bytes(2, 'modelwise-bench')
    .bytes(3, '1.0')
    .msg(7, graph)
    .msg(8, new Pb().bytes(1, '').int(2, 17)) // opset_import
    .build();
  // A few non-zero bytes at the start and end of the data file, like real weights.
  const marker = new Uint8Array(64).fill(0x3c);
  return { model, dataSize: offset, dataPieces: [{ offset: 0, bytes: marker }, { offset: offset - 64, bytes: marker }] };
}
