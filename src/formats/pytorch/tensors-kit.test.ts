/**
 * Helpers for the readTensor tests (PyTorch and TorchScript): open a model from bytes (with its
 * folder), decode returned bytes to the values the fixture JSON lists. Named *.test.ts so the build
 * leaves it out; it holds no tests itself.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BytesSource, type ByteSource } from '../../io/source.js';
import { MemoryTree } from '../../io/tree.js';
import { locateSource, openModel, type OpenedModel } from '../../inspect/inspect.js';
import type { Inspection } from '../types.js';
import type { TensorInfo } from '../../types.js';

export const FIXTURES = join(import.meta.dirname, '../../../test/fixtures/pytorch');

export interface Opened {
  m: OpenedModel;
  ins: Inspection;
  info(name: string): TensorInfo;
  read(name: string): Promise<Uint8Array>;
}

/** Open `entry` among `files` (its folder), inspect it, and read tensors by name. */
export async function openFiles(files: Record<string, Uint8Array | ByteSource>, entry: string): Promise<Opened> {
  const sources: Record<string, ByteSource> = {};
  for (const [k, v] of Object.entries(files)) sources[k] = v instanceof Uint8Array ? new BytesSource(v, k) : v;
  const tree = new MemoryTree('m', sources);
  const loc = await locateSource(sources[entry]!, { path: entry, tree, treePath: entry });
  const m = await openModel(loc.id, loc.probe, undefined);
  const ins = await m.impl.inspect!(m.input);
  const info = (name: string) => {
    const t = ins.tensors.find((x) => x.name === name);
    if (!t) throw new Error(`no tensor ${name} in ${ins.tensors.map((x) => x.name).join(', ')}`);
    return t;
  };
  return { m, ins, info, read: (name) => m.impl.readTensor!(m.input, info(name)) };
}

/** Open a fixture file (with the other files of its folder as siblings). */
export function openFixture(rel: string): Promise<Opened> {
  const path = join(FIXTURES, rel);
  const dir = join(path, '..');
  const files: Record<string, Uint8Array> = {};
  for (const f of readdirSync(dir)) if (statSync(join(dir, f)).isFile()) files[f] = new Uint8Array(readFileSync(join(dir, f)));
  return openFiles(files, rel.split('/').pop()!);
}

export interface ExpectedTensor {
  dtype: string;
  shape: number[];
  values: (number | string)[];
}

export function expectedValues(rel: string): Record<string, ExpectedTensor> {
  return JSON.parse(readFileSync(join(FIXTURES, rel), 'utf8')) as Record<string, ExpectedTensor>;
}

function half(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Little-endian bytes of `dtype` → the values as the fixture JSON writes them. */
export function decode(dtype: string, bytes: Uint8Array): (number | string)[] {
  const b = new Uint8Array(bytes); // own, aligned buffer
  const dv = new DataView(b.buffer);
  const n = (size: number) => b.length / size;
  const each = <T>(size: number, f: (o: number) => T): T[] => Array.from({ length: n(size) }, (_, i) => f(i * size));
  switch (dtype) {
    case 'f32': return each(4, (o) => dv.getFloat32(o, true));
    case 'c64': return each(4, (o) => dv.getFloat32(o, true));
    case 'f64': case 'c128': return each(8, (o) => dv.getFloat64(o, true));
    case 'f16': return each(2, (o) => half(dv.getUint16(o, true)));
    case 'bf16': return each(2, (o) => new Float32Array(new Uint32Array([dv.getUint16(o, true) << 16]).buffer)[0]!);
    case 'i8': case 'qint8': return each(1, (o) => dv.getInt8(o));
    case 'u8': case 'quint8': case 'bool': return each(1, (o) => dv.getUint8(o));
    case 'i16': return each(2, (o) => dv.getInt16(o, true));
    case 'u16': return each(2, (o) => dv.getUint16(o, true));
    case 'i32': case 'qint32': return each(4, (o) => dv.getInt32(o, true));
    case 'i64': return each(8, (o) => dv.getBigInt64(o, true).toString());
    default: throw new Error(`no decoder for ${dtype}`);
  }
}

/** Little-endian (or big-endian) bytes of typed values, to build storages in code. */
export function f32(values: number[], bigEndian = false): Uint8Array {
  const b = new Uint8Array(values.length * 4);
  values.forEach((v, i) => new DataView(b.buffer).setFloat32(i * 4, v, !bigEndian));
  return b;
}
