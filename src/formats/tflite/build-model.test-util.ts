/**
 * Test-only: TFLite models built in code with the flatc-generated builders (the same schema the
 * reader uses) and a hand-built TFLite Metadata ("M001") buffer. Not imported by the library.
 */
import * as flatbuffers from 'flatbuffers';
import {
  Buffer as FbBuffer, Metadata, Model, OperatorCode, Operator, QuantizationParameters, SignatureDef, SparsityParameters, SubGraph, Tensor, TensorMap,
} from './generated/schema_generated.js';

export interface TensorSpec {
  name: string;
  type: number;
  shape: number[];
  buffer: number;
  scale?: number[];
  zeroPoint?: number[];
  axis?: number;
  signature?: number[];
  sparse?: boolean;
}

export interface BufferSpec {
  data?: Uint8Array;
  offset?: number;
  size?: number;
}

export interface ModelSpec {
  version?: number;
  description?: string;
  identifier?: boolean;
  opcodes: { builtin?: number; deprecated?: number; custom?: string; version?: number }[];
  tensors: TensorSpec[];
  inputs: number[];
  outputs: number[];
  operators: number[];
  buffers: BufferSpec[];
  metadata?: { name: string; buffer: number }[];
  signature?: { key: string; inputs: [string, number][]; outputs: [string, number][] };
  extraSubgraphs?: { name: string; operators: number[] }[];
}

export function buildModel(s: ModelSpec): Uint8Array {
  const b = new flatbuffers.Builder(1024);
  const buffers = s.buffers.map((x) => {
    let data = 0;
    if (x.data) {
      b.startVector(1, x.data.length, 16);
      for (let i = x.data.length - 1; i >= 0; i--) b.addInt8(x.data[i]!);
      data = b.endVector();
    }
    FbBuffer.startBuffer(b);
    if (data) FbBuffer.addData(b, data);
    if (x.offset !== undefined) FbBuffer.addOffset(b, BigInt(x.offset));
    if (x.size !== undefined) FbBuffer.addSize(b, BigInt(x.size));
    return FbBuffer.endBuffer(b);
  });
  const tensors = s.tensors.map((t) => {
    const name = b.createString(t.name);
    const shape = Tensor.createShapeVector(b, t.shape);
    const sig = t.signature ? Tensor.createShapeSignatureVector(b, t.signature) : 0;
    let quant = 0;
    if (t.scale) {
      const sc = QuantizationParameters.createScaleVector(b, t.scale);
      const zp = QuantizationParameters.createZeroPointVector(b, (t.zeroPoint ?? t.scale.map(() => 0)).map(BigInt));
      QuantizationParameters.startQuantizationParameters(b);
      QuantizationParameters.addScale(b, sc);
      QuantizationParameters.addZeroPoint(b, zp);
      QuantizationParameters.addQuantizedDimension(b, t.axis ?? 0);
      quant = QuantizationParameters.endQuantizationParameters(b);
    }
    let sparse = 0;
    if (t.sparse) {
      SparsityParameters.startSparsityParameters(b);
      sparse = SparsityParameters.endSparsityParameters(b);
    }
    Tensor.startTensor(b);
    Tensor.addShape(b, shape);
    Tensor.addType(b, t.type);
    Tensor.addBuffer(b, t.buffer);
    Tensor.addName(b, name);
    if (quant) Tensor.addQuantization(b, quant);
    if (sig) Tensor.addShapeSignature(b, sig);
    if (sparse) Tensor.addSparsity(b, sparse);
    return Tensor.endTensor(b);
  });
  const ops = (list: number[]) =>
    list.map((oc) => {
      Operator.startOperator(b);
      Operator.addOpcodeIndex(b, oc);
      return Operator.endOperator(b);
    });
  const subgraph = (name: string, tensorOffsets: number[], inputs: number[], outputs: number[], operators: number[]) => {
    const n = b.createString(name);
    const tv = SubGraph.createTensorsVector(b, tensorOffsets);
    const iv = SubGraph.createInputsVector(b, inputs);
    const ov = SubGraph.createOutputsVector(b, outputs);
    const opv = SubGraph.createOperatorsVector(b, ops(operators));
    SubGraph.startSubGraph(b);
    SubGraph.addTensors(b, tv);
    SubGraph.addInputs(b, iv);
    SubGraph.addOutputs(b, ov);
    SubGraph.addOperators(b, opv);
    SubGraph.addName(b, n);
    return SubGraph.endSubGraph(b);
  };
  const subgraphs = [subgraph('main', tensors, s.inputs, s.outputs, s.operators), ...(s.extraSubgraphs ?? []).map((g) => subgraph(g.name, [], [], [], g.operators))];
  const opcodes = s.opcodes.map((o) => {
    const custom = o.custom !== undefined ? b.createString(o.custom) : 0;
    OperatorCode.startOperatorCode(b);
    OperatorCode.addDeprecatedBuiltinCode(b, o.deprecated ?? 0);
    if (custom) OperatorCode.addCustomCode(b, custom);
    OperatorCode.addVersion(b, o.version ?? 1);
    OperatorCode.addBuiltinCode(b, o.builtin ?? 0);
    return OperatorCode.endOperatorCode(b);
  });
  const metadata = (s.metadata ?? []).map((m) => Metadata.createMetadata(b, b.createString(m.name), m.buffer));
  const sigs: number[] = [];
  if (s.signature) {
    const maps = (l: [string, number][]) => l.map(([n, i]) => TensorMap.createTensorMap(b, b.createString(n), i));
    const iv = SignatureDef.createInputsVector(b, maps(s.signature.inputs));
    const ov = SignatureDef.createOutputsVector(b, maps(s.signature.outputs));
    const key = b.createString(s.signature.key);
    SignatureDef.startSignatureDef(b);
    SignatureDef.addInputs(b, iv);
    SignatureDef.addOutputs(b, ov);
    SignatureDef.addSignatureKey(b, key);
    sigs.push(SignatureDef.endSignatureDef(b));
  }
  const desc = s.description !== undefined ? b.createString(s.description) : 0;
  const ocv = Model.createOperatorCodesVector(b, opcodes);
  const sgv = Model.createSubgraphsVector(b, subgraphs);
  const bv = Model.createBuffersVector(b, buffers);
  const mv = Model.createMetadataVector(b, metadata);
  const sv = Model.createSignatureDefsVector(b, sigs);
  Model.startModel(b);
  Model.addVersion(b, s.version ?? 3);
  Model.addOperatorCodes(b, ocv);
  Model.addSubgraphs(b, sgv);
  if (desc) Model.addDescription(b, desc);
  Model.addBuffers(b, bv);
  Model.addMetadata(b, mv);
  Model.addSignatureDefs(b, sv);
  const root = Model.endModel(b);
  if (s.identifier === false) b.finish(root);
  else Model.finishModelBuffer(b, root);
  return b.asUint8Array().slice();
}

/** A TFLite Metadata flatbuffer (metadata_schema.fbs ModelMetadata, identifier M001). */
export function buildModelMetadata(m: { name?: string; version?: string; author?: string; license?: string; files?: string[] }): Uint8Array {
  const b = new flatbuffers.Builder(256);
  const s = (v: string | undefined) => (v !== undefined ? b.createString(v) : 0);
  const name = s(m.name);
  const version = s(m.version);
  const author = s(m.author);
  const license = s(m.license);
  const files = (m.files ?? []).map((f) => {
    const n = b.createString(f);
    b.startObject(5);
    b.addFieldOffset(0, n, 0);
    b.addFieldInt8(2, 2, 0);
    return b.endObject();
  });
  let fv = 0;
  if (files.length) {
    b.startVector(4, files.length, 4);
    for (let i = files.length - 1; i >= 0; i--) b.addOffset(files[i]!);
    fv = b.endVector();
  }
  b.startObject(8);
  if (name) b.addFieldOffset(0, name, 0);
  if (version) b.addFieldOffset(2, version, 0);
  if (author) b.addFieldOffset(4, author, 0);
  if (license) b.addFieldOffset(5, license, 0);
  if (fv) b.addFieldOffset(6, fv, 0);
  b.finish(b.endObject(), 'M001');
  return b.asUint8Array().slice();
}
