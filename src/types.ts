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
