/**
 * Headers of the legacy ggml containers, up to the first tensor record:
 * - whisper.cpp (`whisper_model_load`): 'ggml', 11 i32 hparams, mel filters (i32 n_mel, n_fft,
 *   f32[n_mel·n_fft]), i32 n_vocab + n_vocab × (u32 len, bytes);
 * - whisper.cpp VAD (`whisper_vad_init_with_params`): 'ggml', i32 len + model type, i32 major, minor,
 *   patch, n_window, n_context, n_encoder_layers, 3 i32 per encoder layer, 4 i32 (LSTM and final conv);
 * - llama.cpp (convert_llama_ggml_to_gguf.py): 'ggml' | 'ggmf' v1 | 'ggjt' v1–3, 7 i32 hparams
 *   (n_vocab, n_embd, n_mult, n_head, n_layer, n_rot, ftype), vocab (u32 len, bytes, f32 score —
 *   no score in unversioned 'ggml');
 * - ggml examples (gpt-2, gpt-j, gpt-neox …): 'ggml', 6–8 i32 hparams, i32 n_vocab, vocab;
 * - rwkv.cpp (docs/FILE_FORMAT.md): 'ggmf' v100/101, n_vocab, n_embed, n_layer, data_type;
 * - LoRA adapters (llama.cpp convert-lora-to-ggml.py): 'ggla' v1, r, alpha.
 * Lengths and counts are checked against the bytes left before any loop or read.
 */
import { ModelwiseError } from '../../errors.js';
import { SequentialReader } from '../../io/reader.js';
import type { ByteSource } from '../../io/source.js';
import type { Identification } from '../../types.js';
import { RWKV_TYPES } from './layouts.js';
import { plausibleAt } from './records.js';

export interface GgmlHeader {
  magic: 'ggml' | 'ggmf' | 'ggjt' | 'ggla';
  version: number | null;
  /** whisper, whisper-vad, llama, rwkv, lora, or null (a ggml example model). */
  model: string | null;
  littleEndian: boolean;
  /** Native hyper-parameters, with the names the loaders use. */
  hparams: Record<string, number | string>;
  vocabCount?: number;
  vocabScores?: boolean;
  recordsStart: number;
  align: number;
  legacy: boolean;
  typeMap?: (t: number) => number | undefined;
}

const MAGICS: Record<string, GgmlHeader['magic']> = { lmgg: 'ggml', fmgg: 'ggmf', tjgg: 'ggjt', algg: 'ggla', ggml: 'ggml', ggmf: 'ggmf', ggjt: 'ggjt', ggla: 'ggla' };

async function ints(r: SequentialReader, names: readonly string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const n of names) out[n] = await r.i32(n);
  return out;
}

/** Skip a vocabulary of `n` entries (u32 length + bytes [+ f32 score]). */
async function skipVocab(r: SequentialReader, n: number, scores: boolean): Promise<void> {
  if (n < 0 || n * (scores ? 8 : 4) > r.remaining) throw new ModelwiseError('MALFORMED', `vocabulary of ${n} entries cannot fit in the ${r.remaining} bytes left`, { file: r.source.name, offset: r.offset });
  for (let i = 0; i < n; i++) {
    const len = await r.u32('token length');
    if (len > 1 << 20) throw new ModelwiseError('MALFORMED', `token #${i} is ${len} bytes long`, { file: r.source.name, offset: r.offset - 4 });
    r.skip(len + (scores ? 4 : 0), `token #${i}`);
  }
}

/** Read a vocabulary whose score field is uncertain: the layout after which a tensor record follows. */
async function vocabEither(source: ByteSource, start: number, n: number, le: boolean, scoresFirst: boolean): Promise<{ end: number; scores: boolean }> {
  let firstError: unknown;
  for (const scores of scoresFirst ? [true, false] : [false, true]) {
    const r = new SequentialReader(source, start, 256 * 1024, le);
    try {
      await skipVocab(r, n, scores);
      if (await plausibleAt(source, r.offset, { littleEndian: le })) return { end: r.offset, scores };
    } catch (e) {
      firstError ??= e;
    }
  }
  if (firstError) throw firstError;
  // Neither layout is followed by a tensor record: keep the expected one (the walk will report why).
  const r = new SequentialReader(source, start, 256 * 1024, le);
  await skipVocab(r, n, scoresFirst);
  return { end: r.offset, scores: scoresFirst };
}

const WHISPER = ['n_vocab', 'n_audio_ctx', 'n_audio_state', 'n_audio_head', 'n_audio_layer', 'n_text_ctx', 'n_text_state', 'n_text_head', 'n_text_layer', 'n_mels', 'ftype'] as const;
const LLAMA = ['n_vocab', 'n_embd', 'n_mult', 'n_head', 'n_layer', 'n_rot', 'ftype'] as const;
const EXAMPLE: Record<number, readonly string[]> = {
  6: ['n_vocab', 'n_ctx', 'n_embd', 'n_head', 'n_layer', 'ftype'],
  7: ['n_vocab', 'n_ctx', 'n_embd', 'n_head', 'n_layer', 'n_rot', 'ftype'],
  8: ['n_vocab', 'n_ctx', 'n_embd', 'n_head', 'n_layer', 'n_rot', 'par_res', 'ftype'],
};

/** Read the header of a legacy ggml file; `id` is what identify said about it. */
export async function readGgmlHeader(source: ByteSource, id: Identification): Promise<GgmlHeader> {
  const first = await source.read(0, Math.min(8, source.size));
  const magic = MAGICS[String.fromCharCode(...first.subarray(0, 4))];
  if (!magic || first.length < 8) throw new ModelwiseError('MALFORMED', 'no ggml / ggmf / ggjt / ggla magic', { file: source.name, offset: 0 });
  const le = id.details?.endianness !== 'big';
  const model = typeof id.details?.model === 'string' ? id.details.model : null;
  const r = new SequentialReader(source, 4, 256 * 1024, le);
  const version = magic === 'ggml' ? null : await r.u32('version');
  const base = { magic, version, model, littleEndian: le, align: 0, legacy: false };

  if (magic === 'ggla') {
    const hparams = await ints(r, ['r', 'alpha']);
    return { ...base, hparams, recordsStart: r.offset, align: 32 };
  }
  if (magic === 'ggmf' && (version === 100 || version === 101)) {
    const hparams = await ints(r, ['n_vocab', 'n_embed', 'n_layer', 'data_type']);
    return { ...base, model: 'rwkv', hparams, recordsStart: r.offset, legacy: version === 100, typeMap: (t) => RWKV_TYPES[t] };
  }
  if (magic === 'ggmf' || magic === 'ggjt') {
    if (magic === 'ggmf' ? version !== 1 : version === null || version < 1 || version > 3) {
      throw new ModelwiseError('UNSUPPORTED', `${magic} version ${version}`, { file: source.name, offset: 4, expected: magic === 'ggmf' ? '1' : '1, 2 or 3' });
    }
    const hparams = await ints(r, LLAMA);
    const v = await vocabEither(source, r.offset, hparams.n_vocab!, le, true);
    return { ...base, model: 'llama', hparams, vocabCount: hparams.n_vocab, vocabScores: v.scores, recordsStart: v.end, align: magic === 'ggjt' ? 32 : 0, legacy: magic === 'ggmf' || (version ?? 0) < 3 };
  }
  // Unversioned 'ggml': whisper, whisper VAD, llama (March 2023) or a ggml example.
  if (model === 'whisper-vad') {
    const n = await r.i32('model type length');
    if (n < 1 || n > 1024) throw new ModelwiseError('MALFORMED', `VAD model type length ${n}`, { file: source.name, offset: 4 });
    const hparams: Record<string, number | string> = { model_type: await r.string(n, 'model type') };
    Object.assign(hparams, await ints(r, ['major', 'minor', 'patch', 'n_window', 'n_context', 'n_encoder_layers']));
    const layers = hparams.n_encoder_layers as number;
    if (layers < 0 || layers * 12 > r.remaining) throw new ModelwiseError('MALFORMED', `${layers} encoder layers cannot fit in the file`, { file: source.name, offset: r.offset });
    const enc: string[] = [];
    for (let i = 0; i < layers; i++) {
      const l = await ints(r, ['in', 'out', 'kernel']);
      enc.push(`${l.in}→${l.out} k${l.kernel}`);
    }
    hparams.encoder = enc.join(', ');
    Object.assign(hparams, await ints(r, ['lstm_input_size', 'lstm_hidden_size', 'final_conv_in', 'final_conv_out']));
    return { ...base, hparams, recordsStart: r.offset };
  }
  if (model === 'whisper') {
    const hparams: Record<string, number | string> = await ints(r, WHISPER);
    const nMel = await r.i32('mel filters n_mel');
    const nFft = await r.i32('mel filters n_fft');
    if (nMel < 0 || nFft < 0 || nMel * nFft * 4 > r.remaining) throw new ModelwiseError('MALFORMED', `mel filters ${nMel}×${nFft} cannot fit in the file`, { file: source.name, offset: r.offset - 8 });
    r.skip(nMel * nFft * 4, 'mel filters');
    hparams.mel_filters = `${nMel}x${nFft}`;
    const nVocab = await r.i32('vocabulary size');
    await skipVocab(r, nVocab, false);
    return { ...base, hparams, vocabCount: nVocab, vocabScores: false, recordsStart: r.offset, legacy: Math.floor((hparams.ftype as number) / 1000) < 2 };
  }
  if (model === 'llama') {
    const hparams = await ints(r, LLAMA);
    const v = await vocabEither(source, r.offset, hparams.n_vocab!, le, false);
    return { ...base, hparams, vocabCount: hparams.n_vocab, vocabScores: v.scores, recordsStart: v.end, legacy: true };
  }
  // A ggml example: n hparams, then n_vocab repeated (what the detector matched on).
  const head = await ints(r, ['n_vocab']);
  for (const n of id.confidence === 'low' || head.n_vocab! < 1 ? [] : [6, 7, 8]) {
    const b = await source.read(4, 4 * (n + 1));
    if (b.length < 4 * (n + 1)) continue;
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    if (dv.getInt32(4 * n, le) !== head.n_vocab) continue;
    const hparams: Record<string, number> = {};
    EXAMPLE[n]!.forEach((k, i) => (hparams[k] = dv.getInt32(4 * i, le)));
    const v = await vocabEither(source, 4 + 4 * (n + 1), head.n_vocab!, le, false);
    return { ...base, hparams, vocabCount: head.n_vocab, vocabScores: v.scores, recordsStart: v.end, legacy: Math.floor(hparams.ftype! / 1000) < 2 };
  }
  throw new ModelwiseError('UNSUPPORTED', 'ggml file whose hyper-parameters are not of a known model (whisper, llama, ggml examples)', { file: source.name, offset: 4 });
}
