/**
 * A worker-thread pool for quantization (`--threads`, default all cores): a tensor's rows are split
 * into one slice per worker, quantized in parallel and joined in order. Block rows are independent,
 * so the result is byte-identical to a single-thread run.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { quantizeRows } from '../convert/quant/index.js';

interface Job {
  resolve: (b: Uint8Array) => void;
  reject: (e: Error) => void;
}

export class QuantPool {
  private workers: Worker[] = [];
  private jobs = new Map<number, Job>();
  /** Jobs in flight per worker: a busy worker is ref'd (keeps the event loop alive), an idle one unref'd. */
  private busy = new Map<Worker, number>();
  /**
   * Input buffers the workers hand back, reused for the next slices: without them every slice is a
   * fresh allocation that a worker's isolate frees only at its next (rare) GC, and garbage piles
   * up in every worker at once.
   */
  private spare: ArrayBuffer[] = [];
  private nextId = 0;
  private rr = 0;
  readonly threads: number;

  constructor(threads = availableParallelism()) {
    this.threads = Math.max(1, threads);
    if (this.threads === 1) return;
    const here = new URL(import.meta.url);
    const ts = here.pathname.endsWith('.ts');
    const file = new URL(`./quant-worker.${ts ? 'ts' : 'js'}`, here);
    for (let i = 0; i < this.threads; i++) {
      // Running from TypeScript sources (tests, benches under tsx): Node 20 does not apply
      // `--import tsx` given in a worker's execArgv, so the worker registers tsx itself.
      const w = ts
        ? new Worker(`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(file.href)}); })`, { eval: true })
        : new Worker(file);
      w.on('message', (m: { id: number; out?: Uint8Array; error?: string; spare?: ArrayBuffer }) => {
        if (m.spare && this.spare.length < 2 * this.threads) this.spare.push(m.spare);
        const job = this.jobs.get(m.id);
        if (!job) return;
        this.jobs.delete(m.id);
        this.release(w);
        if (m.error !== undefined) job.reject(new Error(m.error));
        else job.resolve(m.out!);
      });
      w.on('error', (e) => {
        for (const j of this.jobs.values()) j.reject(e);
        this.jobs.clear();
        for (const x of this.workers) x.unref();
        this.busy.clear();
      });
      w.unref();
      this.workers.push(w);
    }
  }

  private run(type: string, values: Float32Array, rowLength: number): Promise<Uint8Array> {
    const w = this.workers[this.rr++ % this.workers.length]!;
    const id = this.nextId++;
    const n = this.busy.get(w) ?? 0;
    if (n === 0) w.ref();
    this.busy.set(w, n + 1);
    return new Promise((resolve, reject) => {
      this.jobs.set(id, { resolve, reject });
      const i = this.spare.findIndex((b) => b.byteLength >= values.byteLength);
      const buf = i >= 0 ? this.spare.splice(i, 1)[0]! : new ArrayBuffer(values.byteLength);
      const copy = new Float32Array(buf, 0, values.length);
      copy.set(values);
      w.postMessage({ id, type, values: copy, rowLength }, [buf]);
    });
  }

  private release(w: Worker): void {
    const n = (this.busy.get(w) ?? 1) - 1;
    this.busy.set(w, n);
    if (n === 0) w.unref();
  }

  /** Quantize rows of `rowLength` values; small tensors stay on this thread. */
  async quantize(type: string, values: Float32Array, rowLength: number): Promise<Uint8Array> {
    const rows = values.length / rowLength;
    if (this.workers.length === 0 || rows < 2 || values.length < 65536) return quantizeRows(type, values, rowLength);
    const parts = Math.min(this.workers.length, rows);
    const per = Math.ceil(rows / parts);
    const slices: Promise<Uint8Array>[] = [];
    for (let r = 0; r < rows; r += per) {
      slices.push(this.run(type, values.subarray(r * rowLength, Math.min(rows, r + per) * rowLength), rowLength));
    }
    const outs = await Promise.all(slices);
    const total = outs.reduce((s, o) => s + o.length, 0);
    const out = new Uint8Array(total);
    let p = 0;
    for (const o of outs) {
      out.set(o, p);
      p += o.length;
    }
    return out;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers = [];
    this.spare = [];
  }
}
