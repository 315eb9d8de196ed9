/** Small builders shared by detectors so every Detection has the same shape. */
import type { Confidence, Detection, FormatId, ModelFile } from '../types.js';

export function detection(
  id: FormatId,
  name: string,
  variant: string,
  version: string | number | null,
  confidence: Confidence,
  evidence: string[],
  extra: { files?: ModelFile[]; details?: Detection['details'] } = {},
): Detection {
  return {
    format: { id, variant, version: version === null ? null : String(version), name },
    confidence,
    evidence,
    ...(extra.files && extra.files.length > 0 ? { files: extra.files } : {}),
    ...(extra.details ? { details: extra.details } : {}),
  };
}

/** `model-00001-of-00003.safetensors` → { index: 1, total: 3, prefix: 'model', suffix: '.safetensors' } */
export function shardPattern(name: string): { prefix: string; index: number; total: number; suffix: string; width: number } | undefined {
  const m = /^(.*?)-(\d+)-of-(\d+)(\..*)?$/.exec(name);
  if (!m) return undefined;
  return { prefix: m[1]!, index: Number(m[2]), total: Number(m[3]), suffix: m[4] ?? '', width: m[2]!.length };
}
