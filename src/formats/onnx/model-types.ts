/** The walked ONNX model (model.ts): native facts with the spec's names, before the common report. */
import type { Diagnostic } from '../../types.js';
import type { OpsetId } from './proto.js';
import type { OnnxType } from './types.js';

export interface OnnxTensor {
  name: string;
  dataType: number;
  dims: number[];
  /** The TensorProto message (absolute offsets in the model file). */
  at: number;
  end: number;
  raw?: { at: number; length: number };
  /** Typed value fields: the field number (4 float_data … 11 uint64_data), element count when counted, stored bytes, first payload offset. */
  typed?: { field: number; count?: number; bytes: number; at: number };
  /** external_data entries (location, offset, length, checksum) when data_location = EXTERNAL or a location is given. */
  external?: Record<string, string>;
  dataLocation: number;
  segment: boolean;
  /** '' for the main graph, else where the subgraph sits ("loop_body/body"). */
  scope: string;
}

export interface OnnxSparse {
  values?: OnnxTensor;
  indices?: OnnxTensor;
  dims: number[];
  scope: string;
}

export interface OnnxNode {
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  ints: Record<string, number>;
}

export interface OnnxIO {
  name: string;
  type: OnnxType;
}

export interface OnnxFunction {
  name: string;
  domain: string;
  nodes: number;
  ops: Record<string, number>;
}

export interface OnnxModel {
  irVersion?: number;
  producerName: string;
  producerVersion: string;
  domain: string;
  modelVersion?: number;
  docString?: string;
  opsets: OpsetId[];
  metadata: [string, string][];
  graphName?: string;
  inputs: OnnxIO[];
  outputs: OnnxIO[];
  /** Names of the main graph's (dense) initializers: inputs with these names are weights, not inputs. */
  mainInitializers: Set<string>;
  tensors: OnnxTensor[];
  sparse: OnnxSparse[];
  /** op_type → count over the main graph and its nested subgraphs. */
  ops: Map<string, number>;
  /** domain → op_type → count (same nodes; '' is ai.onnx). */
  opsByDomain: Map<string, Map<string, number>>;
  nodes: number;
  subgraphs: number;
  functions: OnnxFunction[];
  /** Initializers inside subgraphs of function nodes (not listed as tensors, like the reference reader). */
  functionInitializers: number;
  trainingInfo: number;
  quantNodes: OnnxNode[];
  /** Constant nodes (their values are not stored weights but are worth a mention). */
  constants: number;
  partial: boolean;
  diagnostics: Diagnostic[];
  bytesRead: number;
}

