/**
 * A Caffe model (src/caffe/proto/caffe.proto) as `Net::ToProto` + `WriteProtoToBinaryFile` writes
 * it: `model.caffemodel`, a NetParameter { name, layer[] } whose InnerProduct layers carry two
 * BlobProtos (weights [out, in], bias [out]) serialized in field-number order as protobuf does —
 * packed float `data` (5) **before** the `shape` (7), so the shape of a blob sits after its
 * multi-GB payload (a hole: zero floats are valid packed data); plus the `deploy.prototxt` text
 * network. Caffe itself cannot parse a binary proto over 2 GB (protobuf's 2^31 message limit);
 * the wire format has no such limit, so the benchmark still goes to 50 GB.
 */
import { pb } from '../../src/codecs/protobuf.js';
import type { Piece, TreeFile } from './sparse.js';

export function caffeLayout(targetSize: number, tensors = 300): { files: Record<string, TreeFile>; tensors: number } {
  const hidden = 8192;
  const layers = Math.floor(tensors / 2);
  const ffn = Math.max(1, Math.floor(targetSize / layers / 4 / hidden));
  const pieces: Piece[] = [];
  let pos = 0;
  const put = (b: Uint8Array, hole = 0) => {
    pieces.push({ offset: pos, bytes: b });
    pos += b.length + hole;
  };
  put(pb.concat(pb.string(1, 'bench_mlp'), pb.message(100, pb.string(1, 'data'), pb.string(2, 'Input'), pb.string(4, 'data'), pb.message(143, pb.message(1, pb.bytes(1, pb.concat(pb.rawVarint(1), pb.rawVarint(hidden))))))));
  let prev = 'data';
  let proto = `name: "bench_mlp"\nlayer {\n  name: "data"\n  type: "Input"\n  top: "data"\n  input_param { shape { dim: 1 dim: ${hidden} } }\n}\n`;
  for (let l = 0; l < layers; l++) {
    const out = l % 2 === 0 ? ffn : hidden;
    const inp = l % 2 === 0 ? hidden : ffn;
    const name = `fc${l}`;
    const shape = (dims: number[]) => pb.message(7, pb.bytes(1, pb.concat(...dims.map((d) => pb.rawVarint(d)))));
    const wBytes = out * inp * 4;
    const bBytes = out * 4;
    // blob = tag(5,len) len <payload> shape
    const wHead = pb.concat(pb.tag(5, 2), pb.rawVarint(wBytes));
    const wShape = shape([out, inp]);
    const bHead = pb.concat(pb.tag(5, 2), pb.rawVarint(bBytes));
    const bShape = shape([out]);
    const wBlobLen = wHead.length + wBytes + wShape.length;
    const bBlobLen = bHead.length + bBytes + bShape.length;
    const head = pb.concat(pb.string(1, name), pb.string(2, 'InnerProduct'), pb.string(3, prev), pb.string(4, name));
    const ipParam = pb.message(117, pb.varint(1, out));
    const relu = pb.message(100, pb.string(1, `relu${l}`), pb.string(2, 'ReLU'), pb.string(3, name), pb.string(4, name));
    const layerLen = head.length + (pb.tag(7, 2).length + pb.rawVarint(wBlobLen).length + wBlobLen) + (pb.tag(7, 2).length + pb.rawVarint(bBlobLen).length + bBlobLen) + ipParam.length;
    put(pb.concat(pb.tag(100, 2), pb.rawVarint(layerLen), head, pb.tag(7, 2), pb.rawVarint(wBlobLen), wHead), wBytes);
    put(pb.concat(wShape, pb.tag(7, 2), pb.rawVarint(bBlobLen), bHead), bBytes);
    put(pb.concat(bShape, ipParam, relu));
    proto += `layer {\n  name: "${name}"\n  type: "InnerProduct"\n  bottom: "${prev}"\n  top: "${name}"\n  inner_product_param { num_output: ${out} }\n}\nlayer {\n  name: "relu${l}"\n  type: "ReLU"\n  bottom: "${name}"\n  top: "${name}"\n}\n`;
    prev = name;
  }
  proto += `layer {\n  name: "prob"\n  type: "Softmax"\n  bottom: "${prev}"\n  top: "prob"\n}\n`;
  put(pb.message(100, pb.string(1, 'prob'), pb.string(2, 'Softmax'), pb.string(3, prev), pb.string(4, 'prob')));
  return { files: { 'model.caffemodel': { size: pos, pieces }, 'deploy.prototxt': new TextEncoder().encode(proto) }, tensors: layers * 2 };
}
