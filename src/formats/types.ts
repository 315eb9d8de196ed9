/**
 * The contract every format folder fulfils. Adding a format = one folder under src/formats/ with an
 * index.ts exporting a FormatModule, plus one line in ./registry.ts.
 */
import type { Detection, Diagnostic, FormatId, GraphIO, HyperParameters, Identification, ModelFile, TensorInfo } from '../types.js';
import type { Probe, TreeProbe } from '../identify/probe.js';
import type { ScanState } from '../scan/scan.js';
import type { Finding } from '../scan/types.js';

export interface FormatModule {
  id: FormatId;
  /** Human name, e.g. "GGUF". */
  name: string;
  /** Usual file extensions (lowercase, with dot); informative only — detection is by content. */
  extensions: string[];
  /**
   * Cheap content check of one file. Reads through the probe (memoized head/tail/zip/json), never
   * more than a few hundred KiB, and never throws on bad input: returns undefined instead.
   * When the probe has a tree (the file's folder), it may list the sibling files of a multi-file model.
   */
  detect?(probe: Probe): Promise<Detection | undefined>;
  /**
   * Folder check for formats whose unit is a folder (SavedModel, .mlpackage, .mlmodelc …).
   * `tree` is the folder; returns the model with the files that belong to it.
   */
  detectTree?(tree: TreeProbe): Promise<Detection | undefined>;
  /** Lazily loaded heavy parts (inspect …), so identify stays small in the browser bundle. */
  load?(): Promise<FormatImpl>;
}

export interface FormatImpl {
  inspect?(input: InspectInput): Promise<Inspection>;
  /**
   * Format-specific security rules (templates, external data paths, Lambda layers, graph ops …).
   * Generic content (pickles, archives, NumPy object arrays) is scanned by the driver already;
   * `state` lets a rule scan an embedded part the same way (e.g. a Keras TorchModuleWrapper blob).
   */
  scan?(input: InspectInput, state: ScanState): Promise<Finding[]>;
  /**
   * The stored bytes of one tensor that `inspect` listed, contiguous, little-endian, in the
   * tensor's own dtype (`tensor.dtype`: plain or a ggml block type). Used by `convert`, one tensor
   * at a time, so memory stays bounded by the largest tensor. Throws UNSUPPORTED for layouts the
   * format cannot give (e.g. a tensor whose data lives in a delegate blob).
   */
  readTensor?(input: InspectInput, tensor: TensorInfo): Promise<Uint8Array>;
}

export interface InspectOptions {
  /** Tensor items kept in the report (the count is always exact). Default LIMITS.reportTensors. */
  maxTensors?: number;
}

/** What an inspector receives: the identification and where to read the model from. */
export interface InspectInput {
  id: Identification;
  /** The entry file (the model file itself, the index of a sharded set, model.json …), with its folder as tree. */
  probe?: Probe;
  /** The folder of a folder model (SavedModel, .mlpackage …), or the folder holding the model. */
  tree?: TreeProbe;
  options: InspectOptions;
}

/**
 * What an inspector returns: the native facts mapped to the common vocabulary. The driver
 * (src/inspect/inspect.ts) derives parameters, sizes and the dtype mix from `tensors`.
 */
export interface Inspection {
  /** Refine what identify said (e.g. a version only the full header gives). */
  format?: Partial<Identification['format'] & object>;
  producer?: string | null;
  architecture?: string | null;
  tensors: TensorInfo[];
  graph?: { inputs: GraphIO[]; outputs: GraphIO[]; ops: Record<string, number> };
  quantization?: { summary: string; fileType?: string; bitsPerWeight?: number; [k: string]: unknown };
  hyperParameters?: HyperParameters;
  tokenizer?: { model?: string; vocabSize?: number; chatTemplate?: boolean; [k: string]: unknown };
  details?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  files?: ModelFile[];
  diagnostics?: Diagnostic[];
}
