/**
 * A Core ML `.mlpackage` holding an ML program as coremltools 7 writes it
 * (coremltools/proto Model.proto, MIL.proto; the weight blob format of
 * coremltools/mil/backend/mil/ blob storage v2):
 *   Manifest.json                                  — the package manifest (model + weights items);
 *   Data/com.apple.CoreML/model.mlmodel            — Model { specificationVersion 8, description
 *                                                     (input/output multiarrays, metadata with the
 *                                                     coremltools version), mlProgram { function
 *                                                     main (opset CoreML7): a `const` per weight whose
 *                                                     value is a blobFileValue into weight.bin, and
 *                                                     `linear` + `relu` ops } };
 *   Data/com.apple.CoreML/weights/weight.bin       — storage header (count, version 2), then per
 *                                                     blob a 64-byte metadata record (0xDEADBEEF,
 *                                                     dtype fp16, size, data offset) followed by the
 *                                                     64-byte-aligned data: a hole.
 */
import { pb } from '../../src/codecs/protobuf.js';
import type { Piece, TreeFile } from './sparse.js';

const FLOAT16 = 10; // MIL DataType
const FLOAT32 = 11;
const STRING = 21;
const BLOB_FP16 = 1; // blob storage dtype
const MA_FLOAT32 = 65568; // ArrayFeatureType.ArrayDataType
const enc = new TextEncoder();

const tensorType = (dtype: number, dims: number[]) => pb.message(1, pb.varint(1, dtype), pb.varint(2, dims.length), ...dims.map((d) => pb.message(3, pb.message(1, pb.varint(1, d)))));
const stringValue = (s: string) => pb.concat(pb.message(2, pb.message(1, pb.varint(1, STRING))), pb.message(3, pb.message(1, pb.message(5, pb.message(1, pb.string(1, s))))));
const blobValue = (dims: number[], offset: number) => pb.concat(pb.bytes(2, tensorType(FLOAT16, dims)), pb.message(5, pb.string(1, '@model_path/weights/weight.bin'), pb.varint(2, offset)));
const mapEntry = (field: number, key: string, value: Uint8Array) => pb.message(field, pb.string(1, key), pb.bytes(2, value));
const argument = (name: string) => pb.message(1, pb.string(1, name)); // Argument { arguments: [Binding { name }] }
const namedValueType = (name: string, type: Uint8Array) => pb.concat(pb.string(1, name), pb.bytes(2, type));

function op(type: string, output: { name: string; dtype: number; dims: number[] }, inputs: Record<string, string>, attributes: Record<string, Uint8Array>): Uint8Array {
  return pb.message(
    3,
    pb.string(1, type),
    ...Object.entries(inputs).map(([k, v]) => mapEntry(2, k, argument(v))),
    pb.message(3, namedValueType(output.name, tensorType(output.dtype, output.dims))),
    ...Object.entries(attributes).map(([k, v]) => mapEntry(5, k, v)),
  );
}


export function coremlPackageLayout(targetSize: number, weights = 300): { files: Record<string, TreeFile>; tensors: number } {
  const hidden = 8192;
  const ffn = Math.max(1, Math.floor(targetSize / weights / 2 / hidden));
  const pieces: Piece[] = [];
  const header = new Uint8Array(64);
  new DataView(header.buffer).setUint32(0, weights, true);
  new DataView(header.buffer).setUint32(4, 2, true);
  pieces.push({ offset: 0, bytes: header });
  let p = 64;
  const ops: Uint8Array[] = [];
  let h = 'x';
  for (let i = 0; i < weights; i++) {
    const dims = i % 2 === 0 ? [ffn, hidden] : [hidden, ffn]; // linear weight: [out, in]
    const size = dims[0]! * dims[1]! * 2;
    const meta = new Uint8Array(64);
    const dv = new DataView(meta.buffer);
    dv.setUint32(0, 0xdeadbeef, true);
    dv.setUint32(4, BLOB_FP16, true);
    dv.setBigUint64(8, BigInt(size), true);
    dv.setBigUint64(16, BigInt(p + 64), true);
    pieces.push({ offset: p, bytes: meta });
    const name = `layers_${i}_weight_to_fp16`;
    ops.push(op('const', { name, dtype: FLOAT16, dims }, {}, { name: stringValue(name), val: blobValue(dims, p) }));
    const lin = `linear_${i}_cast_fp16`;
    ops.push(op('linear', { name: lin, dtype: FLOAT16, dims: [1, dims[0]!] }, { x: h, weight: name }, { name: stringValue(lin) }));
    const relu = `relu_${i}_cast_fp16`;
    ops.push(op('relu', { name: relu, dtype: FLOAT16, dims: [1, dims[0]!] }, { x: lin }, { name: stringValue(relu) }));
    h = relu;
    p = Math.ceil((p + 64 + size) / 64) * 64;
  }
  ops.push(op('cast', { name: 'y', dtype: FLOAT32, dims: [1, hidden] }, { x: h }, { name: stringValue('y'), dtype: stringValue('fp32') }));
  const block = pb.concat(pb.string(2, 'y'), ...ops);
  const fn = pb.concat(pb.message(1, namedValueType('x', tensorType(FLOAT32, [1, hidden]))), pb.string(2, 'CoreML7'), mapEntry(3, 'CoreML7', block));
  const program = pb.concat(pb.varint(1, 1), mapEntry(2, 'main', fn), mapEntry(4, 'buildInfo', pb.message(3, pb.message(1, pb.message(7, mapEntry(1, 'coremltools-version', stringValue('7.2')))))));
  const description = pb.concat(
    pb.message(1, pb.string(1, 'x'), pb.message(3, pb.message(5, pb.bytes(1, pb.concat(pb.rawVarint(1), pb.rawVarint(hidden))), pb.varint(2, MA_FLOAT32)))),
    pb.message(10, pb.string(1, 'y'), pb.message(3, pb.message(5, pb.bytes(1, pb.concat(pb.rawVarint(1), pb.rawVarint(hidden))), pb.varint(2, MA_FLOAT32)))),
    pb.message(100, pb.string(1, 'A 300-weight fp16 MLP (benchmark)'), pb.string(3, 'modelwise bench'), pb.string(4, 'MIT'), mapEntry(100, 'com.github.apple.coremltools.source', enc.encode('torch==2.2.0')), mapEntry(100, 'com.github.apple.coremltools.version', enc.encode('7.2'))),
  );
  const model = pb.concat(pb.varint(1, 8), pb.bytes(2, description), pb.message(502, program));
  const manifest = {
    fileFormatVersion: '1.0.0',
    itemInfoEntries: {
      '2B1C3B0A-6A7E-4F1C-9E0B-6C2F1B0E9D11': { author: 'com.apple.CoreML', description: 'CoreML Model Weights', name: 'weights', path: 'com.apple.CoreML/weights' },
      '8F1E2D3C-4B5A-4968-8776-A5B4C3D2E1F0': { author: 'com.apple.CoreML', description: 'CoreML Model Specification', name: 'model.mlmodel', path: 'com.apple.CoreML/model.mlmodel' },
    },
    rootModelIdentifier: '8F1E2D3C-4B5A-4968-8776-A5B4C3D2E1F0',
  };
  return {
    files: {
      'Manifest.json': enc.encode(JSON.stringify(manifest, null, 2)),
      'Data/com.apple.CoreML/model.mlmodel': model,
      'Data/com.apple.CoreML/weights/weight.bin': { size: p, pieces },
    },
    tensors: weights,
  };
}
