/** Worker thread body: quantizes slices of rows for the pool in ./quant-pool.ts. */
import { parentPort } from 'node:worker_threads';
import { quantizeRows } from '../convert/quant/index.js';

parentPort?.on('message', (m: { id: number; type: string; values: Float32Array; rowLength: number }) => {
  try {
    const out = quantizeRows(m.type, m.values, m.rowLength);
    // the input buffer goes back too, for the pool to reuse (see QuantPool.spare)
    const spare = m.values.buffer as ArrayBuffer;
    parentPort!.postMessage({ id: m.id, out, spare }, [out.buffer as ArrayBuffer, spare]);
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: (e as Error).message });
  }
});
