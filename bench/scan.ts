/**
 * Benchmark: `scan` throughput.
 *
 * 1. The shared corpus (../shared/corpus): every real model (expected/*.json: files and folders)
 *    and every security sample (security/MANIFEST.tsv), scanned with `scanPath` one after another,
 *    then 4 at a time; MiB/s and files/s over the whole set (median of the runs), plus the slowest
 *    files and the verdicts.
 * 2. A synthetic 5 GB PyTorch checkpoint (lib/torch-zip.ts: zip64, a real-looking protocol-2
 *    `data.pkl` of 300 `_rebuild_tensor_v2` calls, 300 stored storages that are holes of a sparse
 *    file): only the pickle is walked. Every read is recorded: no read may start inside a storage's
 *    data (that would be reading tensor data). Bytes of storages covered by reads that start
 *    elsewhere — the 64 KiB probe windows at the file's head and tail, header reads that run past
 *    a local header — are counted and shown apart, as over-read.
 *
 *   npm run bench:scan
 *   npm run bench:scan -- --runs 9 --size 5e9 --keep
 *
 * Exits 1 when a read targets the checkpoint's tensor data, its verdict is not benign, or a corpus
 * scan errors.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { scanPath } from '../src/node/index.js';
import { humanBytes } from '../src/io/bytes.js';
import type { ScanReport } from '../src/scan/types.js';
import { CORPUS, HAVE_CORPUS, expectedModels, filesUnder } from '../test/helpers/corpus.js';
import { bytesInside, installReadCounter, readStats, readsStartingInside, resetReadStats, type ReadRange } from './lib/counter.js';
import { writeSparse } from './lib/sparse.js';
import { torchZipLayout } from './lib/torch-zip.js';

const MiB = 1024 * 1024;

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}
const RUNS = Number(argValue('runs') ?? 5);
const SIZE = Number(argValue('size') ?? 5e9);
const KEEP = process.argv.includes('--keep');
const CONCURRENCY = Number(argValue('concurrency') ?? 4);

const gc = (globalThis as { gc?: () => void }).gc;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function table(rows: string[][], rightFrom = 1): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const [k, r] of rows.entries()) {
    console.log(r.map((cell, i) => (i >= rightFrom ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd());
    if (k === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

interface Target {
  label: string;
  path: string;
  kind: 'model' | 'security';
  files: number;
  bytes: number;
}

/** Every real model (file or folder) and every security sample of the shared corpus. */
function corpusTargets(): Target[] {
  const out: Target[] = [];
  for (const m of expectedModels()) {
    if (m.isDir) {
      const files = filesUnder(m.path);
      out.push({ label: m.model, path: m.path, kind: 'model', files: files.length, bytes: files.reduce((s, f) => s + statSync(join(m.path, f)).size, 0) });
    } else out.push({ label: m.model, path: m.path, kind: 'model', files: 1, bytes: statSync(m.path).size });
  }
  const lines = readFileSync(join(CORPUS, 'security', 'MANIFEST.tsv'), 'utf8').trim().split('\n');
  const col = lines[0]!.split('\t').indexOf('path');
  for (const l of lines.slice(1)) {
    const rel = l.split('\t')[col]!;
    const path = join(CORPUS, 'security', rel);
    if (!existsSync(path)) continue;
    out.push({ label: `security/${rel}`, path, kind: 'security', files: 1, bytes: statSync(path).size });
  }
  return out;
}

async function pool<T>(items: T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

async function corpus(): Promise<boolean> {
  if (!HAVE_CORPUS) {
    console.log(`# corpus: ${CORPUS} not found, skipped`);
    return true;
  }
  const targets = corpusTargets();
  const totalBytes = targets.reduce((s, t) => s + t.bytes, 0);
  const totalFiles = targets.reduce((s, t) => s + t.files, 0);
  let ok = true;
  const perFile = new Map<string, number[]>();
  const verdicts = new Map<string, ScanReport>();
  const errors: string[] = [];
  const once = async (t: Target) => {
    const t0 = performance.now();
    let r: ScanReport;
    try {
      r = await scanPath(t.path);
    } catch (e) {
      errors.push(`${t.label}: threw ${(e as Error).message}`);
      return;
    }
    const ms = performance.now() - t0;
    (perFile.get(t.label) ?? perFile.set(t.label, []).get(t.label)!).push(ms);
    verdicts.set(t.label, r);
    if (r.error) errors.push(`${t.label}: ${r.error.code} ${r.error.message}`);
  };
  // warm-up: module loading and JIT
  for (const t of targets) await once(t);
  perFile.clear();
  const modes: { label: string; times: number[]; bytes: number[] }[] = [
    { label: 'sequential', times: [], bytes: [] },
    { label: `${CONCURRENCY} at a time`, times: [], bytes: [] },
  ];
  for (let i = 0; i < RUNS; i++) {
    for (const [k, m] of modes.entries()) {
      gc?.();
      resetReadStats();
      const t0 = performance.now();
      if (k === 0) for (const t of targets) await once(t);
      else await pool(targets, CONCURRENCY, once);
      m.times.push(performance.now() - t0);
      m.bytes.push(readStats.bytes);
    }
  }
  const models = targets.filter((t) => t.kind === 'model');
  const security = targets.filter((t) => t.kind === 'security');
  console.log(`## Shared corpus: ${models.length} models (${models.reduce((s, t) => s + t.files, 0)} files, ${humanBytes(models.reduce((s, t) => s + t.bytes, 0))}) + ${security.length} security samples (${humanBytes(security.reduce((s, t) => s + t.bytes, 0))}) = ${targets.length} scans, ${totalFiles} files, ${humanBytes(totalBytes)}`);
  console.log('');
  const rows: string[][] = [['mode', 'median ms', 'runs (ms)', 'MiB/s', 'files/s', 'scans/s', 'bytes read / run']];
  for (const m of modes) {
    const med = median(m.times);
    rows.push([m.label, med.toFixed(0), m.times.map((t) => t.toFixed(0)).join(' '), (totalBytes / MiB / (med / 1e3)).toFixed(1), (totalFiles / (med / 1e3)).toFixed(0), (targets.length / (med / 1e3)).toFixed(0), humanBytes(Math.max(...m.bytes))]);
  }
  table(rows, 1);
  console.log('');
  const slow = [...perFile.entries()].map(([k, v]) => [k, median(v), Math.max(...v)] as const).sort((a, b) => b[2] - a[2]);
  console.log(`# slowest scans (median / max ms over ${RUNS * 2} runs): ${slow.slice(0, 6).map(([k, med, max]) => `${k} ${med.toFixed(1)}/${max.toFixed(1)}`).join('; ')}`);
  const count = (kind: string) => {
    const c: Record<string, number> = {};
    for (const t of targets.filter((x) => x.kind === kind)) {
      const v = verdicts.get(t.label)?.verdict ?? 'error';
      c[v] = (c[v] ?? 0) + 1;
    }
    return Object.entries(c).map(([k, n]) => `${k} ${n}`).join(', ');
  };
  console.log(`# verdicts: models — ${count('model')}; security samples — ${count('security')}`);
  const malicious = models.filter((t) => verdicts.get(t.label)?.verdict === 'malicious').map((t) => t.label);
  if (malicious.length) console.log(`# real models reported malicious: ${malicious.join(', ')}`);
  if (errors.length) {
    ok = false;
    for (const e of [...new Set(errors)]) console.log(`# ERROR ${e}`);
  }
  return ok;
}

async function checkpoint(root: string): Promise<boolean> {
  const l = torchZipLayout(SIZE);
  const path = join(root, 'pytorch_model.bin');
  await writeSparse(path, l.size, l.pieces);
  const storages = l.members.filter((m) => m.name.startsWith('archive/data/'));
  const regions: [number, number][] = storages.map((m) => [m.dataOffset, m.dataOffset + m.size]);
  const tensorBytes = storages.reduce((s, m) => s + m.size, 0);
  readStats.trackRanges = true;
  let r = await scanPath(path); // warm-up
  const times: number[] = [];
  let bytes = 0;
  let reads = 0;
  let largest = 0;
  let ranges: ReadRange[] = [];
  for (let i = 0; i < RUNS; i++) {
    gc?.();
    resetReadStats();
    const t0 = performance.now();
    r = await scanPath(path);
    times.push(performance.now() - t0);
    bytes = Math.max(bytes, readStats.bytes);
    reads = Math.max(reads, readStats.reads);
    largest = Math.max(largest, readStats.largest);
    ranges = readStats.ranges;
  }
  readStats.trackRanges = false;
  // The probe's fixed windows — the first 64 KiB and the last 64 KiB + 97 bytes of every file, read
  // before the format is known — may cover the first and last storages: over-read, not targeted.
  const windows = ranges.filter((x) => x.offset === 0 || x.offset + x.length === l.size);
  const targeted = readsStartingInside(ranges.filter((x) => !windows.includes(x)), regions);
  const overWindows = bytesInside(windows, regions);
  const overOther = bytesInside(ranges, regions) - overWindows;
  const touched = storages.filter((m) => bytesInside(ranges.filter((x) => !windows.includes(x)), [[m.dataOffset, m.dataOffset + m.size]]) > 0).length;
  const ok = targeted.length === 0 && r.verdict === 'benign';
  const med = median(times);
  console.log('');
  console.log(`## Synthetic ${(l.size / 1e9).toFixed(1)} GB PyTorch checkpoint (zip64, ${l.tensors} stored storages = ${humanBytes(tensorBytes)} of holes, data.pkl ${humanBytes(l.pickleBytes)})`);
  console.log('');
  table([
    ['file', 'size', 'verdict', 'median ms', 'runs (ms)', 'logical MiB/s', 'bytes read', 'reads', 'largest read', 'reads into tensor data', 'over-read: probe windows', 'over-read: other', 'check'],
    ['pytorch_model.bin', humanBytes(l.size), r.verdict, med.toFixed(1), times.map((t) => t.toFixed(0)).join(' '), (l.size / MiB / (med / 1e3)).toFixed(0), humanBytes(bytes), String(reads), humanBytes(largest), String(targeted.length), humanBytes(overWindows), `${humanBytes(overOther)} (${touched} storages)`, ok ? 'ok' : 'FAIL'],
  ], 1);
  console.log('');
  console.log(`# imports: ${r.imports.join(', ')}`);
  console.log(`# scanned: ${r.scanned.join('; ')}`);
  if (r.findings.length) console.log(`# findings: ${r.findings.map((f) => `${f.rule} ${f.severity} ${f.location}: ${f.evidence}`).join('; ')}`);
  if (targeted.length) console.log(`# reads into tensor data: ${targeted.slice(0, 5).map((x) => `${x.length} bytes @ ${x.offset}`).join(', ')}`);
  if (overOther > 0) {
    const sizes = [...new Set(ranges.filter((x) => !windows.includes(x) && bytesInside([x], regions) > 0).map((x) => x.length))];
    console.log(`# over-read: reads of ${sizes.join('/')} bytes at member headers run ${humanBytes(Math.round(overOther / Math.max(1, touched)))} into the storage after them (bytes fetched, never parsed)`);
  }
  console.log('# "logical MiB/s" = file size / scan time: the scan cost does not depend on the storages, which are never walked');
  return ok;
}

async function main(): Promise<void> {
  installReadCounter();
  console.log(`# modelwise bench:scan — ${RUNS} runs, median`);
  console.log(`# node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${humanBytes(totalmem())} RAM, Linux ${release()}${gc ? ', heap collected before each run' : ''}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log('');
  const root = await mkdtemp(join(tmpdir(), 'modelwise-bench-scan-'));
  let ok = true;
  try {
    ok = (await corpus()) && ok;
    ok = (await checkpoint(root)) && ok;
  } finally {
    if (KEEP) console.log(`# kept ${root}`);
    else await rm(root, { recursive: true, force: true });
  }
  if (!ok) {
    console.error('bench:scan: a corpus scan failed, or the checkpoint\'s tensor data was read / its verdict is not benign');
    process.exitCode = 1;
  }
}

await main();
