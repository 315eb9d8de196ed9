/**
 * Plain-data types shared by every capability (design principle 5: no classes, no bigint,
 * so they cross postMessage, --json and snapshots unchanged).
 */

/** Format ids are fixed (../shared/DESIGN.md); more may be added, never renamed. */
export type FormatId =
  | 'gguf'
  | 'ggml'
  | 'safetensors'
  | 'pytorch'
  | 'torchscript'
  | 'executorch'
  | 'onnx'
  | 'tf-savedmodel'
  | 'tflite'
  | 'tfjs'
  | 'keras'
  | 'coreml'
  | 'pmml'
  | 'pfa'
  | 'mxnet'
  | 'numpy'
  | 'caffe';

/** What a model is: the same shape `identify` and `inspect` report. */
export interface FormatRef {
  id: FormatId;
  /** Finer kind, e.g. `gguf` `zip` `legacy-pickle` `keras-v3` (documented in the README). */
  variant: string;
  /** The format or spec version as the file states it, or null when the format has none. */
  version: string | null;
  /** Human name of the format, e.g. "GGUF", "PyTorch checkpoint". */
  name: string;
}

/** How sure a detection is: `high` = magic or schema matched; `medium` = structure matched; `low` = heuristic. */
export type Confidence = 'high' | 'medium' | 'low';

/** A file that belongs to a multi-file model. */
export interface ModelFile {
  path: string;
  size: number;
  role: string;
}

/** One detector's positive answer. */
export interface Detection {
  format: FormatRef;
  confidence: Confidence;
  /** Human-readable facts that justify the answer, e.g. "GGUF magic, version 3, little-endian". */
  evidence: string[];
  /** Files of a multi-file model (the entry file first). */
  files?: ModelFile[];
  /** Small facts worth reporting at identify time (endianness, tensor count …). */
  details?: Record<string, string | number | boolean | null>;
}

/** What a file is when it is not a model (HTML page, LFS pointer, config.json …). */
export interface NotAModel {
  kind: string;
  reason: string;
}

/** The result of `identify` for one input. */
export interface Identification {
  path: string;
  /** 'file' | 'folder' | 'url' | 'bytes' */
  source: 'file' | 'folder' | 'url' | 'bytes';
  size: number | null;
  format: FormatRef | null;
  confidence: Confidence | null;
  evidence: string[];
  files?: ModelFile[];
  details?: Record<string, string | number | boolean | null>;
  /** Set when `format` is null: why nothing was recognised, or what the file is instead. */
  reason?: string;
  /** Set when the file is recognisably something else (html, git-lfs-pointer, hf-config …). */
  notModel?: string;
  /** Set for folders that are not one model but hold several. */
  models?: Identification[];
  /** Set when reading failed. */
  error?: { code: string; message: string };
}

/** A number, or a decimal string when it exceeds 2^53 (plain JSON, no bigint). */
export type BigNum = number | string;

/** A dimension: a concrete size, or a symbolic name ("batch", "?" for unknown). */
export type Dim = number | string;

/** Quantization parameters of one tensor (TFLite, ONNX QDQ, PyTorch qint8, TF.js uint8 …). */
export interface TensorQuantization {
  scheme?: string;
  scale?: number | number[];
  zeroPoint?: number | number[];
  axis?: number;
  min?: number;
  max?: number;
  bits?: number;
  [k: string]: unknown;
}

/** One stored tensor, as the format names it. */
export interface TensorInfo {
  name: string;
  /** Canonical dtype name (../shared/DESIGN.md): f32, bf16, q4_k, qint8 … */
  dtype: string;
  /** Shape as the file stores it (GGUF/GGML in ggml `ne` order); null when the rank is unknown. */
  shape: Dim[] | null;
  /** Bytes of stored data, when known. */
  byteLength: BigNum | null;
  /** Offset of the data in its file, when the format stores one. */
  offset: BigNum | null;
  /** File holding the data when not the entry file (shards, external data). */
  file?: string;
  /** Storage key where several tensors can share one (PyTorch). */
  storage?: string;
  quantization?: TensorQuantization;
  /** Names of other tensors sharing this one's storage (tied weights). */
  tiedWith?: string[];
}

export interface GraphIO {
  name: string;
  dtype: string | null;
  shape: Dim[] | null;
  [k: string]: unknown;
}

export interface Diagnostic {
  code: string;
  message: string;
}

/** Architecture hyper-parameters, when the format states them (LLM containers mostly). */
export interface HyperParameters {
  contextLength?: number;
  embeddingLength?: number;
  layers?: number;
  heads?: number;
  kvHeads?: number;
  headDim?: number;
  feedForwardLength?: number;
  vocabSize?: number;
  experts?: number;
  expertsUsed?: number;
  slidingWindow?: number;
  ropeFreqBase?: number;
  [k: string]: unknown;
}

/** What `inspect` reports: one shape for every format. */
export interface ModelReport {
  path: string;
  format: FormatRef;
  producer: string | null;
  architecture: string | null;
  parameters: { total: BigNum; byDtype: Record<string, BigNum> };
  size: { file: number; tensorBytes: BigNum | null; files?: number };
  tensors: { count: number; items: TensorInfo[]; truncated: boolean };
  graph?: { inputs: GraphIO[]; outputs: GraphIO[]; ops: Record<string, number> };
  /** Quantization in words and numbers. */
  quantization?: { summary: string; fileType?: string; bitsPerWeight?: number; [k: string]: unknown };
  hyperParameters?: HyperParameters;
  tokenizer?: { model?: string; vocabSize?: number; chatTemplate?: boolean; [k: string]: unknown };
  /** Format-specific structured facts (execution plans, signatures, subgraphs …). */
  details?: Record<string, unknown>;
  metadata: Record<string, unknown>;
  files?: ModelFile[];
  diagnostics: Diagnostic[];
}
