/**
 * Child process of bench:inspect for the formats that must read the whole document (PMML is
 * streamed, PFA parsed whole): inspects `path` `runs` times in a fresh process and prints one JSON
 * line — wall times, bytes read, resident set and JS heap before and at their peak — so the memory
 * figure belongs to this inspection alone.
 *
 *   node --expose-gc --import tsx bench/lib/inspect-child.ts <path> <runs> [<warm-up path>]
 */
import { performance } from 'node:perf_hooks';
import { inspectPath } from '../../src/node/index.js';
import { installReadCounter, readStats, resetReadStats } from './counter.js';

const [path, runsArg, warm] = process.argv.slice(2);
const gc = (globalThis as { gc?: () => void }).gc;
installReadCounter();
if (warm) await inspectPath(warm); // load the modules and JIT on a small document of the same format
gc?.();
const rssBase = process.memoryUsage().rss;
const heapBase = process.memoryUsage().heapUsed;
let heapPeak = heapBase;
let rssPeak = rssBase;
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  heapPeak = Math.max(heapPeak, m.heapUsed);
  rssPeak = Math.max(rssPeak, m.rss);
}, 5);
const ms: number[] = [];
let summary: Record<string, unknown> = {};
let error: string | undefined;
try {
  for (let i = 0; i < Number(runsArg ?? 1); i++) {
    gc?.();
    resetReadStats();
    const t0 = performance.now();
    const r = await inspectPath(path!);
    ms.push(performance.now() - t0);
    const d = r.details as Record<string, any>;
    summary = { format: `${r.format.id}/${r.format.variant}`, version: r.format.version, diagnostics: r.diagnostics.map((x) => x.code), models: d?.models?.[0]?.size, nodes: d?.cellList?.[0]?.init?.nodes };
  }
} catch (e) {
  error = (e as Error).message;
}
clearInterval(sampler);
const m = process.memoryUsage();
heapPeak = Math.max(heapPeak, m.heapUsed);
// maxRSS (KiB) is the process-lifetime peak: the warm-up on a small file is far below it.
rssPeak = Math.max(rssPeak, process.resourceUsage().maxRSS * 1024);
console.log(JSON.stringify({ ms, bytes: readStats.bytes, reads: readStats.reads, rssBase, rssPeak, heapBase, heapPeak, summary, ...(error ? { error } : {}) }));
