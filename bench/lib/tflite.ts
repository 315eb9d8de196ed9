/**
 * A TFLite model too large for one FlatBuffer, as the converter writes it since TF 2.14
 * (tensorflow/lite/schema/schema.fbs `Buffer.offset/size`): the `TFL3` FlatBuffer first, then the
 * weight buffers appended after it (16-byte aligned), each found through `offset`/`size` instead
 * of an inline `data` vector. Built with the flatc-generated builders of src/formats/tflite (the
 * schema tool's own code, not a hand writer).
 *
 * The graph is an fp16-weight MLP: input f32 [1, 8192]; per weight a FLOAT16 tensor (an external
 * buffer), a DEQUANTIZE to f32 and a FULLY_CONNECTED (RELU fused); `min_runtime_version` metadata,
 * a `serving_default` signature. Every weight buffer is a hole in the sparse file.
 */
import * as flatbuffers from 'flatbuffers';
import {
  ActivationFunctionType, Buffer as FbBuffer, BuiltinOperator, BuiltinOptions, FullyConnectedOptions, FullyConnectedOptionsWeightsFormat, Metadata, Model, Operator, OperatorCode, SignatureDef, SubGraph, Tensor, TensorMap, TensorType,
} from '../../src/formats/tflite/generated/schema_generated.js';
import type { Piece } from './sparse.js';

const ALIGN = 16;

function build(hidden: number, ffn: number, weights: number, offsets: number[], sizes: number[]): Uint8Array {
  const b = new flatbuffers.Builder(1 << 20);
  const runtime = new TextEncoder().encode('1.14.0\0\0\0\0\0\0\0\0\0\0');
  // buffers: 0 = the empty sentinel, 1 = min_runtime_version, 2.. = weights (external)
  const bufs: number[] = [];
  FbBuffer.startBuffer(b);
  bufs.push(FbBuffer.endBuffer(b));
  const rv = FbBuffer.createDataVector(b, runtime);
  FbBuffer.startBuffer(b);
  FbBuffer.addData(b, rv);
  bufs.push(FbBuffer.endBuffer(b));
  for (let i = 0; i < weights; i++) {
    FbBuffer.startBuffer(b);
    FbBuffer.addOffset(b, BigInt(offsets[i]!));
    FbBuffer.addSize(b, BigInt(sizes[i]!));
    bufs.push(FbBuffer.endBuffer(b));
  }
  const tensors: number[] = [];
  const tensor = (name: string, type: TensorType, shape: number[], buffer: number) => {
    const n = b.createString(name);
    const s = Tensor.createShapeVector(b, shape);
    Tensor.startTensor(b);
    Tensor.addShape(b, s);
    Tensor.addType(b, type);
    Tensor.addBuffer(b, buffer);
    Tensor.addName(b, n);
    tensors.push(Tensor.endTensor(b));
    return tensors.length - 1;
  };
  const ops: number[] = [];
  const op = (opcode: number, inputs: number[], outputs: number[], fc: boolean) => {
    const iv = Operator.createInputsVector(b, inputs);
    const ov = Operator.createOutputsVector(b, outputs);
    const opts = fc ? FullyConnectedOptions.createFullyConnectedOptions(b, ActivationFunctionType.RELU, FullyConnectedOptionsWeightsFormat.DEFAULT, false, false, TensorType.FLOAT32) : 0;
    Operator.startOperator(b);
    Operator.addOpcodeIndex(b, opcode);
    Operator.addInputs(b, iv);
    Operator.addOutputs(b, ov);
    if (fc) {
      Operator.addBuiltinOptionsType(b, BuiltinOptions.FullyConnectedOptions);
      Operator.addBuiltinOptions(b, opts);
    }
    ops.push(Operator.endOperator(b));
  };
  const input = tensor('serving_default_input_1:0', TensorType.FLOAT32, [1, hidden], 0);
  let h = input;
  for (let i = 0; i < weights; i++) {
    const out = i % 2 === 0 ? ffn : hidden;
    const inp = i % 2 === 0 ? hidden : ffn;
    const w = tensor(`sequential/dense_${i}/MatMul;sequential/dense_${i}/Relu`, TensorType.FLOAT16, [out, inp], 2 + i);
    const dq = tensor(`sequential/dense_${i}/MatMul_dequantize`, TensorType.FLOAT32, [out, inp], 0);
    op(0, [w], [dq], false);
    const y = tensor(i === weights - 1 ? 'StatefulPartitionedCall:0' : `sequential/dense_${i}/Relu:0`, TensorType.FLOAT32, [1, out], 0);
    op(1, [h, dq, -1], [y], true);
    h = y;
  }
  const sgName = b.createString('main');
  const tv = SubGraph.createTensorsVector(b, tensors);
  const iv = SubGraph.createInputsVector(b, [input]);
  const ov = SubGraph.createOutputsVector(b, [h]);
  const opv = SubGraph.createOperatorsVector(b, ops);
  SubGraph.startSubGraph(b);
  SubGraph.addTensors(b, tv);
  SubGraph.addInputs(b, iv);
  SubGraph.addOutputs(b, ov);
  SubGraph.addOperators(b, opv);
  SubGraph.addName(b, sgName);
  const sg = SubGraph.endSubGraph(b);
  const codes = [BuiltinOperator.DEQUANTIZE, BuiltinOperator.FULLY_CONNECTED].map((c) => {
    OperatorCode.startOperatorCode(b);
    OperatorCode.addDeprecatedBuiltinCode(b, c);
    OperatorCode.addVersion(b, c === BuiltinOperator.DEQUANTIZE ? 2 : 9);
    OperatorCode.addBuiltinCode(b, c);
    return OperatorCode.endOperatorCode(b);
  });
  const meta = Metadata.createMetadata(b, b.createString('min_runtime_version'), 1);
  const tm = (name: string, t: number) => TensorMap.createTensorMap(b, b.createString(name), t);
  const si = SignatureDef.createInputsVector(b, [tm('input_1', input)]);
  const so = SignatureDef.createOutputsVector(b, [tm('output_0', h)]);
  const key = b.createString('serving_default');
  SignatureDef.startSignatureDef(b);
  SignatureDef.addInputs(b, si);
  SignatureDef.addOutputs(b, so);
  SignatureDef.addSignatureKey(b, key);
  const sig = SignatureDef.endSignatureDef(b);
  const desc = b.createString('MLIR Converted.');
  const ocv = Model.createOperatorCodesVector(b, codes);
  const sgv = Model.createSubgraphsVector(b, [sg]);
  const bv = Model.createBuffersVector(b, bufs);
  const mv = Model.createMetadataVector(b, [meta]);
  const sv = Model.createSignatureDefsVector(b, [sig]);
  Model.startModel(b);
  Model.addVersion(b, 3);
  Model.addOperatorCodes(b, ocv);
  Model.addSubgraphs(b, sgv);
  Model.addDescription(b, desc);
  Model.addBuffers(b, bv);
  Model.addMetadata(b, mv);
  Model.addSignatureDefs(b, sv);
  Model.finishModelBuffer(b, Model.endModel(b));
  return b.asUint8Array().slice();
}

export function tfliteLayout(targetSize: number, weights = 300): { size: number; pieces: Piece[] } {
  const hidden = 8192;
  const ffn = Math.max(1, Math.floor(targetSize / weights / 2 / hidden));
  const sizes = Array.from({ length: weights }, () => ffn * hidden * 2);
  const place = (base: number) => {
    const offsets: number[] = [];
    let p = base;
    for (const s of sizes) {
      p = Math.ceil(p / ALIGN) * ALIGN;
      offsets.push(p);
      p += s;
    }
    return { offsets, end: p };
  };
  // Offsets depend on the FlatBuffer's length: build once to learn it (every field is written
  // both times, so the length does not change), then with the real offsets.
  const first = build(hidden, ffn, weights, place(1).offsets, sizes);
  const base = Math.ceil(first.length / ALIGN) * ALIGN;
  const { offsets, end } = place(base);
  const fb = build(hidden, ffn, weights, offsets, sizes);
  if (fb.length !== first.length) throw new Error(`TFLite FlatBuffer length changed: ${first.length} → ${fb.length}`);
  return { size: end, pieces: [{ offset: 0, bytes: fb }] };
}
