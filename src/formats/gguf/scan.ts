/**
 * GGUF security rules: Jinja chat templates (TPL-001) and header values that would overflow or
 * mislead a reader (GGUF-001: the Talos 2024 / CVE-2025-53630 / "Bleeding Llama" class of bugs).
 */
import { ModelwiseError } from '../../errors.js';
import { scanTemplate } from '../../scan/jinja.js';
import type { Finding } from '../../scan/types.js';
import type { InspectInput } from '../types.js';
import { readGgufHeader } from './inspect.js';

export async function scan(input: InspectInput): Promise<Finding[]> {
  const probe = input.probe;
  if (!probe) return [];
  const findings: Finding[] = [];
  let h;
  try {
    h = await readGgufHeader(probe.source);
  } catch (e) {
    if (!(e instanceof ModelwiseError) || e.code === 'LIMIT_EXCEEDED') throw e;
    return [{ rule: 'GGUF-001', severity: 'high', location: e.file ?? probe.path, evidence: e.message, message: 'the GGUF header holds values that overflow or run past the file: crafted to crash or mislead readers, or truncated', malformed: true }];
  }
  for (const [k, v] of Object.entries(h.metadata)) {
    if (k.startsWith('tokenizer.chat_template') && typeof v === 'string') findings.push(...scanTemplate(v, `${probe.path} > ${k}`));
  }
  for (const d of h.diagnostics) {
    if (d.code === 'TENSOR_OUT_OF_BOUNDS' || d.code === 'GGUF_UNKNOWN_TYPE' || d.code === 'GGUF_BAD_SHAPE') {
      findings.push({ rule: 'GGUF-001', severity: 'high', location: probe.path, evidence: d.message, message: 'tensor infos that point outside the file or do not add up: a truncated download, or crafted to make readers read out of bounds', malformed: true });
    } else if (d.code === 'GGUF_DUPLICATE_KEY' || d.code === 'GGUF_OFFSET_GAP') {
      findings.push({ rule: 'GGUF-002', severity: 'low', location: probe.path, evidence: d.message, message: 'a header irregularity that llama.cpp rejects' });
    }
  }
  return findings;
}
