/**
 * Benchmark: inspect synthetic 1 GB, 10 GB and 50 GB models of every format whose inspector exists
 * (sparse files: real headers, holes for the weights) and show that the cost — wall time and bytes
 * read — does not grow with the tensor bytes. Then the formats that must read the whole document:
 * a PMML file up to 1 GB (streamed) and a PFA document up to the JSON limit (parsed whole), each
 * in a child process that reports time and peak RSS / heap. Last, parse a GGUF header with a
 * 150k-token vocabulary (Qwen2.5-like) with modelwise and with @huggingface/gguf in the same run.
 *
 *   npm run bench:inspect            (node --expose-gc: the heap is collected before each timed run)
 *   npm run bench:inspect -- --sizes 1e9,5e9 --runs 9 --only gguf,onnx,keras-v3 --no-text --no-vocab --keep
 *   npm run bench:inspect -- --only none --pmml-sizes 1e7,1e8 --pfa-sizes 1e6   (text formats only)
 *
 * Formats without an inspector yet (`formatById(id).load` missing) are still built and identified,
 * and listed as such. Exits 1 when an inspected model's reads grow with its size or it fails.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem, tmpdir, release } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { performance } from 'node:perf_hooks';
import { gguf as hfGguf } from '@huggingface/gguf';
import { identifyPath, inspectPath } from '../src/node/index.js';
import { FileSource } from '../src/node/file-source.js';
import { formatById } from '../src/formats/registry.js';
import { readGgufHeader } from '../src/formats/gguf/inspect.js';
import { humanBytes } from '../src/io/bytes.js';
import type { ModelReport } from '../src/types.js';
import { writeSparse, writeTree, type Piece, type TreeFile } from './lib/sparse.js';
import { ggufLayout } from './lib/gguf.js';
import { safetensorsLayout } from './lib/safetensors.js';
import { torchZipLayout } from './lib/torch-zip.js';
import { onnxExternalLayout } from './lib/onnx.js';
import { npyLayout } from './lib/npy.js';
import { ggmlWhisperLayout } from './lib/ggml.js';
import { executorchLayout } from './lib/executorch.js';
import { qwenVocabGguf } from './lib/gguf-vocab.js';
import { tfSavedModelLayout } from './lib/tf-savedmodel.js';
import { tfliteLayout } from './lib/tflite.js';
import { tfjsGraphLayout } from './lib/tfjs.js';
import { kerasH5Layout, kerasV3Layout } from './lib/keras.js';
import { coremlPackageLayout } from './lib/coreml.js';
import { mxnetLayout } from './lib/mxnet.js';
import { caffeLayout } from './lib/caffe.js';
import { writePmml } from './lib/pmml.js';
import { pfaDocument } from './lib/pfa.js';
import { installReadCounter, readStats, resetReadStats } from './lib/counter.js';

const KiB = 1024;
const MiB = 1024 * KiB;

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}
const SIZES = (argValue('sizes') ?? '1e9,10e9,50e9').split(',').map(Number);
const RUNS = Number(argValue('runs') ?? 5);
const ONLY = argValue('only')?.split(',');
const KEEP = process.argv.includes('--keep');
const VOCAB = !process.argv.includes('--no-vocab');
const TEXT = !process.argv.includes('--no-text');
const PMML_SIZES = (argValue('pmml-sizes') ?? '1e7,1e8,1e9').split(',').map(Number);
const PFA_SIZES = (argValue('pfa-sizes') ?? '1e6,1e7,6e7').split(',').map(Number);

interface Built {
  entry: string;
  size: number;
}

interface Case {
  label: string;
  id: string;
  /** Selects the case with --only (default: the format id). */
  key?: string;
  build(dir: string, size: number): Promise<Built>;
}

async function single(dir: string, name: string, l: { size: number; pieces: Piece[] }): Promise<Built> {
  const entry = join(dir, name);
  await writeSparse(entry, l.size, l.pieces);
  return { entry, size: l.size };
}

/** A multi-file model: `entry` is a file of it, or '.' for the folder itself. */
async function folder(dir: string, entry: string, l: { files: Record<string, TreeFile> }): Promise<Built> {
  await writeTree(dir, l.files);
  const size = Object.values(l.files).reduce((s, f) => s + (f instanceof Uint8Array ? f.length : f.size), 0);
  return { entry: entry === '.' ? dir : join(dir, entry), size };
}

const CASES: Case[] = [
  { label: 'GGUF v3', id: 'gguf', build: (d, s) => single(d, 'model-f16.gguf', ggufLayout(s)) },
  { label: 'safetensors', id: 'safetensors', build: (d, s) => single(d, 'model.safetensors', safetensorsLayout(s)) },
  { label: 'PyTorch zip64', id: 'pytorch', build: (d, s) => single(d, 'pytorch_model.bin', torchZipLayout(s)) },
  {
    label: 'ONNX + external data',
    id: 'onnx',
    build: async (d, s) => {
      const o = onnxExternalLayout(s);
      await writeFile(join(d, 'model.onnx'), o.model);
      await writeSparse(join(d, 'model.onnx.data'), o.dataSize, o.dataPieces);
      return { entry: join(d, 'model.onnx'), size: o.model.length + o.dataSize };
    },
  },
  { label: 'NumPy .npy', id: 'numpy', build: (d, s) => single(d, 'weights.npy', npyLayout(s)) },
  { label: 'GGML (whisper.cpp)', id: 'ggml', build: (d, s) => single(d, 'ggml-model-f16.bin', ggmlWhisperLayout(s)) },
  { label: 'ExecuTorch .pte', id: 'executorch', build: (d, s) => single(d, 'model.pte', executorchLayout(s)) },
  { label: 'TF SavedModel', id: 'tf-savedmodel', build: (d, s) => folder(join(d, 'saved_model'), '.', tfSavedModelLayout(s)) },
  { label: 'TFLite (buffers past FB)', id: 'tflite', build: (d, s) => single(d, 'model.tflite', tfliteLayout(s)) },
  { label: 'TF.js graph (20 shards)', id: 'tfjs', build: (d, s) => folder(d, 'model.json', tfjsGraphLayout(s)) },
  { label: 'Keras .h5', id: 'keras', key: 'keras-h5', build: (d, s) => single(d, 'model.h5', kerasH5Layout(s)) },
  { label: 'Keras .keras (v3)', id: 'keras', key: 'keras-v3', build: (d, s) => single(d, 'model.keras', kerasV3Layout(s)) },
  { label: 'Core ML .mlpackage', id: 'coreml', build: (d, s) => folder(join(d, 'model.mlpackage'), '.', coremlPackageLayout(s)) },
  { label: 'MXNet symbol + .params', id: 'mxnet', build: (d, s) => folder(d, 'model-symbol.json', mxnetLayout(s)) },
  { label: 'Caffe .caffemodel', id: 'caffe', build: (d, s) => folder(d, 'model.caffemodel', caffeLayout(s)) },
];

/** Start every timed run on a collected heap (with --expose-gc), so one run's garbage is not billed to the next. */
const gc = (globalThis as { gc?: () => void }).gc;
function collect(): void {
  gc?.();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function gb(n: number): string {
  return `${Number((n / 1e9).toFixed(1))} GB`;
}

function count(n: number | string): string {
  const v = Number(n);
  if (v >= 1e9) return `${(v / 1e9).toFixed(2)} G`;
  if (v >= 1e6) return `${(v / 1e6).toFixed(1)} M`;
  return String(n);
}

function table(rows: string[][], rightFrom = 1): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const [k, r] of rows.entries()) {
    console.log(r.map((cell, i) => (i >= rightFrom ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd());
    if (k === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

/** Does this format have an inspector right now? */
async function hasInspector(id: string): Promise<boolean> {
  const mod = formatById(id);
  if (!mod?.load) return false;
  try {
    return typeof (await mod.load()).inspect === 'function';
  } catch {
    return false;
  }
}

interface Measure {
  size: number;
  ms: number;
  bytes: number;
  reads: number;
  report?: ModelReport;
  error?: string;
}

async function measure(entry: string, size: number): Promise<Measure> {
  try {
    await inspectPath(entry); // warm-up: module loading and JIT
    await inspectPath(entry);
    const times: number[] = [];
    let bytes = 0;
    let reads = 0;
    let report: ModelReport | undefined;
    for (let i = 0; i < RUNS; i++) {
      collect();
      resetReadStats();
      const t0 = performance.now();
      report = await inspectPath(entry);
      times.push(performance.now() - t0);
      bytes = Math.max(bytes, readStats.bytes);
      reads = Math.max(reads, readStats.reads);
    }
    return { size, ms: median(times), bytes, reads, report };
  } catch (e) {
    return { size, ms: Number.NaN, bytes: readStats.bytes, reads: readStats.reads, error: (e as Error).message };
  }
}

/**
 * Reads may grow a little with the size: longer decimal offsets in ONNX, bigger pickle ints, and
 * read-ahead chunks that cover two small neighbouring headers at 1 GB but not once the tensor
 * between them has grown (MXNet: 16 KiB per array). Anything proportional to the tensor bytes
 * would be 10× / 50×: flat = at most 1.5× the smallest size's reads + 64 KiB.
 */
function flat(ms: Measure[]): boolean {
  const first = ms[0]!.bytes;
  return ms.every((m) => m.bytes <= first * 1.5 + 64 * KiB);
}

async function formats(root: string): Promise<boolean> {
  let ok = true;
  const cases = CASES.filter((c) => !ONLY || ONLY.includes(c.id) || (c.key !== undefined && ONLY.includes(c.key)));
  if (cases.length === 0) return true;
  const head = ['format', 'inspector', 'tensors', 'parameters', ...SIZES.map((s) => `ms @${gb(s)}`), ...SIZES.map((s) => `read @${gb(s)}`), `reads @${gb(SIZES.at(-1)!)}`, `read ×`, 'check'];
  const rows: string[][] = [head];
  const notes: string[] = [];
  for (const c of cases) {
    const inspector = await hasInspector(c.id);
    const ms: Measure[] = [];
    let identified = '';
    for (const size of SIZES) {
      const dir = join(root, `${c.key ?? c.id}-${size}`);
      await mkdir(dir);
      const built = await c.build(dir, size);
      const id = await identifyPath(built.entry);
      identified = id.format ? `${id.format.id}/${id.format.variant}` : `NOT IDENTIFIED (${id.reason ?? ''})`;
      if (id.format?.id !== c.id) {
        ok = false;
        notes.push(`${c.label} @${gb(size)}: identified as ${identified}, expected ${c.id}`);
      }
      if (inspector) ms.push(await measure(built.entry, built.size));
    }
    if (!inspector) {
      rows.push([c.label, 'not yet', '', '', ...SIZES.map(() => '—'), ...SIZES.map(() => '—'), '—', '—', 'identified only']);
      notes.push(`${c.label}: no inspector yet (formatById('${c.id}').load missing); identified as ${identified} at every size`);
      continue;
    }
    const last = ms.at(-1)!;
    const errors = ms.filter((m) => m.error);
    const isFlat = errors.length === 0 && flat(ms);
    if (!isFlat) ok = false;
    const r = last.report;
    rows.push([
      c.label,
      'yes',
      r ? String(r.tensors.count) : '?',
      r ? count(r.parameters.total) : '?',
      ...ms.map((m) => (m.error ? 'error' : m.ms.toFixed(1))),
      ...ms.map((m) => humanBytes(m.bytes)),
      String(last.reads),
      `${(last.bytes / Math.max(1, ms[0]!.bytes)).toFixed(2)}×`,
      errors.length ? 'ERROR' : isFlat ? 'flat' : 'GROWS',
    ]);
    for (const m of errors) notes.push(`${c.label} @${gb(m.size)}: ${m.error}`);
    if (r) {
      const dtypes = Object.entries(r.parameters.byDtype).map(([k, v]) => `${k} ${count(v)}`).join(', ');
      const diag = r.diagnostics.length ? `; diagnostics: ${r.diagnostics.map((d) => d.code).join(', ')}` : '';
      notes.push(`${c.label}: ${identified} ${r.format.version ?? ''}; ${dtypes}; tensor bytes ${r.size.tensorBytes ?? '?'} of ${last.size} file bytes${diag}`);
    }
  }
  table(rows, 2);
  console.log('');
  for (const n of notes) console.log(`# ${n}`);
  return ok;
}

async function vocabulary(root: string): Promise<void> {
  const t0 = performance.now();
  const v = qwenVocabGguf();
  const path = join(root, 'qwen2.5-1.5b-instruct-f16.gguf');
  await writeSparse(path, v.size, v.pieces);
  console.log('');
  console.log(
    `## GGUF header with a 150k-token vocabulary: ${v.vocab} tokens (+ scores, token_type), ${v.merges} merges, ${v.tensors} tensor infos; ` +
      `header ${humanBytes(v.headerBytes)}, file ${gb(v.size)} (built in ${(performance.now() - t0).toFixed(0)} ms)`,
  );
  console.log('');
  const parsers: { label: string; run: () => Promise<{ tensors: number; vocab: number; merges: number }> }[] = [
    {
      label: 'modelwise inspectPath (identify + header + report)',
      run: async () => {
        const r = await inspectPath(path);
        return { tensors: r.tensors.count, vocab: r.tokenizer?.vocabSize ?? -1, merges: Number(r.tokenizer?.merges ?? -1) };
      },
    },
    {
      label: 'modelwise readGgufHeader (parser only)',
      run: async () => {
        const f = await FileSource.open(path);
        try {
          const h = await readGgufHeader(f);
          const len = (k: string) => {
            const x = h.metadata[k];
            return Array.isArray(x) ? x.length : x && typeof x === 'object' && 'length' in x ? x.length : -1;
          };
          return { tensors: h.tensors.length, vocab: len('tokenizer.ggml.tokens'), merges: len('tokenizer.ggml.merges') };
        } finally {
          await f.close();
        }
      },
    },
    {
      label: '@huggingface/gguf 0.4.6 gguf(path, {allowLocalFile})',
      run: async () => {
        const g = await hfGguf(path, { allowLocalFile: true });
        const md = g.metadata as unknown as Record<string, unknown[]>;
        return { tensors: g.tensorInfos.length, vocab: md['tokenizer.ggml.tokens']!.length, merges: md['tokenizer.ggml.merges']!.length };
      },
    },
  ];
  const times = parsers.map(() => [] as number[]);
  const bytes = parsers.map(() => 0);
  const results = parsers.map(() => ({ tensors: 0, vocab: 0, merges: 0 }));
  for (const p of parsers) await p.run(); // warm-up
  // Interleaved, so drift on a shared machine hits every parser alike.
  for (let i = 0; i < RUNS; i++) {
    for (const [k, p] of parsers.entries()) {
      collect();
      resetReadStats();
      const s = performance.now();
      results[k] = await p.run();
      times[k]!.push(performance.now() - s);
      bytes[k] = readStats.bytes;
    }
  }
  const rows: string[][] = [['parser', 'median ms', 'runs (ms)', 'bytes read', 'tensors', 'tokens', 'merges']];
  parsers.forEach((p, k) =>
    rows.push([
      p.label,
      median(times[k]!).toFixed(1),
      times[k]!.map((t) => t.toFixed(0)).join(' '),
      k < 2 ? humanBytes(bytes[k]!) : `2 MB chunks`,
      String(results[k]!.tensors),
      String(results[k]!.vocab),
      String(results[k]!.merges),
    ]),
  );
  table(rows, 1);
  const agree = results.every((r) => r.tensors === v.tensors && r.vocab === v.vocab && r.merges === v.merges);
  const mw = median(times[0]!);
  const hf = median(times[2]!);
  console.log('');
  console.log(`# ratio @huggingface/gguf / modelwise inspect: ${(hf / mw).toFixed(1)}× (${hf > mw ? 'modelwise faster' : 'modelwise SLOWER'}); parser only: ${(hf / median(times[1]!)).toFixed(1)}×`);
  console.log(`# counts ${agree ? 'agree' : 'DISAGREE'} with the file (${v.tensors} tensors, ${v.vocab} tokens, ${v.merges} merges)`);
  console.log('# modelwise skips string bodies past a 16-element preview; @huggingface/gguf decodes every string into a JS array');
}

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./lib/inspect-child.ts', import.meta.url));

interface ChildResult {
  ms: number[];
  bytes: number;
  reads: number;
  rssBase: number;
  rssPeak: number;
  heapBase: number;
  heapPeak: number;
  summary: Record<string, unknown>;
  error?: string;
}

async function child(path: string, runs: number, warm: string): Promise<ChildResult> {
  const { stdout } = await run(process.execPath, ['--expose-gc', '--import', 'tsx', CHILD, path, String(runs), warm], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildResult;
}

const mb = (n: number) => `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)} MB`;
const mib = (n: number) => `${(n / MiB).toFixed(0)} MiB`;

/**
 * Formats whose inspection must read the whole document: PMML (streamed XML: memory must stay flat
 * whatever the size) and PFA (JSON parsed whole, bounded by LIMITS.jsonFile: memory grows with it).
 */
async function documents(root: string): Promise<boolean> {
  let ok = true;
  const rows: string[][] = [['document', 'size', 'content', 'runs', 'median ms', 'MB/s', 'bytes read', 'reads', 'RSS before', 'RSS peak', 'heap peak − before', 'check']];
  const notes: string[] = [];
  const warmPmml = join(root, 'warm.pmml');
  await writePmml(warmPmml, 200_000);
  const warmPfa = join(root, 'warm.pfa');
  await writeFile(warmPfa, pfaDocument(100_000).bytes);
  const row = (label: string, size: number, content: string, r: ChildResult, check: string) => {
    const med = median(r.ms);
    rows.push([label, mb(size), content, String(r.ms.length), med.toFixed(0), (size / 1e6 / (med / 1e3)).toFixed(1), humanBytes(r.bytes), String(r.reads), mib(r.rssBase), mib(r.rssPeak), mib(r.heapPeak - r.heapBase), check]);
  };
  for (const size of PMML_SIZES) {
    const path = join(root, `forest-${size}.pmml`);
    const t0 = performance.now();
    const f = await writePmml(path, size);
    const built = performance.now() - t0;
    const r = await child(path, size <= 2e8 ? Math.min(RUNS, 3) : 1, warmPmml);
    await rm(path, { force: true });
    // Streaming: the retained heap must not depend on the document size (64 MiB is generous).
    const flatMem = !r.error && r.heapPeak - r.heapBase < 64 * MiB && r.bytes >= f.size;
    if (!flatMem) ok = false;
    row('PMML (streamed)', f.size, `${f.segments} trees`, r, r.error ? 'ERROR' : flatMem ? 'flat heap' : 'HEAP GROWS');
    notes.push(`PMML ${mb(f.size)}: written in ${(built / 1e3).toFixed(1)} s; ${JSON.stringify(r.summary)}${r.error ? `; error: ${r.error}` : ''}`);
  }
  for (const size of PFA_SIZES) {
    const path = join(root, `tree-${size}.pfa`);
    const d = pfaDocument(size);
    await writeFile(path, d.bytes);
    const r = await child(path, Math.min(RUNS, 3), warmPfa);
    await rm(path, { force: true });
    if (r.error) ok = false;
    row('PFA (parsed whole)', d.bytes.length, `${d.nodes} tree nodes`, r, r.error ? 'ERROR' : 'ok');
    notes.push(`PFA ${mb(d.bytes.length)}: ${JSON.stringify(r.summary)}${r.error ? `; error: ${r.error}` : ''}`);
  }
  console.log('');
  console.log('## Whole-document formats (each size in its own child process: RSS and heap belong to that inspection)');
  console.log('');
  table(rows, 1);
  console.log('');
  for (const n of notes) console.log(`# ${n}`);
  return ok;
}

async function main(): Promise<void> {
  installReadCounter();
  const root = await mkdtemp(join(tmpdir(), 'modelwise-bench-inspect-'));
  let ok = true;
  try {
    console.log(`# modelwise bench:inspect — sizes ${SIZES.map(gb).join(', ')}; ${RUNS} runs, median (sparse files in ${root})`);
    console.log(`# node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${humanBytes(totalmem())} RAM, Linux ${release()}${gc ? ', heap collected before each run' : ''}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    console.log('');
    ok = await formats(root);
    if (TEXT) ok = (await documents(root)) && ok;
    if (VOCAB) await vocabulary(root);
  } finally {
    if (KEEP) console.log(`# kept ${root}`);
    else await rm(root, { recursive: true, force: true });
  }
  if (!ok) {
    console.error('bench:inspect: a model was misidentified, failed, its reads grew with its size, or a streamed document\'s heap grew');
    process.exitCode = 1;
  }
}

await main();
