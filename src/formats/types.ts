/**
 * The contract every format folder fulfils. Adding a format = one folder under src/formats/ with an
 * index.ts exporting a FormatModule, plus one line in ./registry.ts.
 */
import type { Detection, FormatId } from '../types.js';
import type { Probe, TreeProbe } from '../identify/probe.js';

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
}
