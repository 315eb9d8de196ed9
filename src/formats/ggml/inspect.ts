/**
 * Legacy ggml inspection (pre-GGUF llama.cpp, whisper.cpp, ggml examples, rwkv.cpp, LoRA adapters):
 * the header and vocabulary (./header.ts), then every tensor record, its payload skipped (./records.ts).
 * Hyper-parameters are mapped to the common names where they fit; the native ones stay in `details`.
 */
import { ModelwiseError } from '../../errors.js';
import { describeQuantization } from '../../inspect/summary.js';
import type { HyperParameters, TensorInfo } from '../../types.js';
import type { InspectInput, Inspection } from '../types.js';
import { readGgmlHeader, type GgmlHeader } from './header.js';
import { GGML_FTYPE, LLAMA_FTYPE, ftypeName } from './index.js';
import { walkRecords } from './records.js';

function hyperParameters(h: GgmlHeader): HyperParameters {
  const p = h.hparams as Record<string, number>;
  const hp: HyperParameters = {};
  const set = (k: string, v: unknown) => {
    if (typeof v === 'number' && Number.isFinite(v)) hp[k] = v;
  };
  switch (h.model) {
    case 'whisper':
      set('vocabSize', p.n_vocab);
      set('contextLength', p.n_text_ctx);
      set('embeddingLength', p.n_text_state);
      set('heads', p.n_text_head);
      set('layers', p.n_text_layer);
      set('audioContextLength', p.n_audio_ctx);
      set('audioEmbeddingLength', p.n_audio_state);
      set('audioHeads', p.n_audio_head);
      set('audioLayers', p.n_audio_layer);
      set('mels', p.n_mels);
      break;
    case 'llama': {
      set('vocabSize', p.n_vocab);
      set('embeddingLength', p.n_embd);
      set('heads', p.n_head);
      set('layers', p.n_layer);
      set('ropeDimensions', p.n_rot);
      if (p.n_embd && p.n_head) set('headDim', p.n_embd / p.n_head);
      // llama.cpp of the time derived the feed-forward width from n_mult.
      if (p.n_embd && p.n_mult) set('feedForwardLength', Math.floor((Math.floor((2 * (4 * p.n_embd)) / 3) + p.n_mult - 1) / p.n_mult) * p.n_mult);
      break;
    }
    case 'rwkv':
      set('vocabSize', p.n_vocab);
      set('embeddingLength', p.n_embed);
      set('layers', p.n_layer);
      break;
    case 'whisper-vad':
    case 'lora':
      break;
    default:
      set('vocabSize', p.n_vocab);
      set('contextLength', p.n_ctx);
      set('embeddingLength', p.n_embd);
      set('heads', p.n_head);
      set('layers', p.n_layer);
      set('ropeDimensions', p.n_rot);
  }
  return hp;
}

/** The architecture a ggml example was converted from, by its tensor names. */
function exampleArchitecture(tensors: TensorInfo[]): string | null {
  const n = tensors[0]?.name ?? '';
  if (/^model\/(h\d|wte|wpe|ln_f)/.test(n) || tensors.some((t) => t.name.startsWith('model/h0/'))) return 'gpt-2';
  if (tensors.some((t) => t.name.startsWith('gpt_neox.'))) return 'gpt-neox';
  if (tensors.some((t) => /^transformer\.h\.\d+\.attn\.q_proj/.test(t.name))) return 'gpt-j';
  if (tensors.some((t) => t.name.startsWith('transformer.blocks.'))) return 'mpt';
  return null;
}

function architecture(h: GgmlHeader, tensors: TensorInfo[]): string | null {
  if (h.model === 'whisper-vad') return /silero/i.test(String(h.hparams.model_type)) ? 'silero-vad' : String(h.hparams.model_type);
  if (h.model === 'lora') return 'lora-adapter';
  return h.model ?? exampleArchitecture(tensors);
}

export async function inspect(input: InspectInput): Promise<Inspection> {
  const probe = input.probe;
  if (!probe) throw new ModelwiseError('USAGE', 'ggml inspection needs the file');
  let h: GgmlHeader;
  try {
    h = await readGgmlHeader(probe.source, input.id);
  } catch (e) {
    // A ggml container of an unknown model: say what is known rather than failing.
    if (!(e instanceof ModelwiseError) || e.code !== 'UNSUPPORTED') throw e;
    return { producer: null, architecture: null, tensors: [], details: { variant: input.id.format?.variant ?? null }, metadata: {}, diagnostics: [{ code: 'GGML_UNKNOWN_LAYOUT', message: `${e.message}; tensor records not read` }] };
  }
  const walk = await walkRecords(probe.source, { start: h.recordsStart, littleEndian: h.littleEndian, align: h.align, legacy: h.legacy, typeMap: h.typeMap });
  const diagnostics = [...walk.diagnostics];
  if (walk.legacyTensors > 0) {
    const kinds = [...new Set(walk.tensors.filter((t) => /^q(4_[0-3]|8_[01])$/.test(t.dtype)).map((t) => t.dtype))].join(', ');
    diagnostics.push({
      code: 'GGML_OBSOLETE_QUANT_LAYOUT',
      message: `${walk.legacyTensors} tensor(s) (${kinds}) use the block layout of ggml before May 2023 (f32 scales; q4_2/q4_3 since removed): sized correctly here, but current ggml / llama.cpp cannot load them`,
    });
  }
  if (walk.tensors.length === 0 && walk.diagnostics.length === 0) diagnostics.push({ code: 'GGML_NO_TENSORS', message: 'no tensor records after the header (a vocabulary-only or test file)' });
  // Quantization in words, with bits per weight from the sizes actually stored (legacy blocks are bigger).
  const byDtype: Record<string, number> = {};
  let elements = 0;
  let bytes = 0;
  for (const t of walk.tensors) {
    const n = (t.shape as number[]).reduce((a, d) => a * d, 1);
    byDtype[t.dtype] = (byDtype[t.dtype] ?? 0) + n;
    elements += n;
    bytes += t.byteLength as number;
  }
  const ftype = typeof h.hparams.ftype === 'number' ? h.hparams.ftype : typeof h.hparams.data_type === 'number' ? h.hparams.data_type : undefined;
  const table = h.model === 'llama' ? LLAMA_FTYPE : GGML_FTYPE;
  const fileType = ftype !== undefined && h.model !== 'rwkv' ? (table[ftype % 1000] ?? `ftype ${ftype}`) : undefined;
  const words = describeQuantization(byDtype);
  const bpw = elements > 0 ? Math.round(((bytes * 8) / elements) * 100) / 100 : undefined;
  const quantization = words && Object.keys(byDtype).some((d) => d.startsWith('q'))
    ? { summary: `${fileType ? `${fileType}: ` : ''}${words.summary.replace(/, [\d.]+ bits\/weight$/, '')}${bpw !== undefined ? `, ${bpw} bits/weight` : ''}`, ...(fileType ? { fileType } : {}), ...(bpw !== undefined ? { bitsPerWeight: bpw } : {}) }
    : undefined;
  const hp = hyperParameters(h);
  const variant = input.id.format?.variant;
  return {
    producer: h.model === 'whisper' || h.model === 'whisper-vad' ? 'whisper.cpp' : h.model === 'rwkv' ? 'rwkv.cpp' : h.model === 'llama' || h.model === 'lora' ? 'llama.cpp' : 'ggml',
    architecture: architecture(h, walk.tensors),
    tensors: walk.tensors,
    ...(quantization ? { quantization } : {}),
    ...(Object.keys(hp).length ? { hyperParameters: hp } : {}),
    ...(h.vocabCount !== undefined ? { tokenizer: { model: h.model === 'whisper' ? 'whisper (gpt-2 bpe)' : 'ggml vocabulary', vocabSize: h.vocabCount, scores: h.vocabScores ?? false } } : {}),
    details: {
      magic: h.magic,
      ...(h.version !== null ? { version: h.version } : {}),
      ...(variant ? { variant } : {}),
      hparams: h.hparams,
      ...(ftype !== undefined && h.model !== 'rwkv' ? { ftype: ftypeName(ftype, table) } : {}),
      ...(h.align ? { dataAlignment: h.align } : {}),
      ...(h.littleEndian ? {} : { endianness: 'big' }),
      recordsStart: h.recordsStart,
      ...(h.legacy ? { quantLayout: 'pre-2023-05 (f32-scale q4_0/q4_1/q8_0)' } : {}),
    },
    metadata: {},
    diagnostics,
  };
}
