/** Small helpers over Uint8Array shared by every decoder (no format knowledge). */

export function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

const utf8 = new TextDecoder('utf-8', { fatal: false });
const utf8Strict = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

export function decodeUtf8(b: Uint8Array): string {
  return utf8.decode(b);
}

/** Strict UTF-8: undefined when the bytes are not valid UTF-8. */
export function tryDecodeUtf8(b: Uint8Array): string | undefined {
  try {
    return utf8Strict.decode(b);
  } catch {
    return undefined;
  }
}

export function decodeLatin1(b: Uint8Array): string {
  return latin1.decode(b);
}

export function startsWith(b: Uint8Array, prefix: ArrayLike<number> | string, at = 0): boolean {
  const p = typeof prefix === 'string' ? Array.from(prefix, (c) => c.charCodeAt(0)) : prefix;
  if (b.length < at + p.length) return false;
  for (let i = 0; i < p.length; i++) if (b[at + i] !== p[i]) return false;
  return true;
}

/** Index of an ASCII needle in a byte array, or -1. */
export function indexOfAscii(b: Uint8Array, needle: string, from = 0): number {
  const n = Array.from(needle, (c) => c.charCodeAt(0));
  const first = n[0];
  outer: for (let i = b.indexOf(first!, from); i !== -1 && i <= b.length - n.length; i = b.indexOf(first!, i + 1)) {
    for (let j = 1; j < n.length; j++) if (b[i + j] !== n[j]) continue outer;
    return i;
  }
  return -1;
}

/** Share of bytes that look like text (printable ASCII, whitespace or UTF-8 lead/continuation). */
export function textShare(b: Uint8Array): number {
  if (b.length === 0) return 1;
  let ok = 0;
  for (const c of b) if (c === 9 || c === 10 || c === 13 || (c >= 32 && c !== 127)) ok++;
  return ok / b.length;
}

export function hex(b: Uint8Array, n = 8): string {
  return Array.from(b.subarray(0, n), (x) => x.toString(16).padStart(2, '0')).join(' ');
}

/** Read a little-endian u64 as a JS number; undefined if it exceeds 2^53. */
export function u64le(dv: DataView, at: number): number | undefined {
  const lo = dv.getUint32(at, true);
  const hi = dv.getUint32(at + 4, true);
  if (hi > 0x1fffff) return undefined;
  return hi * 0x1_0000_0000 + lo;
}

export function u64be(dv: DataView, at: number): number | undefined {
  const hi = dv.getUint32(at, false);
  const lo = dv.getUint32(at + 4, false);
  if (hi > 0x1fffff) return undefined;
  return hi * 0x1_0000_0000 + lo;
}

/** Format bytes in human units (1.5 GiB). */
export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let u = 0;
  let v = n;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[u]}`;
}

/** Join byte chunks into one array. */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let p = 0;
  for (const c of chunks) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}
