/**
 * Whole-file convert test (issue 6): a tiny random llama checkpoint in Hugging Face layout — bf16
 * safetensors, config.json, a real SentencePiece tokenizer.model (llama's 32 000-piece vocabulary,
 * taken from ../shared/corpus/gguf/llamacpp_ggml-vocab-llama-spm.gguf) and tokenizer_config.json
 * with a chat template — converted with `convertPath` to an F32 GGUF and a Q4_K_M GGUF. Then:
 *
 *  (a) the Q4_K_M file's tensors (names, order, shapes, types, bytes) equal what llama.cpp's own
 *      `llama_model_quantize` (libllama in @node-llama-cpp/linux-x64, ftype 15, nthread 1) writes
 *      from our F32 file;
 *  (b) both files load in node-llama-cpp (CPU, threads 1) and generate, raw and through the chat
 *      template; the tokenizer tokenizes like the original vocabulary file;
 *  (c) the F32 file's next-token logits equal a float64 reference forward pass on the HF weights
 *      (test/helpers/llama-forward.ts, HF rotate_half rotary): this proves the q/k permutation.
 *
 * Skips with a printed reason when the corpus, libllama or node-llama-cpp is unavailable.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertPath } from '../src/node/convert.js';
import { FileSource } from '../src/node/file-source.js';
import { readGgufHeader, type GgufHeader } from '../src/formats/gguf/inspect.js';
import { CORPUS } from './helpers/corpus.js';
import { ggmlBinDir } from './ggml-reference/index.js';
import { readGgufVocab, writeTinyLlama, type TinyLlama } from './helpers/tiny-llama.js';
import { llamaForward } from './helpers/llama-forward.js';

type NodeLlamaCpp = typeof import('node-llama-cpp');
type Llama = Awaited<ReturnType<NodeLlamaCpp['getLlama']>>;

const VOCAB = join(CORPUS, 'gguf', 'llamacpp_ggml-vocab-llama-spm.gguf');
const SKIP_VOCAB = existsSync(VOCAB) ? false : `${VOCAB} not found (../shared/corpus absent): whole-file convert test skipped`;
if (SKIP_VOCAB) console.log(`# ${SKIP_VOCAB}`);

const PROMPT = 'The quick brown fox jumps over the lazy dog. Привет, 世界!';

/* ---------- llama_model_quantize, in a child process (its logs and any abort stay there) ---------- */

/** Plain JS for `node -e`: koffi → libllama's llama_model_quantize(in, out, params). */
const QUANTIZE_SCRIPT = `
const koffi = require(process.argv[1]);
const [lib, inp, out, ftype] = process.argv.slice(2);
const llama = koffi.load(lib);
const Params = koffi.struct('llama_model_quantize_params', {
  nthread: 'int32_t', ftype: 'int', output_tensor_type: 'int', token_embedding_type: 'int',
  allow_requantize: 'bool', quantize_output_tensor: 'bool', only_copy: 'bool', pure: 'bool', keep_split: 'bool', dry_run: 'bool',
  imatrix: 'void *', kv_overrides: 'void *', tt_overrides: 'void *', prune_layers: 'void *',
});
const defaults = llama.func('llama_model_quantize_default_params', Params, []);
const quantize = llama.func('llama_model_quantize', 'uint32_t', ['const char *', 'const char *', koffi.pointer(Params)]);
const d = defaults();
if (d.ftype !== 7 || d.output_tensor_type !== 43 || d.token_embedding_type !== 43 || d.quantize_output_tensor !== true || d.pure !== false || d.dry_run !== false) {
  console.error('unexpected llama_model_quantize_params layout: ' + JSON.stringify(d));
  process.exit(3);
}
const rc = quantize(inp, out, { ...d, nthread: 1, ftype: Number(ftype) });
process.exit(rc === 0 ? 0 : 4);
`;

function llamaQuantize(input: string, output: string, ftype: number): { ok: true } | { ok: false; reason: string } {
  const bin = ggmlBinDir();
  if (!bin) return { ok: false, reason: '@node-llama-cpp/linux-x64 (libllama) is not installed' };
  const lib = join(bin, 'libllama.v0.4.0.so');
  if (!existsSync(lib)) return { ok: false, reason: `${lib} not found` };
  let koffi: string;
  try {
    koffi = createRequire(import.meta.url).resolve('koffi');
  } catch {
    return { ok: false, reason: 'koffi (FFI) is not installed' };
  }
  const r = spawnSync(process.execPath, ['-e', QUANTIZE_SCRIPT, koffi, lib, input, output, String(ftype)], { encoding: 'utf8', timeout: 60_000 });
  if (r.status === 0) return { ok: true };
  return { ok: false, reason: `llama_model_quantize failed (status ${r.status}, signal ${r.signal}): ${(r.stderr || '').trim().split('\n').slice(-5).join(' | ')}` };
}

/* ---------- GGUF reading with modelwise's reader ---------- */

interface ReadGguf {
  header: GgufHeader;
  bytes: Buffer;
}

async function readGguf(path: string): Promise<ReadGguf> {
  const src = await FileSource.open(path);
  try {
    return { header: await readGgufHeader(src, { fullArrays: 1_000_000 }), bytes: readFileSync(path) };
  } finally {
    await src.close();
  }
}

function tensorBytes(g: ReadGguf, name: string): Buffer {
  const t = g.header.tensors.find((x) => x.name === name);
  assert.ok(t, `tensor ${name} missing`);
  return g.bytes.subarray(t.offset as number, (t.offset as number) + (t.byteLength as number));
}

function f32Tensor(g: ReadGguf, name: string): Float32Array {
  const b = tensorBytes(g, name);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

/* ---------- node-llama-cpp ---------- */

async function loadNodeLlama(): Promise<{ nlc: NodeLlamaCpp; llama: Llama } | string> {
  try {
    const nlc = await import('node-llama-cpp');
    const llama = await nlc.getLlama({
      gpu: false,
      build: 'never',
      skipDownload: true,
      progressLogs: false,
      logLevel: nlc.LlamaLogLevel.error,
      // loading the vocabulary-only file (no tensors) logs these two on the way to succeeding
      logger: (level, message) => {
        if (!/missing tensor 'token_embd\.weight'|llama_model_load_from_file_impl: failed to load model/.test(message)) console.error(`[node-llama-cpp ${level}] ${message}`);
      },
    });
    return { nlc, llama };
  } catch (e) {
    return `node-llama-cpp cannot be loaded here (${(e as Error).message.split('\n')[0]})`;
  }
}

describe('convert: tiny llama checkpoint (HF folder) → GGUF F32 and Q4_K_M', { skip: SKIP_VOCAB }, () => {
  let dir: string;
  let model: TinyLlama;
  let f32Path: string;
  let q4Path: string;
  let nl: { nlc: NodeLlamaCpp; llama: Llama } | string | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'modelwise-convert-llama-'));
    const vocab = await readGgufVocab(VOCAB);
    model = writeTinyLlama(join(dir, 'tiny-llama'), vocab);
    f32Path = join(dir, 'tiny-llama-F32.gguf');
    q4Path = join(dir, 'tiny-llama-Q4_K_M.gguf');
    const a = await convertPath(model.dir, { to: 'gguf', dtype: 'f32', output: f32Path, threads: 1 });
    const b = await convertPath(model.dir, { to: 'gguf', quant: 'Q4_K_M', output: q4Path, threads: 2 });
    assert.equal(a.written && b.written, true);
  });

  after(async () => {
    if (nl && typeof nl !== 'string') await nl.llama.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes the llama hyper-parameters, tokenizer and chat template llama.cpp reads', async () => {
    const g = await readGguf(f32Path);
    const md = g.header.metadata;
    const c = model.config;
    assert.equal(md['general.architecture'], 'llama');
    assert.equal(md['llama.embedding_length'], c.hidden);
    assert.equal(md['llama.block_count'], c.layers);
    assert.equal(md['llama.feed_forward_length'], c.intermediate);
    assert.equal(md['llama.attention.head_count'], c.heads);
    assert.equal(md['llama.attention.head_count_kv'], c.kvHeads);
    assert.equal(md['llama.rope.dimension_count'], c.hidden / c.heads);
    assert.equal(md['llama.rope.freq_base'], c.ropeTheta);
    assert.equal(md['general.file_type'], 0, 'ALL_F32');
    assert.equal(md['tokenizer.ggml.model'], 'llama');
    assert.deepEqual(md['tokenizer.ggml.tokens'], model.vocab.pieces.map((p) => p.piece));
    // llama's vocabulary has a U+FEFF piece (id 30143): no decoder on the way may strip it as a BOM
    assert.equal(model.vocab.pieces.findIndex((p) => p.piece === ''), -1, 'no empty piece in the source vocabulary');
    const bom = model.vocab.pieces.findIndex((p) => p.piece === '\ufeff');
    assert.notEqual(bom, -1, 'the source vocabulary has its U+FEFF piece');
    assert.equal((md['tokenizer.ggml.tokens'] as string[])[bom], '\ufeff');
    assert.deepEqual(md['tokenizer.ggml.scores'], model.vocab.pieces.map((p) => Math.fround(p.score)));
    assert.deepEqual(md['tokenizer.ggml.token_type'], model.vocab.pieces.map((p) => p.type));
    assert.equal(md['tokenizer.ggml.bos_token_id'], model.vocab.bos);
    assert.equal(md['tokenizer.ggml.eos_token_id'], model.vocab.eos);
    assert.equal(md['tokenizer.ggml.unknown_token_id'], model.vocab.unk);
    assert.equal(md['tokenizer.ggml.add_bos_token'], true);
    assert.equal(md['tokenizer.chat_template'], model.chatTemplate);
    // every tensor F32, in llama.cpp's order, with ggml ne shapes
    assert.ok(g.header.tensors.every((t) => t.dtype === 'f32'));
    const names = g.header.tensors.map((t) => t.name);
    assert.deepEqual(names.slice(0, 3), ['output.weight', 'output_norm.weight', 'token_embd.weight']);
    assert.equal(names.length, 3 + 9 * c.layers);
    assert.deepEqual(g.header.tensors.find((t) => t.name === 'blk.0.attn_k.weight')!.shape, [c.hidden, c.kvHeads * (c.hidden / c.heads)]);
    // values other than q/k are the HF values, exactly
    assert.deepEqual(f32Tensor(g, 'blk.1.ffn_down.weight'), model.weights.get('model.layers.1.mlp.down_proj.weight'));
    assert.deepEqual(f32Tensor(g, 'token_embd.weight'), model.weights.get('model.embed_tokens.weight'));
  });

  it('(a) Q4_K_M tensors equal llama_model_quantize(F32 file, Q4_K_M, nthread 1) byte for byte', async (t) => {
    const refPath = join(dir, 'reference-Q4_K_M.gguf');
    const q = llamaQuantize(f32Path, refPath, 15);
    if (!q.ok) {
      console.log(`# (a) skipped: ${q.reason}`);
      return t.skip(q.reason);
    }
    const ours = await readGguf(q4Path);
    const ref = await readGguf(refPath);
    assert.deepEqual(ours.header.diagnostics, []);
    assert.deepEqual(
      ours.header.tensors.map((x) => [x.name, x.dtype, x.shape]),
      ref.header.tensors.map((x) => [x.name, x.dtype, x.shape]),
      'tensor names, order, types and shapes',
    );
    const types = new Map<string, number>();
    for (const x of ref.header.tensors) {
      types.set(x.dtype, (types.get(x.dtype) ?? 0) + 1);
      const a = tensorBytes(ours, x.name);
      const b = tensorBytes(ref, x.name);
      assert.equal(a.length, b.length, `${x.name}: size`);
      if (!a.equals(b)) {
        let i = 0;
        while (a[i] === b[i]) i++;
        assert.fail(`${x.name} (${x.dtype}): bytes differ from llama_model_quantize's, first at byte ${i} of ${a.length}`);
      }
    }
    // the file types that came out (K-quants and the legacy fallback for 384-wide rows)
    t.diagnostic(`tensor types: ${[...types].map(([k, v]) => `${k}×${v}`).join(', ')}`);
    assert.ok(types.has('q4_k') && types.has('q6_k'), 'the tiny model exercises K-quants');
    // the metadata llama-quantize writes agrees with ours
    for (const key of ['general.file_type', 'general.quantization_version', 'general.architecture', 'tokenizer.chat_template']) {
      assert.deepEqual(ours.header.metadata[key], ref.header.metadata[key], key);
    }
    assert.equal(ours.header.metadata['general.file_type'], 15);
  });

  it('(b) both files load in node-llama-cpp (threads 1) and generate; tokenizer matches the source vocabulary', async (t) => {
    nl ??= await loadNodeLlama();
    if (typeof nl === 'string') {
      console.log(`# (b) skipped: ${nl}`);
      return t.skip(nl);
    }
    const { nlc, llama } = nl;
    const vocabModel = await llama.loadModel({ modelPath: VOCAB, vocabOnly: true });
    const want = vocabModel.tokenize(PROMPT);
    await vocabModel.dispose();
    for (const path of [f32Path, q4Path]) {
      const m = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
      try {
        assert.deepEqual(m.tokenize(PROMPT), want, 'tokenization equals the original vocabulary file');
        assert.equal(m.tokens.bos, model.vocab.bos);
        assert.equal(m.tokens.eos, model.vocab.eos);
        const ctx = await m.createContext({ contextSize: 256, threads: 1, batchSize: 64 });
        try {
          const seq = ctx.getSequence();
          const generated: number[] = [];
          for await (const tok of seq.evaluate([m.tokens.bos!, ...want], { temperature: 0 })) {
            generated.push(tok);
            if (generated.length >= 6) break;
          }
          assert.equal(generated.length, 6);
          assert.ok(generated.every((x) => Number.isInteger(x) && x >= 0 && x < model.config.vocab));
          seq.dispose();
          if (path === q4Path) {
            // the chat template from tokenizer_config.json drives a chat session
            const session = new nlc.LlamaChatSession({ contextSequence: ctx.getSequence() });
            t.diagnostic(`chat wrapper: ${session.chatWrapper.wrapperName}`);
            const answer = await session.prompt('Hi there', { maxTokens: 4, temperature: 0 });
            assert.equal(typeof answer, 'string');
          }
        } finally {
          await ctx.dispose();
        }
      } finally {
        await m.dispose();
      }
    }
  });

  it('(c) F32 next-token logits equal a reference forward pass on the HF weights', async (t) => {
    nl ??= await loadNodeLlama();
    if (typeof nl === 'string') {
      console.log(`# (c) skipped: ${nl}`);
      return t.skip(nl);
    }
    const { llama } = nl;
    const m = await llama.loadModel({ modelPath: f32Path, gpuLayers: 0 });
    try {
      const ctx = await m.createContext({
        contextSize: 256,
        threads: 1,
        batchSize: 64,
        flashAttention: false,
        experimentalKvCacheKeyType: 'F32',
        experimentalKvCacheValueType: 'F32',
      });
      try {
        const tokens = [m.tokens.bos!, ...m.tokenize(PROMPT)];
        const seq = ctx.getSequence();
        const out = await seq.controlledEvaluate(tokens.map((tok, i) => (i === tokens.length - 1 ? [tok, { generateNext: { probabilities: true } }] : tok)));
        const probs = out[tokens.length - 1]?.next.probabilities;
        assert.ok(probs, 'probabilities of the last position');
        assert.equal(probs.size, model.config.vocab, 'a probability for every token (greedy: no truncation)');
        // log p_i = logit_i − logsumexp: compare logits centred on their mean
        const got = new Float64Array(model.config.vocab);
        for (const [tok, p] of probs) got[tok] = Math.log(p);
        const ref = llamaForward(model.config, model.weights, tokens).at(-1)!;
        const centre = (a: Float64Array) => {
          const mean = a.reduce((s, x) => s + x, 0) / a.length;
          return a.map((x) => x - mean);
        };
        const g = centre(got);
        const r = centre(ref);
        let maxDiff = 0;
        let maxRef = 0;
        let argG = 0;
        let argR = 0;
        for (let i = 0; i < r.length; i++) {
          maxDiff = Math.max(maxDiff, Math.abs(g[i]! - r[i]!));
          maxRef = Math.max(maxRef, Math.abs(r[i]!));
          if (g[i]! > g[argG]!) argG = i;
          if (r[i]! > r[argR]!) argR = i;
        }
        t.diagnostic(`${tokens.length} tokens; logits spread ±${maxRef.toFixed(2)}; max |llama.cpp − reference| = ${maxDiff.toExponential(2)} (${(maxDiff / maxRef).toExponential(2)} relative)`);
        assert.ok(maxRef > 1, 'the logits have a real spread');
        assert.ok(maxDiff <= 1e-3 * maxRef, `max logit difference ${maxDiff} exceeds 1e-3 × ${maxRef}`);
        assert.equal(argG, argR, 'same greedy next token');
      } finally {
        await ctx.dispose();
      }
    } finally {
      await m.dispose();
    }
  });
});
