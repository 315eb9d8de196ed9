/**
 * ML programs (coremltools mlmodel/format/MIL.proto), walked lazily:
 * - Program: version = 1, functions = 2 (map<string, Function>), docString = 3, attributes = 4;
 * - Function: inputs = 1, opset = 2, block_specializations = 3 (map<string, Block>), attributes = 4;
 * - Block: inputs = 1, outputs = 2, operations = 3, attributes = 4;
 * - Operation: type = 1, inputs = 2 (map<string, Argument>), outputs = 3 (NamedValueType
 *   { name = 1, type = 2 }), blocks = 4, attributes = 5 (map<string, Value>);
 * - Value: docString = 1, type = 2 (ValueType { tensorType = 1 … }), immediateValue = 3,
 *   blobFileValue = 5 (BlobFileValue { fileName = 1, offset = 2 });
 * - TensorType: dataType = 1, rank = 2, dimensions = 3 (Dimension { constant = 1 { size = 1 },
 *   unknown = 2 }).
 * Immediate values (inline constants) are skipped by length; blob-file values are the weights.
 */
import { SourceFieldReader, WIRE, scanMessage, fieldString, walkMessage, type ProtoField } from '../../codecs/protobuf.js';
import { LIMITS } from '../../limits.js';
import type { Diagnostic } from '../../types.js';

/** MIL DataType enum → canonical dtype (the oracle's names). */
export const MIL_DTYPES: Record<number, string> = {
  1: 'bool', 2: 'string', 10: 'f16', 11: 'f32', 12: 'f64', 13: 'bf16', 21: 'i8', 22: 'i16', 23: 'i32', 24: 'i64',
  25: 'i4', 31: 'u8', 32: 'u16', 33: 'u32', 34: 'u64', 35: 'u4', 36: 'u2', 37: 'u1', 38: 'u6', 39: 'u3',
  40: 'f8e4m3fn', 41: 'f8e5m2',
};

/** Bits per element of the MIL dtypes that have a fixed size. */
export const MIL_BITS: Record<string, number> = {
  bool: 8, f16: 16, f32: 32, f64: 64, bf16: 16, i8: 8, i16: 16, i32: 32, i64: 64, i4: 4, u8: 8, u16: 16, u32: 32, u64: 64,
  u4: 4, u2: 2, u1: 1, u6: 6, u3: 3, f8e4m3fn: 8, f8e5m2: 8,
};

export interface BlobConst {
  /** `<op output>` for a const's `val`, `<op output>.<attribute>` otherwise (constexpr ops). */
  name: string;
  op: string;
  dtype: string;
  shape: number[];
  fileName: string;
  offset: number;
}

export interface ProgramFacts {
  functions: string[];
  ops: Record<string, number>;
  blobs: BlobConst[];
  opCount: number;
}

export class MilReader {
  constructor(private readonly r: SourceFieldReader, private readonly diagnostics: Diagnostic[]) {}

  /** The Program in [start, end): ops of every function's active block (nested blocks too), blob constants. */
  async program(start: number, end: number, out: ProgramFacts): Promise<void> {
    const w = await walkMessage(this.r, start, end, async (f) => {
      if (f.field !== 2 || f.wire !== WIRE.len) return;
      let name = '';
      let fn: ProtoField | undefined;
      await walkMessage(this.r, f.at, f.end, async (e) => {
        if (e.field === 1 && e.wire === WIRE.len) name = (await this.r.string(e, 4096)) ?? '';
        else if (e.field === 2 && e.wire === WIRE.len) fn = e;
      });
      out.functions.push(name);
      if (fn) await this.function(fn, out);
    });
    if (!w.ok) this.diagnostics.push({ code: 'MALFORMED', message: `ML program read partially (bad field at byte ${w.errorAt})` });
  }

  /** The block named by `opset` among the block specializations (else the first). */
  private async function(fn: ProtoField, out: ProgramFacts): Promise<void> {
    let opset = '';
    const blocks: { key: string; block: ProtoField }[] = [];
    await walkMessage(this.r, fn.at, fn.end, async (g) => {
      if (g.field === 2 && g.wire === WIRE.len) opset = (await this.r.string(g, 4096)) ?? '';
      else if (g.field === 3 && g.wire === WIRE.len) {
        let key = '';
        let block: ProtoField | undefined;
        await walkMessage(this.r, g.at, g.end, async (e) => {
          if (e.field === 1 && e.wire === WIRE.len) key = (await this.r.string(e, 4096)) ?? '';
          else if (e.field === 2 && e.wire === WIRE.len) block = e;
        });
        if (block) blocks.push({ key, block });
      }
    });
    const chosen = blocks.find((b) => b.key === opset) ?? blocks[0];
    if (chosen) await this.block(chosen.block, out, 0);
  }

  private async block(b: ProtoField, out: ProgramFacts, depth: number): Promise<void> {
    if (depth > LIMITS.protobufDepth) {
      this.diagnostics.push({ code: 'LIMIT_EXCEEDED', message: 'ML program blocks nested too deep; inner blocks not read' });
      return;
    }
    await walkMessage(this.r, b.at, b.end, async (f) => {
      if (f.field === 3 && f.wire === WIRE.len) await this.operation(f, out, depth);
    });
  }

  private async operation(op: ProtoField, out: ProgramFacts, depth: number): Promise<void> {
    let type = '';
    let output: string | undefined;
    const attrs: { name: string; value: ProtoField }[] = [];
    const nested: ProtoField[] = [];
    await walkMessage(this.r, op.at, op.end, async (f) => {
      if (f.wire !== WIRE.len) return;
      if (f.field === 1) type = (await this.r.string(f, 4096)) ?? '';
      else if (f.field === 3 && output === undefined) {
        await walkMessage(this.r, f.at, f.end, async (g) => {
          if (g.field === 1 && g.wire === WIRE.len) {
            output = (await this.r.string(g, 1 << 20)) ?? '';
            return false;
          }
        });
      } else if (f.field === 4) nested.push(f);
      else if (f.field === 5) {
        let name = '';
        let value: ProtoField | undefined;
        await walkMessage(this.r, f.at, f.end, async (e) => {
          if (e.field === 1 && e.wire === WIRE.len) name = (await this.r.string(e, 4096)) ?? '';
          else if (e.field === 2 && e.wire === WIRE.len) value = e;
        });
        if (value) attrs.push({ name, value });
      }
    });
    out.ops[type] = (out.ops[type] ?? 0) + 1;
    out.opCount++;
    for (const a of attrs) {
      const blob = await this.blobValue(a.value);
      if (!blob) continue;
      const base = output ?? '';
      out.blobs.push({ name: a.name === 'val' ? base : `${base}.${a.name}`, op: type, ...blob });
    }
    for (const n of nested) await this.block(n, out, depth + 1);
  }

  /** A Value with blobFileValue = 5: its file, offset and the tensor type (type = 2). */
  private async blobValue(v: ProtoField): Promise<Omit<BlobConst, 'name' | 'op'> | undefined> {
    let blob: ProtoField | undefined;
    let type: ProtoField | undefined;
    await walkMessage(this.r, v.at, v.end, (f) => {
      if (f.field === 5 && f.wire === WIRE.len) blob = f;
      else if (f.field === 2 && f.wire === WIRE.len) type = f;
    });
    if (!blob) return undefined;
    const bb = await this.r.bytes(blob, 1 << 20);
    const tb = type ? await this.r.bytes(type, 1 << 20) : new Uint8Array(0);
    if (!bb || !tb) return undefined;
    const bf = scanMessage(bb);
    const fileF = bf.ok ? bf.fields.find((f) => f.field === 1 && f.wire === WIRE.len) : undefined;
    const offF = bf.ok ? bf.fields.find((f) => f.field === 2 && f.wire === WIRE.varint) : undefined;
    return { fileName: fileF ? (fieldString(bb, fileF, 1 << 16) ?? '') : '', offset: offF?.value ?? 0, ...tensorType(tb) };
  }
}

/** ValueType → tensorType's dtype and constant dims (the oracle's reading: unknown dims are 0). */
export function tensorType(b: Uint8Array): { dtype: string; shape: number[] } {
  const vt = scanMessage(b);
  const tt = vt.ok ? vt.fields.find((f) => f.field === 1 && f.wire === WIRE.len) : undefined;
  if (!tt) return { dtype: '0', shape: [] };
  const t = scanMessage(b, tt.at, tt.end);
  if (!t.ok) return { dtype: '0', shape: [] };
  const dt = t.fields.find((f) => f.field === 1 && f.wire === WIRE.varint)?.value ?? 0;
  const shape: number[] = [];
  for (const d of t.fields) {
    if (d.field !== 3 || d.wire !== WIRE.len || shape.length >= LIMITS.tensorRank) continue;
    const dim = scanMessage(b, d.at, d.end);
    const c = dim.ok ? dim.fields.find((x) => x.field === 1 && x.wire === WIRE.len) : undefined;
    const cs = c ? scanMessage(b, c.at, c.end) : undefined;
    shape.push(cs?.ok ? (cs.fields.find((x) => x.field === 1 && x.wire === WIRE.varint)?.value ?? 0) : 0);
  }
  return { dtype: MIL_DTYPES[dt] ?? String(dt), shape };
}
