/** Bounded inflation of in-memory deflate / zlib data (bombs stop at `cap` bytes). */
import { Inflate, Unzlib } from 'fflate';
import { concatBytes } from '../io/bytes.js';

/** Inflate `data`; undefined when it is not valid or would exceed `cap` bytes. */
export function inflateCapped(data: Uint8Array, cap: number, format: 'deflate' | 'zlib' = 'deflate'): Uint8Array | undefined {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let over = false;
  const onData = (chunk: Uint8Array) => {
    if (over) return;
    total += chunk.length;
    if (total > cap) over = true;
    else chunks.push(chunk);
  };
  try {
    const s = format === 'zlib' ? new Unzlib(onData) : new Inflate(onData);
    const step = 64 * 1024;
    for (let i = 0; i < data.length && !over; i += step) s.push(data.subarray(i, i + step), i + step >= data.length);
  } catch {
    return undefined;
  }
  if (over) return undefined;
  return concatBytes(chunks);
}
