/**
 * Tokenizer metadata for GGUF from a Hugging Face folder, as llama.cpp's convert_hf_to_gguf.py
 * writes it: SentencePiece `tokenizer.model` → `tokenizer.ggml.model = llama`; byte-level BPE
 * `tokenizer.json` → `gpt2` with merges and a pre-tokenizer name; special token ids, add_bos/eos
 * and the chat template from tokenizer_config.json (gguf-py/gguf/vocab.py).
 */
import { ModelwiseError } from '../../errors.js';
import { scanMessage, fieldFloat, WIRE, type ProtoField } from '../../codecs/protobuf.js';
import type { TreeProbe } from '../../identify/probe.js';
import { isObject } from '../../identify/probe.js';
import type { GgufKv } from '../writers/gguf.js';

/** GGUF token types (llama_token_type), the same numbers SentencePiece uses. */
export const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;

interface Vocab {
  model: 'llama' | 'gpt2';
  pre: string;
  tokens: string[];
  scores?: number[];
  types: number[];
  merges?: string[];
}

/** Strict UTF-8 that keeps a leading U+FEFF: llama's vocabulary has a "\ufeff" piece (id 30143). */
const pieceUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function pieceText(buf: Uint8Array, f: ProtoField): string | undefined {
  if (f.wire !== WIRE.len || f.truncated || f.length > 1 << 16) return undefined;
  try {
    return pieceUtf8.decode(buf.subarray(f.at, f.end));
  } catch {
    return undefined;
  }
}

/** Parse a SentencePiece ModelProto: pieces = field 1 {piece = 1, score = 2 (float), type = 3}. */
export function parseSentencePiece(buf: Uint8Array): { pieces: string[]; scores: number[]; types: number[] } {
  const top = scanMessage(buf, 0, buf.length, { maxFields: 10_000_000 });
  if (!top.ok) throw new ModelwiseError('MALFORMED', 'tokenizer.model is not a SentencePiece protobuf', { file: 'tokenizer.model', offset: top.errorAt });
  const pieces: string[] = [];
  const scores: number[] = [];
  const types: number[] = [];
  for (const f of top.fields) {
    if (f.field !== 1 || f.wire !== WIRE.len) continue;
    const m = scanMessage(buf, f.at, f.end);
    let piece: string | undefined;
    let score = 0;
    let type = 1;
    for (const g of m.fields as ProtoField[]) {
      if (g.field === 1) piece = pieceText(buf, g);
      else if (g.field === 2 && g.wire === WIRE.i32) score = fieldFloat(buf, g) ?? 0;
      else if (g.field === 3 && g.wire === WIRE.varint) type = g.value ?? 1;
    }
    if (piece === undefined) throw new ModelwiseError('MALFORMED', `SentencePiece piece #${pieces.length} has no text`, { file: 'tokenizer.model', offset: f.at });
    pieces.push(piece);
    scores.push(score);
    types.push(type);
  }
  if (pieces.length === 0) throw new ModelwiseError('MALFORMED', 'tokenizer.model has no pieces', { file: 'tokenizer.model' });
  return { pieces, scores, types };
}

/** Known byte-level BPE pre-tokenizer regexes → llama.cpp's `tokenizer.ggml.pre` names. */
const PRE_TOKENIZERS: [string, string][] = [
  ["(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", 'llama-bpe'],
  ["(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", 'qwen2'],
  ["'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+", 'gpt-2'],
];

function preTokenizerName(tj: Record<string, unknown>): string {
  const pre = tj.pre_tokenizer;
  const regexes: string[] = [];
  let byteLevelDefault = false;
  const visit = (p: unknown): void => {
    if (!isObject(p)) return;
    if (p.type === 'Sequence' && Array.isArray(p.pretokenizers)) p.pretokenizers.forEach(visit);
    if (p.type === 'Split' && isObject(p.pattern) && typeof p.pattern.Regex === 'string') regexes.push(p.pattern.Regex);
    if (p.type === 'ByteLevel' && p.use_regex !== false) byteLevelDefault = true;
  };
  visit(pre);
  for (const r of regexes) {
    const hit = PRE_TOKENIZERS.find(([re]) => re === r);
    if (hit) return hit[1];
  }
  if (regexes.length === 0 && byteLevelDefault) return 'gpt-2';
  throw new ModelwiseError('UNSUPPORTED', `unknown BPE pre-tokenizer ${regexes[0] ? JSON.stringify(regexes[0].slice(0, 80)) : JSON.stringify(pre).slice(0, 80)}: cannot choose tokenizer.ggml.pre`, {
    file: 'tokenizer.json',
    expected: PRE_TOKENIZERS.map(([, n]) => n).join(', '),
  });
}

function bpeVocab(tj: Record<string, unknown>, vocabSize: number | undefined): Vocab {
  const model = tj.model;
  if (!isObject(model) || model.type !== 'BPE' || !isObject(model.vocab)) {
    throw new ModelwiseError('UNSUPPORTED', `tokenizer.json model type ${isObject(model) ? String(model.type) : '?'} is not supported`, { file: 'tokenizer.json', expected: 'BPE (with tokenizer.json) or SentencePiece (tokenizer.model)' });
  }
  const byId = new Map<number, string>();
  for (const [tok, id] of Object.entries(model.vocab)) if (typeof id === 'number') byId.set(id, tok);
  const types = new Map<number, number>();
  if (Array.isArray(tj.added_tokens)) {
    for (const a of tj.added_tokens) {
      if (!isObject(a) || typeof a.id !== 'number' || typeof a.content !== 'string') continue;
      byId.set(a.id, a.content);
      types.set(a.id, a.special ? TOKEN_TYPE.control : TOKEN_TYPE.userDefined);
    }
  }
  const n = Math.max(vocabSize ?? 0, byId.size ? Math.max(...byId.keys()) + 1 : 0);
  const tokens: string[] = [];
  const tt: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = byId.get(i);
    if (t === undefined) {
      tokens.push(`[PAD${i}]`);
      tt.push(TOKEN_TYPE.unused);
    } else {
      tokens.push(t);
      tt.push(types.get(i) ?? TOKEN_TYPE.normal);
    }
  }
  const merges = Array.isArray(model.merges) ? model.merges.map((m) => (Array.isArray(m) ? m.join(' ') : String(m))) : [];
  return { model: 'gpt2', pre: preTokenizerName(tj), tokens, types: tt, merges };
}

async function readJson(root: TreeProbe, path: string): Promise<Record<string, unknown> | undefined> {
  if (!root.has(path)) return undefined;
  const j = await root.json(path);
  if (!isObject(j)) throw new ModelwiseError('MALFORMED', `${path} is not a JSON object`, { file: path });
  return j;
}

/** The tokenizer.* KVs for the folder's tokenizer. */
export async function tokenizerKvs(root: TreeProbe, vocabSize: number | undefined): Promise<[string, GgufKv][]> {
  let vocab: Vocab;
  const tj = await readJson(root, 'tokenizer.json');
  if (root.has('tokenizer.model') && !(tj && isObject(tj.model) && tj.model.type === 'BPE' && !tj.model.byte_fallback)) {
    const p = await root.probe('tokenizer.model');
    const bytes = await p!.source.read(0, p!.size);
    const sp = parseSentencePiece(bytes);
    const tokens = [...sp.pieces];
    const scores = [...sp.scores];
    const types = [...sp.types];
    for (let i = tokens.length; i < (vocabSize ?? 0); i++) {
      tokens.push(`[PAD${i}]`);
      scores.push(-1000);
      types.push(TOKEN_TYPE.unused);
    }
    vocab = { model: 'llama', pre: 'default', tokens, scores, types };
  } else if (tj) vocab = bpeVocab(tj, vocabSize);
  else throw new ModelwiseError('NOT_FOUND', 'no tokenizer.json or tokenizer.model in the folder', { file: root.path });
  const seen = new Set<string>();
  for (const t of vocab.tokens) {
    // llama.cpp aborts on duplicate token strings (llama-vocab.cpp GGML_ASSERT): refuse early.
    if (seen.has(t)) throw new ModelwiseError('MALFORMED', `duplicate token ${JSON.stringify(t)} in the vocabulary (llama.cpp would abort)`, { file: root.path });
    seen.add(t);
  }
  const kv: [string, GgufKv][] = [
    ['tokenizer.ggml.model', { type: 'string', value: vocab.model }],
    ['tokenizer.ggml.pre', { type: 'string', value: vocab.pre }],
    ['tokenizer.ggml.tokens', { type: 'array', elementType: 'string', value: vocab.tokens }],
  ];
  if (vocab.scores) kv.push(['tokenizer.ggml.scores', { type: 'array', elementType: 'f32', value: vocab.scores }]);
  kv.push(['tokenizer.ggml.token_type', { type: 'array', elementType: 'i32', value: vocab.types }]);
  if (vocab.merges?.length) kv.push(['tokenizer.ggml.merges', { type: 'array', elementType: 'string', value: vocab.merges }]);
  kv.push(...(await specialTokenKvs(root, vocab.tokens)));
  return kv;
}

function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isObject(v) && typeof v.content === 'string') return v.content;
  return undefined;
}

async function specialTokenKvs(root: TreeProbe, tokens: string[]): Promise<[string, GgufKv][]> {
  const cfg = (await readJson(root, 'tokenizer_config.json')) ?? {};
  const stm = (await readJson(root, 'special_tokens_map.json')) ?? {};
  const gen = (await readJson(root, 'generation_config.json')) ?? {};
  const index = new Map(tokens.map((t, i) => [t, i]));
  const kv: [string, GgufKv][] = [];
  for (const [key, ggufKey] of [['bos_token', 'bos'], ['eos_token', 'eos'], ['unk_token', 'unknown'], ['pad_token', 'padding'], ['sep_token', 'seperator']] as const) {
    const text = tokenText(cfg[key]) ?? tokenText(stm[key]);
    let id = text !== undefined ? index.get(text) : undefined;
    if (id === undefined && key !== 'unk_token' && key !== 'pad_token' && key !== 'sep_token') {
      const g = gen[`${key.replace('_token', '')}_token_id`];
      const n = Array.isArray(g) ? g[0] : g;
      if (typeof n === 'number') id = n;
    }
    if (id !== undefined) kv.push([`tokenizer.ggml.${ggufKey}_token_id`, { type: 'u32', value: id }]);
  }
  if (typeof cfg.add_bos_token === 'boolean') kv.push(['tokenizer.ggml.add_bos_token', { type: 'bool', value: cfg.add_bos_token }]);
  if (typeof cfg.add_eos_token === 'boolean') kv.push(['tokenizer.ggml.add_eos_token', { type: 'bool', value: cfg.add_eos_token }]);
  let template = cfg.chat_template;
  if (template === undefined && root.has('chat_template.jinja')) {
    const p = await root.probe('chat_template.jinja');
    template = new TextDecoder().decode(await p!.source.read(0, p!.size));
  }
  if (typeof template === 'string') kv.push(['tokenizer.chat_template', { type: 'string', value: template }]);
  else if (Array.isArray(template)) {
    for (const t of template) {
      if (!isObject(t) || typeof t.template !== 'string' || typeof t.name !== 'string') continue;
      kv.push([t.name === 'default' ? 'tokenizer.chat_template' : `tokenizer.chat_template.${t.name}`, { type: 'string', value: t.template }]);
    }
  }
  return kv;
}
