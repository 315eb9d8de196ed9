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
      const w = new Worker(file, ts ? { execArgv: ['--import', 'tsx'] } : {});
      w.on('message', (m: { id: number; out?: Uint8Array; error?: string }) => {
        const job = this.jobs.get(m.id);
        if (!job) return;
        this.jobs.delete(m.id);
        if (m.error !== undefined) job.reject(new Error(m.error));
        else job.resolve(m.out!);
      });
      w.on('error', (e) => {
        for (const j of this.jobs.values()) j.reject(e);
        this.jobs.clear();
      });
      w.unref();
      this.workers.push(w);
    }
  }

  private run(type: string, values: Float32Array, rowLength: number): Promise<Uint8Array> {
    const w = this.workers[this.rr++ % this.workers.length]!;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.jobs.set(id, { resolve, reject });
      const copy = values.slice();
      w.postMessage({ id, type, values: copy, rowLength }, [copy.buffer]);
    });
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
  }
}
