/**
 * Benchmark: identify synthetic 50 GB models (sparse files: real headers, holes for the weights)
 * and show that identification reads kilobytes, not gigabytes, and takes milliseconds.
 *
 *   npm run bench:identify            # 50 GB models
 *   npm run bench:identify -- --size 5e9 --runs 9 --keep
 *
 * Prints one row per model: format found, file size, median wall time of the runs, bytes read and
 * read calls (all local files together, siblings included). Exits 1 if a model needs ≥ 1 MiB.
 */
import { mkdtemp, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { identifyPath } from '../src/node/index.js';
import { humanBytes } from '../src/io/bytes.js';
import { writeSparse } from './lib/sparse.js';
import { ggufLayout } from './lib/gguf.js';
import { safetensorsLayout } from './lib/safetensors.js';
import { torchZipLayout } from './lib/torch-zip.js';
import { onnxExternalLayout } from './lib/onnx.js';
import { installReadCounter, readStats, resetReadStats } from './lib/counter.js';

const MiB = 1024 * 1024;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const SIZE = arg('size', 50e9);
const RUNS = arg('runs', 5);
const KEEP = process.argv.includes('--keep');

interface Case {
  label: string;
  /** The file identified (the model entry). */
  entry: string;
  /** Bytes on the logical size of all files of the model. */
  size: number;
}

async function makeModels(root: string): Promise<Case[]> {
  const cases: Case[] = [];

  const g = ggufLayout(SIZE);
  await mkdir(join(root, 'gguf'));
  await writeSparse(join(root, 'gguf', 'bench-50gb-f16.gguf'), g.size, g.pieces);
  cases.push({ label: 'GGUF v3', entry: join(root, 'gguf', 'bench-50gb-f16.gguf'), size: g.size });

  const s = safetensorsLayout(SIZE);
  await mkdir(join(root, 'safetensors'));
  await writeSparse(join(root, 'safetensors', 'model.safetensors'), s.size, s.pieces);
  cases.push({ label: 'safetensors', entry: join(root, 'safetensors', 'model.safetensors'), size: s.size });

  const t = torchZipLayout(SIZE);
  await mkdir(join(root, 'pytorch'));
  await writeSparse(join(root, 'pytorch', 'pytorch_model.bin'), t.size, t.pieces);
  cases.push({ label: 'PyTorch zip64', entry: join(root, 'pytorch', 'pytorch_model.bin'), size: t.size });

  const o = onnxExternalLayout(SIZE);
  await mkdir(join(root, 'onnx'));
  await writeFile(join(root, 'onnx', 'model.onnx'), o.model);
  await writeSparse(join(root, 'onnx', 'model.onnx.data'), o.dataSize, o.dataPieces);
  cases.push({ label: 'ONNX + external data', entry: join(root, 'onnx', 'model.onnx'), size: o.model.length + o.dataSize });

  return cases;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

async function main(): Promise<void> {
  installReadCounter();
  const root = await mkdtemp(join(tmpdir(), 'modelwise-bench-'));
  let failed = false;
  try {
    const t0 = performance.now();
    const cases = await makeModels(root);
    let disk = 0;
    for (const d of await readdir(root)) for (const f of await readdir(join(root, d))) disk += (await stat(join(root, d, f))).blocks * 512;
    console.log(`# modelwise bench:identify — ${cases.length} synthetic models of ~${humanBytes(SIZE)} (${(SIZE / 1e9).toFixed(0)} GB) each (sparse files in ${root})`);
    console.log(`# made in ${(performance.now() - t0).toFixed(0)} ms; node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}); ${RUNS} runs, median`);
    console.log('');
    const rows: string[][] = [['model', 'identified as', 'size', 'time (ms)', 'bytes read', 'reads', 'check']];
    const notes: string[] = [];
    for (const c of cases) {
      await identifyPath(c.entry); // warm-up: module loading and JIT
      const times: number[] = [];
      let bytes = 0;
      let reads = 0;
      let result = await identifyPath(c.entry);
      for (let i = 0; i < RUNS; i++) {
        resetReadStats();
        const s0 = performance.now();
        result = await identifyPath(c.entry);
        times.push(performance.now() - s0);
        bytes = Math.max(bytes, readStats.bytes);
        reads = Math.max(reads, readStats.reads);
      }
      const found = result.format ? `${result.format.id} (${result.format.variant})` : `not recognised${result.notModel ? ` [${result.notModel}]` : ''}`;
      const ok = bytes < MiB;
      if (!ok) failed = true;
      rows.push([c.label, found, `${(c.size / 1e9).toFixed(1)} GB`, median(times).toFixed(1), humanBytes(bytes), String(reads), ok ? 'ok (< 1 MiB)' : 'TOO MUCH']);
      notes.push(`${c.label}: ${result.format ? result.evidence.join('; ') : (result.reason ?? '')}`);
    }
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    for (const [k, r] of rows.entries()) {
      console.log(r.map((cell, i) => pad(cell, widths[i]!, i >= 2 && i <= 5)).join('  '));
      if (k === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    }
    console.log('');
    for (const n of notes) console.log(`# ${n}`);
    console.log(`# disk used by the model files: ${humanBytes(disk)} (holes take none)`);
  } finally {
    if (KEEP) console.log(`# kept ${root}`);
    else await rm(root, { recursive: true, force: true });
  }
  if (failed) {
    console.error('bench:identify: a model needed 1 MiB or more of reads');
    process.exitCode = 1;
  }
}

await main();
