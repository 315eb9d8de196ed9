/**
 * Benchmark for `convert` (issue 6):
 *
 *  1. Quantizer throughput per type, single thread and all cores, modelwise against ggml's
 *     reference (`ggml_quantize_chunk` in node-llama-cpp's prebuilt libggml-base.so, via koffi) in
 *     the same run. Single thread: best CPU time of this process. All cores: best wall time —
 *     modelwise through its worker pool (src/node/quant-pool.ts, what `convert --threads N` uses,
 *     copies to and from the workers included); ggml through `ggml_quantize_chunk` called on one
 *     slice of rows per core from koffi's worker threads (what llama-quantize's nthread does).
 *     Outputs are checked byte-identical.
 *  2. End to end: a ~1 GB bf16 Hugging Face llama checkpoint (TinyLlama-like shapes, generated
 *     in a temp dir) → Q8_0 GGUF and → Q4_K_M GGUF with `convertPath`, each in a child process
 *     that reports its wall time and peak RSS (`process.resourceUsage().maxRSS`, worker threads
 *     included), against the goal peak RSS ≤ 2 × largest tensor + 100 MB.
 *
 *   npm run bench:convert
 *   npm run bench:convert -- --mib 32 --runs 5 --types q8_0,q4_k --threads 2 --size 1e9 --no-e2e --keep
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { quantizeInto, quantizedSize } from '../src/convert/quant/index.js';
import { safetensorsHeader } from '../src/convert/writers/safetensors.js';
import { QuantPool } from '../src/node/quant-pool.js';
import { GGML_BY_NAME } from '../src/dtypes.js';
import { loadGgmlReference, type GgmlReference } from '../test/ggml-reference/index.js';
import { normal } from '../test/ggml-reference/rows.js';
import { rng } from '../test/helpers/random.js';
import { sentencePieceModel, type SpmPiece } from '../test/helpers/tiny-llama.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : fallback;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

/* ------------------------------------------------------------------ child: one conversion */

const childAt = process.argv.indexOf('--child');
if (childAt > 0) {
  const job = JSON.parse(process.argv[childAt + 1]!) as { input?: string; output?: string; quant?: string; threads?: number; baseline?: boolean };
  const { convertPath } = await import('../src/node/convert.js');
  if (job.baseline) {
    // RSS of a child that loaded everything but converted nothing: the constant part
    const pool = new QuantPool(job.threads);
    await pool.quantize('q8_0', new Float32Array(1 << 20), 4096);
    await pool.close();
    process.stdout.write(JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS }) + '\n');
  } else {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const r = await convertPath(job.input!, { to: 'gguf', quant: job.quant, output: job.output, threads: job.threads });
    const wallMs = performance.now() - t0;
    const c = process.cpuUsage(c0);
    process.stdout.write(JSON.stringify({ wallMs, cpuMs: (c.user + c.system) / 1000, maxRssKiB: process.resourceUsage().maxRSS, tensors: r.plan.tensors.length, outputBytes: r.plan.outputBytes }) + '\n');
  }
  process.exit(0);
}

/* ------------------------------------------------------------------ 1. throughput */

const MIB = Number(arg('mib', '16'));
const RUNS = Number(arg('runs', '3'));
const THREADS = Number(arg('threads', String(availableParallelism())));
const TYPES = arg('types', 'f16,bf16,q8_0,q4_0,q4_1,q5_0,q5_1,q2_k,q3_k,q4_k,q5_k,q6_k').split(',');
const ROW = 4096;

/**
 * Best (minimum) of the measurements of each function after warm-ups; runs alternate.
 * At least RUNS runs, more for fast functions (up to ~0.5 s of runs each): on a shared VM single
 * runs of a few milliseconds are noisy.
 */
async function best(measure: (fn: () => unknown) => Promise<number>, ...fns: (() => unknown)[]): Promise<number[]> {
  // three warm-ups: the workers' JIT needs a few calls per type before it settles
  const warm = fns.map(() => Infinity);
  for (let w = 0; w < 3; w++) for (let k = 0; k < fns.length; k++) warm[k] = Math.min(warm[k]!, await measure(fns[k]!));
  const runs = Math.max(RUNS, Math.min(40, Math.ceil(500 / Math.max(1, ...warm))));
  const out = fns.map(() => Infinity);
  for (let r = 0; r < runs; r++) {
    for (let k = 0; k < fns.length; k++) out[k] = Math.min(out[k]!, await measure(fns[k]!));
  }
  return out;
}
/** CPU time of this process (ms): other work on the machine barely moves it. */
const cpuTime = async (fn: () => unknown) => {
  const c0 = process.cpuUsage();
  await fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
};
const wallTime = async (fn: () => unknown) => {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
};

type ChunkFn = ((...args: unknown[]) => unknown) & { async: (...args: unknown[]) => void };

/** `ggml_quantize_chunk` itself (sync, and async on koffi's worker threads). */
function ggmlChunk(ref: GgmlReference): ChunkFn {
  return ref.lib.func(
    'size_t ggml_quantize_chunk(int type, const float *src, void *dst, int64_t start, int64_t nrows, int64_t n_per_row, const float *imatrix)',
  ) as unknown as ChunkFn;
}

/** ggml_quantize_chunk on `threads` slices of rows at once, from koffi's async worker threads, into dst. */
function ggmlParallel(chunk: ChunkFn) {
  return (type: string, src: Float32Array, dst: Uint8Array, nrows: number, nPerRow: number, threads: number): Promise<Uint8Array> => {
    const id = GGML_BY_NAME.get(type)!.id;
    const per = Math.ceil(nrows / threads);
    const calls: Promise<void>[] = [];
    for (let r = 0; r < nrows; r += per) {
      const n = Math.min(per, nrows - r);
      calls.push(new Promise((resolve, reject) => {
        chunk.async(id, src, dst, r * nPerRow, n, nPerRow, null, (err: unknown) => (err ? reject(err) : resolve()));
      }));
    }
    return Promise.all(calls).then(() => dst);
  };
}

interface Row {
  type: string;
  st: [number, number];
  mt: [number, number];
  same: boolean;
}

async function throughput(): Promise<Row[]> {
  const ref = loadGgmlReference();
  if (typeof ref === 'string') console.log(`(no ggml reference: ${ref})`);
  const chunk = typeof ref === 'string' ? undefined : ggmlChunk(ref);
  const par = chunk && ggmlParallel(chunk);
  const n = Math.floor((MIB * 1048576) / 4 / ROW) * ROW;
  const x = new Float32Array(n);
  const g = normal(1);
  for (let i = 0; i < n; i++) x[i] = g();
  const mb = (n * 4) / 1e6;
  const pool = new QuantPool(THREADS);
  const rows: Row[] = [];
  console.log(`quantizer throughput: ${mb.toFixed(1)} MB of f32 N(0,1) input per type, rows of ${ROW}, best of ≥ ${RUNS} runs after 3 warm-ups`);
  console.log('single thread: CPU time of quantizeInto / ggml_quantize_chunk into preallocated output (compute only)');
  console.log(`all cores: wall time with ${THREADS} threads — ours through convert's worker pool (slice copies and output allocation included), ggml into preallocated output\n`);
  console.log('type    | 1 thread: ours MB/s  ggml MB/s  ratio | all cores: ours MB/s  ggml MB/s  ratio | identical');
  console.log('--------|---------------------------------------|----------------------------------------|----------');
  for (const type of TYPES) {
    const size = quantizedSize(type, n);
    const a = new Uint8Array(size);
    const b = new Uint8Array(size);
    let c: Uint8Array = new Uint8Array(0);
    const d = new Uint8Array(size);
    const id = GGML_BY_NAME.get(type)!.id;
    const stFns: (() => unknown)[] = [() => quantizeInto(type, x, 0, n, a, 0)];
    if (chunk) stFns.push(() => chunk(id, x, b, 0, n / ROW, ROW, null));
    const [stOurs, stRef = NaN] = await best(cpuTime, ...stFns);
    const mtFns: (() => unknown)[] = [async () => void (c = await pool.quantize(type, x, ROW))];
    if (par) mtFns.push(() => par(type, x, d, n / ROW, ROW, THREADS));
    const [mtOurs, mtRef = NaN] = await best(wallTime, ...mtFns);
    const eq = (p: Uint8Array, q: Uint8Array) => Buffer.from(p.buffer, p.byteOffset, p.length).equals(Buffer.from(q.buffer, q.byteOffset, q.length));
    const same = typeof ref === 'string' ? eq(a, c) : eq(a, b) && eq(a, c) && eq(a, d);
    const row: Row = { type, st: [mb / (stOurs / 1000), mb / (stRef / 1000)], mt: [mb / (mtOurs / 1000), mb / (mtRef / 1000)], same };
    rows.push(row);
    const f = (v: number, w: number) => (Number.isFinite(v) ? v.toFixed(w) : '–');
    console.log(
      `${type.padEnd(7)} | ${f(row.st[0], 1).padStart(19)} ${f(row.st[1], 1).padStart(10)} ${f(row.st[0] / row.st[1], 2).padStart(6)} | ` +
        `${f(row.mt[0], 1).padStart(20)} ${f(row.mt[1], 1).padStart(10)} ${f(row.mt[0] / row.mt[1], 2).padStart(6)} | ${same ? 'yes' : 'NO'}`,
    );
  }
  await pool.close();
  console.log('\ngoals (per core, single-thread ratio): Q8_0/Q4_0 ≥ 1 × ggml, K-quants ≥ 0.5 × ggml');
  for (const r of rows) {
    const goal = /_k$/.test(r.type) ? 0.5 : r.type === 'q8_0' || r.type === 'q4_0' ? 1 : undefined;
    if (goal === undefined) continue;
    const ratio = r.st[0] / r.st[1];
    console.log(`  ${r.type.padEnd(5)} ${Number.isFinite(ratio) ? ratio.toFixed(2) : '–'} ≥ ${goal}: ${Number.isFinite(ratio) ? (ratio >= goal ? 'met' : 'NOT met') : 'no reference'}`);
  }
  return rows;
}

/* ------------------------------------------------------------------ 2. end to end */

const SIZE = Number(arg('size', '1e9'));

interface Spec {
  name: string;
  shape: number[];
}

/** TinyLlama-1.1B shapes (hidden 2048, 32 heads, 4 KV heads, ffn 5632, vocab 32000), layers to reach `size` bytes of bf16. */
function llamaSpecs(size: number): { specs: Spec[]; config: Record<string, unknown> } {
  const H = 2048;
  const I = 5632;
  const V = 32000;
  const heads = 32;
  const kv = 4;
  const hd = H / heads;
  const perLayer = 2 * (2 * H * H + 2 * kv * hd * H + 3 * H * I + 2 * H);
  const fixed = 2 * (2 * V * H + H);
  const layers = Math.max(1, Math.ceil((size - fixed) / perLayer));
  const specs: Spec[] = [{ name: 'model.embed_tokens.weight', shape: [V, H] }];
  for (let l = 0; l < layers; l++) {
    const p = `model.layers.${l}.`;
    specs.push(
      { name: `${p}input_layernorm.weight`, shape: [H] },
      { name: `${p}self_attn.q_proj.weight`, shape: [H, H] },
      { name: `${p}self_attn.k_proj.weight`, shape: [kv * hd, H] },
      { name: `${p}self_attn.v_proj.weight`, shape: [kv * hd, H] },
      { name: `${p}self_attn.o_proj.weight`, shape: [H, H] },
      { name: `${p}post_attention_layernorm.weight`, shape: [H] },
      { name: `${p}mlp.gate_proj.weight`, shape: [I, H] },
      { name: `${p}mlp.up_proj.weight`, shape: [I, H] },
      { name: `${p}mlp.down_proj.weight`, shape: [H, I] },
    );
  }
  specs.push({ name: 'model.norm.weight', shape: [H] }, { name: 'lm_head.weight', shape: [V, H] });
  const config = {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: H, intermediate_size: I, num_hidden_layers: layers,
    num_attention_heads: heads, num_key_value_heads: kv, max_position_embeddings: 2048, rms_norm_eps: 1e-5, rope_theta: 10000,
    vocab_size: V, tie_word_embeddings: false, torch_dtype: 'bfloat16', bos_token_id: 1, eos_token_id: 2,
  };
  return { specs, config };
}

/** A SentencePiece vocabulary of 32 000 pieces shaped like llama's (specials, 256 bytes, words). */
function syntheticVocab(n: number): SpmPiece[] {
  const pieces: SpmPiece[] = [{ piece: '<unk>', score: 0, type: 2 }, { piece: '<s>', score: 0, type: 3 }, { piece: '</s>', score: 0, type: 3 }];
  for (let b = 0; b < 256; b++) pieces.push({ piece: `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, score: 0, type: 6 });
  for (let i = pieces.length; i < n; i++) pieces.push({ piece: `▁w${i.toString(36)}`, score: -i, type: 1 });
  return pieces;
}

/** Write the checkpoint folder, streaming the bf16 data (a lookup table of N(0, 0.02) bf16 values indexed by a PRNG). */
function writeCheckpoint(dir: string, size: number): { bytes: number; largest: { name: string; bytes: number; elements: number }; layers: number } {
  const { specs, config } = llamaSpecs(size);
  mkdirSync(dir, { recursive: true });
  const table = new Uint16Array(65536);
  const g = normal(7);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < table.length; i++) {
    f[0] = 0.02 * g();
    table[i] = (u[0]! + 0x7fff + ((u[0]! >>> 16) & 1)) >>> 16;
  }
  const entries = specs.map((s) => ({ name: s.name, dtype: 'bf16', shape: s.shape, byteLength: 2 * s.shape.reduce((a, b) => a * b, 1) }));
  const header = safetensorsHeader(entries, { format: 'pt' });
  const fd = openSync(join(dir, 'model.safetensors'), 'w');
  let total = header.length;
  try {
    writeSync(fd, header);
    const r = rng(11);
    const CH = 4 << 20; // elements per write
    const buf = new Uint16Array(CH);
    for (const e of entries) {
      let left = e.byteLength / 2;
      while (left > 0) {
        const n = Math.min(CH, left);
        for (let i = 0; i < n; i += 2) {
          const v = (r() * 4294967296) >>> 0;
          buf[i] = table[v & 0xffff]!;
          if (i + 1 < n) buf[i + 1] = table[v >>> 16]!;
        }
        writeSync(fd, new Uint8Array(buf.buffer, 0, n * 2));
        left -= n;
      }
      total += e.byteLength;
    }
  } finally {
    closeSync(fd);
  }
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  const pieces = syntheticVocab(32000);
  writeFileSync(join(dir, 'tokenizer.model'), sentencePieceModel({ pieces, bos: 1, eos: 2, unk: 0, addBos: true }));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ add_bos_token: true, add_eos_token: false, bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>' }));
  const largest = entries.reduce((a, b) => (b.byteLength > a.byteLength ? b : a));
  return { bytes: total, largest: { name: largest.name, bytes: largest.byteLength, elements: largest.byteLength / 2 }, layers: config.num_hidden_layers as number };
}

interface ChildResult {
  wallMs: number;
  cpuMs: number;
  maxRssKiB: number;
  tensors: number;
  outputBytes: number;
}

/**
 * How the child runs: the bench and modelwise bundled to plain JavaScript with esbuild (the quant
 * worker as its own entry next to it, as in dist/) — what a user's `modelwise convert` runs — or,
 * with --tsx or without esbuild, from the TypeScript sources under tsx (whose loader adds ~35 MB
 * to the main thread and to every worker).
 */
async function childCommand(dir: string): Promise<{ argv: string[]; how: string }> {
  const self = fileURLToPath(import.meta.url);
  if (!flag('tsx')) {
    try {
      const esbuild = await import('esbuild');
      const out = join(dir, 'bundle');
      mkdirSync(out, { recursive: true });
      writeFileSync(join(out, 'package.json'), '{"type":"module"}');
      await esbuild.build({
        entryPoints: { convert: self, 'quant-worker': fileURLToPath(new URL('../src/node/quant-worker.ts', import.meta.url)) },
        outdir: out,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        external: ['koffi', 'node-llama-cpp', 'esbuild', 'tsx'],
        banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
        logLevel: 'error',
      });
      return { argv: [join(out, 'convert.js')], how: 'bundled JavaScript (esbuild)' };
    } catch (e) {
      console.log(`(esbuild bundle failed, running under tsx: ${(e as Error).message.split('\n')[0]})`);
    }
  }
  return { argv: ['--import', 'tsx', self], how: 'TypeScript sources under tsx' };
}

function child(cmd: string[], job: Record<string, unknown>): ChildResult {
  const r = spawnSync(process.execPath, [...cmd, '--child', JSON.stringify(job)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildResult;
}

async function endToEnd(): Promise<void> {
  const base = mkdtempSync(join(tmpdir(), 'modelwise-bench-convert-'));
  const keep = flag('keep');
  try {
    const input = join(base, 'llama-bf16');
    const t0 = performance.now();
    const ck = writeCheckpoint(input, SIZE);
    const MB = 1e6;
    console.log(`\nend to end: HF llama folder, ${ck.layers} layers, ${(ck.bytes / MB).toFixed(0)} MB of bf16 safetensors (written in ${((performance.now() - t0) / 1000).toFixed(1)} s) → GGUF, ${THREADS} threads`);
    console.log(`largest tensor: ${ck.largest.name}, ${(ck.largest.bytes / MB).toFixed(0)} MB bf16 (${(ck.largest.elements * 4 / MB).toFixed(0)} MB as f32)`);
    const cmd = await childCommand(base);
    console.log(`conversions run in a child process: ${cmd.how}`);
    const baseline = child(cmd.argv, { baseline: true, threads: THREADS });
    console.log(`baseline RSS (child with everything loaded and the pool warmed, nothing converted): ${(baseline.maxRssKiB / 1024).toFixed(0)} MiB\n`);
    console.log('quant   | wall s | CPU s | in MB/s (wall) | output MB | peak RSS MiB | goal: ≤ 2 × largest (bf16) + 100 MB | ≤ 2 × largest (f32) + 100 MB');
    console.log('--------|--------|-------|----------------|-----------|--------------|-------------------------------------|-----------------------------');
    for (const quant of arg('quants', 'Q8_0,Q4_K_M').split(',')) {
      const out = join(base, `out-${quant}.gguf`);
      const r = child(cmd.argv, { input, output: out, quant, threads: THREADS });
      const rss = r.maxRssKiB * 1024;
      const goalBf16 = 2 * ck.largest.bytes + 100 * MB;
      const goalF32 = 2 * ck.largest.elements * 4 + 100 * MB;
      console.log(
        `${quant.padEnd(7)} | ${(r.wallMs / 1000).toFixed(1).padStart(6)} | ${(r.cpuMs / 1000).toFixed(1).padStart(5)} | ${(ck.bytes / MB / (r.wallMs / 1000)).toFixed(1).padStart(14)} | ` +
          `${(statSync(out).size / MB).toFixed(0).padStart(9)} | ${(rss / 1048576).toFixed(0).padStart(12)} | ` +
          `${`${(goalBf16 / 1048576).toFixed(0)} MiB: ${rss <= goalBf16 ? 'met' : 'NOT met'}`.padStart(35)} | ${`${(goalF32 / 1048576).toFixed(0)} MiB: ${rss <= goalF32 ? 'met' : 'NOT met'}`}`,
      );
      rmSync(out, { force: true });
    }
  } finally {
    if (keep) console.log(`kept ${base}`);
    else rmSync(base, { recursive: true, force: true });
  }
}

console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}\n`);
if (!flag('no-throughput')) await throughput();
if (!flag('no-e2e')) await endToEnd();
