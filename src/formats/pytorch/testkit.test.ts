/**
 * Tiny byte builders for the PyTorch / TorchScript detector tests (zip layouts, pickle starts, tar
 * headers). Named *.test.ts so the build leaves it out; it holds no tests itself.
 */
import { zipSync } from 'fflate';
import { BytesSource } from '../../io/source.js';
import { MemoryTree } from '../../io/tree.js';
import { Probe } from '../../identify/probe.js';

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const latin1 = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

export function concat(...parts: (Uint8Array | number[])[]): Uint8Array {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A small pickle: PROTO 2, EMPTY_DICT, STOP. */
export const PICKLE2 = Uint8Array.from([0x80, 0x02, 0x7d, 0x71, 0x00, 0x2e]);
/** The legacy magic number pickled with protocol 2 (LONG1). */
export const MAGIC_P2 = Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]);
/** protocol_version 1001 pickled with protocol 2 (BININT2). */
export const VERSION_P2 = Uint8Array.from([0x80, 0x02, 0x4d, 0xe9, 0x03, 0x2e]);

/** A zip as PyTorchStreamWriter lays it out (stored members), from a record map under `top/`. */
export function torchZip(top: string, records: Record<string, Uint8Array | string>): Uint8Array {
  const files: Record<string, [Uint8Array, { level: 0 }]> = {};
  for (const [k, v] of Object.entries(records)) files[top ? `${top}/${k}` : k] = [typeof v === 'string' ? enc(v) : v, { level: 0 }];
  return zipSync(files);
}

/** The records of a torch.save zip with `n` storages. */
export function saveRecords(n: number, extra: Record<string, Uint8Array | string> = {}): Record<string, Uint8Array | string> {
  const r: Record<string, Uint8Array | string> = { 'data.pkl': PICKLE2, byteorder: 'little' };
  for (let i = 0; i < n; i++) r[`data/${i}`] = new Uint8Array(16);
  r.version = '3\n';
  r['.data/serialization_id'] = '1234567890';
  return { ...r, ...extra };
}

/** One 512-byte ustar header with a valid checksum. */
export function tarHeader(name: string, size: number, type = '0'): Uint8Array {
  const h = new Uint8Array(512);
  h.set(enc(name).subarray(0, 100), 0);
  h.set(enc('0000644\0'), 100);
  h.set(enc('0000000\0'), 108);
  h.set(enc('0000000\0'), 116);
  h.set(enc(size.toString(8).padStart(11, '0') + '\0'), 124);
  h.set(enc('00000000000\0'), 136);
  h[156] = type.charCodeAt(0);
  h.set(enc('ustar\x0000'), 257);
  h.fill(0x20, 148, 156);
  const sum = h.reduce((s, x) => s + x, 0);
  h.set(enc(sum.toString(8).padStart(6, '0') + '\0 '), 148);
  return h;
}

/** A tar of named members (data padded to 512), closed by two zero blocks. */
export function tar(members: [string, Uint8Array][]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [name, data] of members) {
    parts.push(tarHeader(name, data.length), data, new Uint8Array((512 - (data.length % 512)) % 512));
  }
  parts.push(new Uint8Array(1024));
  return concat(...parts);
}

export function probeOf(bytes: Uint8Array, name: string): Probe {
  return new Probe(new BytesSource(bytes, name), name);
}

/** A probe over `name` inside a folder of files (so siblings are visible). */
export function probeInFolder(files: Record<string, Uint8Array>, name: string): Probe {
  const sources: Record<string, BytesSource> = {};
  for (const [k, v] of Object.entries(files)) sources[k] = new BytesSource(v, k);
  const tree = new MemoryTree('folder', sources);
  return new Probe(sources[name]!, name, tree, name);
}
