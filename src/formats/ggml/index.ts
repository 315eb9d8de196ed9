/**
 * Legacy ggml containers (before GGUF, 2022–Aug 2023): ggml docs/gguf.md "Historical State of
 * Affairs" https://github.com/ggml-org/ggml/blob/master/docs/gguf.md, llama.cpp
 * `convert_llama_ggml_to_gguf.py`, whisper.cpp `models/convert-pt-to-ggml.py` and
 * `models/convert-silero-vad-to-ggml.py` (read by `whisper_vad_init_with_params`).
 *
 * The magic is a u32 written little-endian, so the ASCII on disk reads backwards ("lmgg" = 'ggml').
 * None of these files has a self-describing header: after the magic (and a version for ggmf/ggjt)
 * come model-specific int32 hyper-parameters, so the variant is told apart by their plausibility.
 */
import { decodeLatin1, startsWith, view } from '../../io/bytes.js';
import { detection } from '../detection.js';
import type { FormatModule } from '../types.js';
import type { Probe } from '../../identify/probe.js';
import type { Confidence, Detection } from '../../types.js';

type Kind = 'ggml' | 'ggmf' | 'ggjt' | 'ggla';

/** llama_ftype of the ggjt era (llama.h, mid-2023); 4–6 were removed later. */
export const LLAMA_FTYPE: Record<number, string> = {
  0: 'F32', 1: 'F16', 2: 'Q4_0', 3: 'Q4_1', 4: 'Q4_1_SOME_F16', 5: 'Q4_2', 6: 'Q4_3', 7: 'Q8_0', 8: 'Q5_0', 9: 'Q5_1',
  10: 'Q2_K', 11: 'Q3_K_S', 12: 'Q3_K_M', 13: 'Q3_K_L', 14: 'Q4_K_S', 15: 'Q4_K_M', 16: 'Q5_K_S', 17: 'Q5_K_M', 18: 'Q6_K',
};
/** GGML_FTYPE (ggml.h) as used by whisper.cpp and the ggml examples; `qntvr*1000` is added by their quantizer. */
export const GGML_FTYPE: Record<number, string> = {
  0: 'F32', 1: 'F16', 2: 'Q4_0', 3: 'Q4_1', 4: 'Q4_1_SOME_F16', 7: 'Q8_0', 8: 'Q5_0', 9: 'Q5_1', 10: 'Q2_K', 11: 'Q3_K',
  12: 'Q4_K', 13: 'Q5_K', 14: 'Q6_K',
};

export function ftypeName(ftype: number, table: Record<number, string>): string {
  const qntvr = Math.floor(ftype / 1000);
  const base = ftype % 1000;
  const name = table[base] ?? 'unknown';
  return qntvr > 0 ? `${ftype} (${name}, quantization version ${qntvr})` : `${ftype} (${name})`;
}

const MAGICS: { bytes: string; kind: Kind; swapped: boolean }[] = [
  { bytes: 'lmgg', kind: 'ggml', swapped: false },
  { bytes: 'fmgg', kind: 'ggmf', swapped: false },
  { bytes: 'tjgg', kind: 'ggjt', swapped: false },
  { bytes: 'algg', kind: 'ggla', swapped: false },
  // Some early converters wrote the magic as plain bytes (struct.pack(">I") / b"ggjt").
  { bytes: 'ggml', kind: 'ggml', swapped: true },
  { bytes: 'ggmf', kind: 'ggmf', swapped: true },
  { bytes: 'ggjt', kind: 'ggjt', swapped: true },
  { bytes: 'ggla', kind: 'ggla', swapped: true },
];

const NAME = 'ggml (legacy)';
const within = (v: number, lo: number, hi: number): boolean => Number.isInteger(v) && v >= lo && v <= hi;

/** Reads int32 values from the head; undefined past its end. */
function reader(head: Uint8Array, le: boolean): (at: number) => number | undefined {
  const dv = view(head);
  return (at) => (at >= 0 && at + 4 <= head.length ? dv.getInt32(at, le) : undefined);
}

interface Match {
  variant: string;
  version: number | null;
  confidence: Confidence;
  evidence: string;
  details: Record<string, string | number | boolean | null>;
}

/** whisper.cpp VAD model (Silero): str model_type, i32 major/minor/patch, n_window, n_context, n_encoder_layers, … */
function whisperVad(head: Uint8Array, i32: (at: number) => number | undefined, base: number): Match | undefined {
  const len = i32(base);
  if (len === undefined || !within(len, 1, 128) || base + 4 + len + 28 > head.length) return undefined;
  const s = head.subarray(base + 4, base + 4 + len);
  if (!s.every((c) => c >= 0x20 && c < 0x7f)) return undefined;
  const type = decodeLatin1(s);
  let p = base + 4 + len;
  const major = i32(p)!, minor = i32(p + 4)!, patch = i32(p + 8)!;
  const window = i32(p + 12)!, context = i32(p + 16)!, layers = i32(p + 20)!;
  if (![major, minor, patch].every((v) => within(v, 0, 1000))) return undefined;
  if (!within(window, 1, 1 << 20) || !within(context, 0, 1 << 20) || !within(layers, 1, 64)) return undefined;
  p += 24;
  const channels: number[] = [];
  for (let i = 0; i < layers; i++) {
    const inC = i32(p), outC = i32(p + 4), k = i32(p + 8);
    if (inC === undefined || outC === undefined || k === undefined) break;
    if (!within(inC, 1, 1 << 16) || !within(outC, 1, 1 << 16) || !within(k, 1, 64)) return undefined;
    channels.push(outC);
    p += 12;
  }
  const lstmHidden = channels.length === layers ? i32(p + 4) : undefined;
  const version = `${major}.${minor}.${patch}`;
  const vadLike = /vad|silero/i.test(type);
  return {
    variant: 'ggml-whisper-vad',
    version: null,
    confidence: vadLike ? 'high' : 'medium',
    evidence: `whisper.cpp VAD model: type "${type}", version ${version}, window ${window}, context ${context}, ${layers} encoder layers${lstmHidden !== undefined && lstmHidden > 0 ? `, LSTM hidden ${lstmHidden}` : ''}`,
    details: {
      model: 'whisper-vad',
      modelType: type,
      modelVersion: version,
      n_window: window,
      n_context: context,
      n_encoder_layers: layers,
      ...(lstmHidden !== undefined && lstmHidden > 0 ? { lstm_hidden_size: lstmHidden } : {}),
    },
  };
}

const WHISPER_KEYS = ['n_vocab', 'n_audio_ctx', 'n_audio_state', 'n_audio_head', 'n_audio_layer', 'n_text_ctx', 'n_text_state', 'n_text_head', 'n_text_layer', 'n_mels', 'ftype'] as const;

/** whisper.cpp model: 11 hparams, then the mel filter bank (n_mel, n_fft) whose n_mel equals hparams.n_mels. */
function whisper(i32: (at: number) => number | undefined, base: number): Match | undefined {
  const h: number[] = [];
  for (let i = 0; i < 11; i++) {
    const v = i32(base + 4 * i);
    if (v === undefined) return undefined;
    h.push(v);
  }
  const [nVocab, audioCtx, audioState, audioHead, audioLayer, textCtx, textState, textHead, textLayer, nMels, ftype] = h as [number, number, number, number, number, number, number, number, number, number, number];
  const sane =
    within(nVocab, 1, 1 << 20) && within(audioCtx, 1, 1 << 16) && within(audioState, 1, 1 << 16) && within(audioHead, 1, 1024) &&
    within(audioLayer, 1, 1024) && within(textCtx, 1, 1 << 16) && within(textState, 1, 1 << 16) && within(textHead, 1, 1024) &&
    within(textLayer, 1, 1024) && within(nMels, 1, 1024) && within(ftype, 0, 10_000);
  if (!sane) return undefined;
  const melN = i32(base + 44);
  const melFft = i32(base + 48);
  const filtersMatch = melN === nMels && melFft !== undefined && within(melFft, 1, 1 << 16);
  const typical = (nMels === 80 || nMels === 128) && audioCtx === 1500 && textCtx === 448;
  if (!filtersMatch && !typical) return undefined;
  const details: Record<string, number | string> = { model: 'whisper' };
  WHISPER_KEYS.forEach((k, i) => (details[k] = h[i]!));
  details.ftypeName = ftypeName(ftype, GGML_FTYPE);
  return {
    variant: 'ggml-whisper',
    version: null,
    confidence: filtersMatch ? 'high' : 'medium',
    evidence:
      `whisper.cpp hparams n_vocab ${nVocab}, n_audio_ctx ${audioCtx}, n_audio_state ${audioState}, n_audio_layer ${audioLayer}, ` +
      `n_text_ctx ${textCtx}, n_text_layer ${textLayer}, n_mels ${nMels}, ftype ${ftypeName(ftype, GGML_FTYPE)}` +
      (filtersMatch ? `; mel filters ${melN}x${melFft}` : ''),
    details,
  };
}

/** llama.cpp hparams: n_vocab, n_embd, n_mult, n_head, n_layer, n_rot, ftype; then the vocabulary. */
function llama(i32: (at: number) => number | undefined, base: number): { evidence: string; details: Record<string, number | string> } | undefined {
  const h: number[] = [];
  for (let i = 0; i < 7; i++) {
    const v = i32(base + 4 * i);
    if (v === undefined) return undefined;
    h.push(v);
  }
  const [nVocab, nEmbd, nMult, nHead, nLayer, nRot, ftype] = h as [number, number, number, number, number, number, number];
  if (!within(nVocab, 1, 1 << 21) || !within(nEmbd, 1, 1 << 17) || !within(nMult, 1, 1 << 17) || !within(nHead, 1, 4096) || !within(nLayer, 1, 4096) || !within(nRot, 0, 1 << 16) || !within(ftype, 0, 10_000)) return undefined;
  const firstToken = i32(base + 28);
  if (firstToken !== undefined && !within(firstToken, 0, 4096)) return undefined;
  return {
    evidence: `llama hparams n_vocab ${nVocab}, n_embd ${nEmbd}, n_mult ${nMult}, n_head ${nHead}, n_layer ${nLayer}, n_rot ${nRot}, ftype ${ftypeName(ftype, LLAMA_FTYPE)}`,
    details: { model: 'llama', n_vocab: nVocab, n_embd: nEmbd, n_mult: nMult, n_head: nHead, n_layer: nLayer, n_rot: nRot, ftype, ftypeName: ftypeName(ftype, LLAMA_FTYPE) },
  };
}

/**
 * ggml example models (gpt-2, gpt-j, gpt-neox …): n_vocab, n_ctx, n_embd, n_head, n_layer, [n_rot, [par_res]], ftype,
 * followed by the vocabulary size again — that repeat is what tells them apart.
 */
function ggmlExample(i32: (at: number) => number | undefined, base: number): { evidence: string; details: Record<string, number | string> } | undefined {
  const nVocab = i32(base);
  if (nVocab === undefined || !within(nVocab, 2, 1 << 21)) return undefined;
  for (const n of [6, 7, 8]) {
    if (i32(base + 4 * n) !== nVocab) continue;
    const h: number[] = [];
    for (let i = 0; i < n; i++) h.push(i32(base + 4 * i)!);
    const [, nCtx, nEmbd, nHead, nLayer] = h as [number, number, number, number, number];
    const ftype = h[n - 1]!;
    if (!within(nCtx, 1, 1 << 20) || !within(nEmbd, 1, 1 << 17) || !within(nHead, 1, 4096) || !within(nLayer, 1, 4096) || !within(ftype, 0, 10_000)) continue;
    return {
      evidence: `ggml example hparams n_vocab ${nVocab}, n_ctx ${nCtx}, n_embd ${nEmbd}, n_head ${nHead}, n_layer ${nLayer}, ftype ${ftypeName(ftype, GGML_FTYPE)}`,
      details: { n_vocab: nVocab, n_ctx: nCtx, n_embd: nEmbd, n_head: nHead, n_layer: nLayer, ftype, ftypeName: ftypeName(ftype, GGML_FTYPE) },
    };
  }
  return undefined;
}

/** rwkv.cpp reuses 'ggmf' with versions 100/101: n_vocab, n_embed, n_layer, data_type. */
function rwkv(i32: (at: number) => number | undefined, version: number): Match | undefined {
  if (version !== 100 && version !== 101) return undefined;
  const [nVocab, nEmbed, nLayer, type] = [i32(8), i32(12), i32(16), i32(20)];
  if (nVocab === undefined || nEmbed === undefined || nLayer === undefined || type === undefined) return undefined;
  if (!within(nVocab, 1, 1 << 21) || !within(nEmbed, 1, 1 << 17) || !within(nLayer, 1, 4096) || !within(type, 0, 64)) return undefined;
  return {
    variant: 'ggmf',
    version,
    confidence: 'high',
    evidence: `rwkv.cpp hparams n_vocab ${nVocab}, n_embed ${nEmbed}, n_layer ${nLayer}, data type ${type}`,
    details: { model: 'rwkv', n_vocab: nVocab, n_embed: nEmbed, n_layer: nLayer, data_type: type },
  };
}

function analyse(head: Uint8Array, kind: Kind, le: boolean): Match | undefined {
  const i32 = reader(head, le);
  if (kind === 'ggml') {
    return (
      whisperVad(head, i32, 4) ??
      whisper(i32, 4) ??
      ((): Match | undefined => {
        const ex = ggmlExample(i32, 4);
        if (ex) return { variant: 'ggml', version: null, confidence: 'high', evidence: ex.evidence, details: ex.details };
        const ll = llama(i32, 4);
        if (ll) return { variant: 'ggml', version: null, confidence: 'high', evidence: ll.evidence, details: ll.details };
        return undefined;
      })()
    );
  }
  const version = i32(4);
  if (version === undefined) return undefined;
  if (kind === 'ggla') {
    const r = i32(8);
    const alpha = i32(12);
    if (version !== 1 || r === undefined || alpha === undefined || !within(r, 1, 1 << 16) || !within(alpha, 0, 1 << 20)) return undefined;
    return { variant: 'ggla', version, confidence: 'high', evidence: `LoRA adapter, version ${version}, r ${r}, alpha ${alpha}`, details: { model: 'lora', r, alpha } };
  }
  if (kind === 'ggmf') {
    const rw = rwkv(i32, version);
    if (rw) return rw;
    if (version !== 1) return undefined;
    const ll = llama(i32, 8);
    return ll ? { variant: 'ggmf', version, confidence: 'high', evidence: ll.evidence, details: ll.details } : undefined;
  }
  // ggjt
  if (!within(version, 1, 3)) return undefined;
  const ll = llama(i32, 8);
  return ll ? { variant: `ggjt-v${version}`, version, confidence: 'high', evidence: ll.evidence, details: ll.details } : undefined;
}

const KIND_TEXT: Record<Kind, string> = { ggml: 'ggml magic (unversioned)', ggmf: 'ggmf magic', ggjt: 'ggjt magic', ggla: 'ggla magic' };

export const ggml: FormatModule = {
  id: 'ggml',
  name: NAME,
  extensions: ['.bin', '.ggml'],
  load: async () => ({ ...(await import('./inspect.js')), readTensor: (await import('../read-range.js')).readGgmlRange }),
  async detect(probe: Probe): Promise<Detection | undefined> {
    try {
      return await detectGgml(probe);
    } catch {
      return undefined;
    }
  },
};

async function detectGgml(probe: Probe): Promise<Detection | undefined> {
  const head = await probe.head();
  if (head.length < 8) return undefined;
  const magic = MAGICS.find((m) => startsWith(head, m.bytes));
  if (!magic) return undefined;
  // Byte-swapped magic: values are still little-endian in the files seen in the wild; try big-endian too.
  const orders = magic.swapped ? [true, false] : [true];
  for (const le of orders) {
    const m = analyse(head, magic.kind, le);
    if (!m) continue;
    const magicText = `${KIND_TEXT[magic.kind]}${m.version !== null ? `, version ${m.version}` : ''}${magic.swapped ? ` (written as plain bytes "${magic.bytes}")` : ''}`;
    return detection('ggml', NAME, m.variant, m.version, m.confidence, [`${magicText}; ${m.evidence}`], {
      details: { ...m.details, ...(le ? {} : { endianness: 'big' }) },
    });
  }
  // Magic without recognisable hyper-parameters. Plain-byte magics are ordinary ASCII words: demand structure.
  if (magic.swapped) return undefined;
  const i32 = reader(head, true);
  const version = magic.kind === 'ggml' ? null : (i32(4) ?? null);
  const known = magic.kind === 'ggjt' ? version !== null && within(version, 1, 3) : magic.kind === 'ggmf' || magic.kind === 'ggla' ? version === 1 : true;
  const variant = magic.kind === 'ggjt' && known ? `ggjt-v${version}` : magic.kind;
  const words = Array.from({ length: 6 }, (_, i) => i32((magic.kind === 'ggml' ? 4 : 8) + 4 * i)).filter((v) => v !== undefined);
  return detection('ggml', NAME, variant, version, 'low', [
    `${KIND_TEXT[magic.kind]}${version !== null ? `, version ${version}${known ? '' : ' (unknown)'}` : ''}; hyper-parameters not recognised (first values ${words.join(', ')})`,
  ]);
}
