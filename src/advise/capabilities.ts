/**
 * What modelwise itself does with each format, read from the code (the registry and each format's
 * lazily loaded implementation), so `modelwise formats` can never claim more than exists.
 */
import { FORMATS } from '../formats/registry.js';
import type { FormatId } from '../types.js';
import { FORMAT_FACTS, type FormatFacts } from './formats-data.js';

export interface ModelwiseSupport {
  identify: boolean;
  inspect: boolean;
  /** Format-specific scan rules (pickles, archives and templates are scanned for every format). */
  scanRules: boolean;
  /** Tensor data can be read, so `convert --to safetensors|gguf` works. */
  convert: boolean;
}

export interface FormatRow extends FormatFacts {
  modelwise: ModelwiseSupport;
}

export async function supportOf(id: FormatId): Promise<ModelwiseSupport> {
  const mod = FORMATS.find((f) => f.id === id);
  if (!mod) return { identify: false, inspect: false, scanRules: false, convert: false };
  const impl = mod.load ? await mod.load() : undefined;
  return {
    identify: !!(mod.detect || mod.detectTree),
    inspect: !!impl?.inspect,
    scanRules: !!impl?.scan,
    convert: !!impl?.readTensor,
  };
}

/** The capability table: facts about each format plus modelwise's actual support. */
export async function formatTable(): Promise<FormatRow[]> {
  return Promise.all(FORMAT_FACTS.map(async (f) => ({ ...f, modelwise: await supportOf(f.id) })));
}
