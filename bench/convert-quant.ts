/**
 * Benchmark: single-thread quantizer throughput, ours (src/convert/quant) against ggml's reference
 * (`ggml_quantize_chunk` in node-llama-cpp's prebuilt libggml-base.so via FFI) in the same run.
 *
 *   npm run bench:quant                          # every type, 16 MiB of f32 input per type
 *   npm run bench:quant -- --mib 64 --runs 7 --types q8_0,q4_k
 *   npm run bench:quant -- --engine ts           # the TypeScript fallback instead of WebAssembly
 *
 * Throughput is MB/s (10^6 bytes) of f32 input; each figure is the best (fastest) of the timed
 * runs (CPU time of this process) after one warm-up run. Ours and ggml's runs alternate, so both
 * see the same conditions. Also checks the outputs are byte-identical.
 */
import { cpus } from 'node:os';
import { dequantize, engineKind, quantizeRows } from '../src/convert/quant/index.js';
import { loadGgmlReference } from '../test/ggml-reference/index.js';
import { normal } from '../test/ggml-reference/rows.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}
const MIB = Number(arg('mib', '16'));
const RUNS = Number(arg('runs', '5'));
const TYPES = arg('types', 'f16,bf16,q8_0,q4_0,q4_1,q5_0,q5_1,q2_k,q3_k,q4_k,q5_k,q6_k').split(',');
const ROW = 4096;
const ENGINE = engineKind(arg('engine', 'wasm') === 'ts' ? 'ts' : 'wasm');

/**
 * Best CPU time (ms, user + system of this process) of RUNS runs of each function, after one
 * warm-up each; runs alternate. CPU time, not wall time: other work on the machine barely moves it.
 */
function time(...fns: (() => void)[]): number[] {
  for (const fn of fns) fn();
  const best = fns.map(() => Infinity);
  for (let r = 0; r < RUNS; r++) {
    fns.forEach((fn, k) => {
      const c0 = process.cpuUsage();
      fn();
      const c = process.cpuUsage(c0);
      best[k] = Math.min(best[k], (c.user + c.system) / 1000);
    });
  }
  return best;
}

const ref = loadGgmlReference();
if (typeof ref === 'string') console.log(`(no reference: ${ref})`);

const n = Math.floor((MIB * 1048576) / 4 / ROW) * ROW;
const x = new Float32Array(n);
const g = normal(1);
for (let i = 0; i < n; i++) x[i] = g();
const mb = (n * 4) / 1e6;

console.log(`quantizer throughput, single thread, ${mb.toFixed(1)} MB of f32 N(0,1) input in rows of ${ROW}, best of ${RUNS}, ${ENGINE} engine`);
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}\n`);
// warm every type up once (module compilation, JIT tiers) before any timing
for (const type of TYPES) quantizeRows(type, x.subarray(0, ROW * 64), ROW);

console.log('type     ours MB/s   ggml MB/s   ratio   identical   dequant MB/s (ours)');
console.log('-------  ----------  ----------  ------  ---------   -------------------');
for (const type of TYPES) {
  let ours: Uint8Array = new Uint8Array(0);
  let theirs: Uint8Array = new Uint8Array(0);
  const fns = [() => void (ours = quantizeRows(type, x, ROW))];
  if (typeof ref !== 'string') fns.push(() => void (theirs = ref.quantize(type, x, n / ROW, ROW)));
  const [tOurs, tRef] = time(...fns);
  const [tDeq] = time(() => void dequantize(type, ours, n));
  let refCol = '         –';
  let ratio = '     –';
  let same = '        –';
  if (typeof ref !== 'string') {
    refCol = (mb / (tRef / 1000)).toFixed(1).padStart(10);
    ratio = (tRef / tOurs).toFixed(2).padStart(6);
    same = (Buffer.compare(Buffer.from(ours), Buffer.from(theirs)) === 0 ? 'yes' : 'NO').padStart(9);
  }
  const oursCol = (mb / (tOurs / 1000)).toFixed(1).padStart(10);
  const deqCol = (mb / (tDeq / 1000)).toFixed(1).padStart(10);
  console.log(`${type.padEnd(7)}  ${oursCol}  ${refCol}  ${ratio}  ${same}   ${deqCol}`);
}
