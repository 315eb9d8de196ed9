/**
 * A tiny WebAssembly assembler: just enough to write the quantizer kernels (wasm/kernels.ts) as
 * readable expression trees and turn them into a module at run time — no binary blob, no build
 * step, no dependency.
 *
 * Why WebAssembly: ggml's reference quantizers are float32 code, and their searches are chains of
 * float32 additions. JavaScript has only doubles, so a bit-exact port must round every step with
 * Math.fround (two conversions on the critical path, ~4× slower per chain). WebAssembly has native
 * f32 arithmetic with IEEE semantics (round to nearest even, subnormals, no fused multiply-add),
 * so the same C expressions compute the same bits at C speed.
 *
 * Expressions are byte arrays (`Code`); the helpers below concatenate them in stack order.
 */

export type Code = number[];
export type ValType = 'i32' | 'f32' | 'v128';
const VT: Record<ValType, number> = { i32: 0x7f, f32: 0x7d, v128: 0x7b };

export function leb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}
const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
export const cat = (...parts: Code[]): Code => ([] as number[]).concat(...parts);

/** A function under construction: named params and locals. */
export class Fn {
  readonly index = new Map<string, number>();
  readonly types = new Map<string, ValType>();
  private readonly extra: ValType[] = [];
  constructor(readonly name: string, readonly params: [string, ValType][], readonly result: ValType | undefined) {
    params.forEach(([n, t], i) => { this.index.set(n, i); this.types.set(n, t); });
  }
  /** Declare locals (name → type). */
  locals(spec: Record<string, ValType>): this {
    for (const [n, t] of Object.entries(spec)) {
      this.index.set(n, this.params.length + this.extra.length);
      this.types.set(n, t);
      this.extra.push(t);
    }
    return this;
  }
  private idx(n: string): number {
    const i = this.index.get(n);
    if (i === undefined) throw new Error(`${this.name}: unknown local ${n}`);
    return i;
  }
  get = (n: string): Code => [0x20, ...uleb(this.idx(n))];
  set = (n: string, v: Code): Code => [...v, 0x21, ...uleb(this.idx(n))];
  tee = (n: string, v: Code): Code => [...v, 0x22, ...uleb(this.idx(n))];
  /** for (i = from; i < to; i++) body — `to` is re-evaluated each iteration. */
  for = (i: string, from: Code, to: Code, ...body: Code[]): Code =>
    cat(this.set(i, from), [0x02, 0x40, 0x03, 0x40], this.get(i), to, [0x4e, 0x0d, 1], ...body,
      this.set(i, cat(this.get(i), [0x41, 1, 0x6a])), [0x0c, 0, 0x0b, 0x0b]);
  body(...stmts: Code[]): Code {
    const groups: number[] = [];
    let count = 0;
    for (let k = 0; k < this.extra.length;) {
      let j = k;
      while (j < this.extra.length && this.extra[j] === this.extra[k]) j++;
      groups.push(...uleb(j - k), VT[this.extra[k]]);
      count++;
      k = j;
    }
    const code = cat(uleb(count), groups, ...stmts, [0x0b]);
    return cat(uleb(code.length), code);
  }
}

// ---- constants, memory, arithmetic (operands first, then the opcode)
export const i32 = (v: number): Code => [0x41, ...leb(v | 0)];
export const f32 = (v: number): Code => {
  const b = new Uint8Array(new Float32Array([v]).buffer);
  return [0x43, ...b];
};
const mem = (op: number, align: number) => (addr: Code, offset = 0): Code => [...addr, op, align, ...uleb(offset)];
export const loadF32 = mem(0x2a, 2);
export const loadU8 = mem(0x2d, 0);
export const loadI32 = mem(0x28, 2);
export const storeF32 = (addr: Code, v: Code, offset = 0): Code => [...addr, ...v, 0x38, 2, ...uleb(offset)];
export const storeU8 = (addr: Code, v: Code, offset = 0): Code => [...addr, ...v, 0x3a, 0, ...uleb(offset)];
export const storeI32 = (addr: Code, v: Code, offset = 0): Code => [...addr, ...v, 0x36, 2, ...uleb(offset)];
export const storeU16 = (addr: Code, v: Code, offset = 0): Code => [...addr, ...v, 0x3b, 0, ...uleb(offset)];
/** Unaligned i32 store. */
export const storeI32u = (addr: Code, v: Code, offset = 0): Code => [...addr, ...v, 0x36, 0, ...uleb(offset)];
const bin = (op: number) => (a: Code, b: Code): Code => [...a, ...b, op];
const un = (op: number) => (a: Code): Code => [...a, op];
export const fadd = bin(0x92), fsub = bin(0x93), fmul = bin(0x94), fdiv = bin(0x95);
export const fabs = un(0x8b), fneg = un(0x8c), fsqrt = un(0x91);
export const feq = bin(0x5b), fne = bin(0x5c), flt = bin(0x5d), fgt = bin(0x5e), fle = bin(0x5f), fge = bin(0x60);
export const iadd = bin(0x6a), isub = bin(0x6b), imul = bin(0x6c), iand = bin(0x71), ior = bin(0x72), ixor = bin(0x73);
export const ishl = bin(0x74), ishr = bin(0x75), ishru = bin(0x76);
export const ieq = bin(0x46), ine = bin(0x47), ilt = bin(0x48), igt = bin(0x4a), ile = bin(0x4c), ige = bin(0x4e), ieqz = un(0x45);
export const fnearest = un(0x90), ftrunc = un(0x8f);
/** i32.trunc_sat_f32_s (saturating, NaN → 0). */
export const truncSat = (a: Code): Code => [...a, 0xfc, 0];
export const iltU = bin(0x49), igeU = bin(0x4f), igtU = bin(0x4b);
/** f32.convert_i32_s (C's int → float). */
export const itof = un(0xb2);
export const fbits = un(0xbc);
export const bitsf = un(0xbe);
/** select(a, b, cond): cond ? a : b (both evaluated). */
export const select = (a: Code, b: Code, cond: Code): Code => [...a, ...b, ...cond, 0x1b];
export const if_ = (cond: Code, then: Code[], els?: Code[]): Code =>
  cat(cond, [0x04, 0x40], ...then, els ? cat([0x05], ...els) : [], [0x0b]);
export const ret = (v: Code): Code => [...v, 0x0f];
/** Call function number `index` of the module (arguments in order). */
export const call = (index: number, ...args: Code[]): Code => cat(...args, [0x10], uleb(index));
export const drop = (v: Code): Code => [...v, 0x1a];

/** ggml nearest_int(v): bits(v + 12582912.f) & 0x7fffff − 0x400000, exactly as C computes it. */
export const nearestInt = (v: Code): Code => isub(iand(fbits(fadd(v, f32(12582912))), i32(0x7fffff)), i32(0x400000));

/** A module with one exported memory ("mem", `pages` × 64 KiB) and the given exported functions. */
export function assemble(fns: Fn[], bodies: Code[], pages: number): Uint8Array<ArrayBuffer> {
  const sec = (id: number, bytes: Code): Code => [id, ...uleb(bytes.length), ...bytes];
  const name = (s: string): Code => [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];
  const types = cat(uleb(fns.length), ...fns.map((f) => cat([0x60], uleb(f.params.length), f.params.map(([, t]) => VT[t]),
    f.result ? [1, VT[f.result]] : [0])));
  const funcs = cat(uleb(fns.length), ...fns.map((_, i) => uleb(i)));
  const exports = cat(uleb(fns.length + 1), name('mem'), [2, 0], ...fns.map((f, i) => cat(name(f.name), [0], uleb(i))));
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...sec(1, types), ...sec(3, funcs), ...sec(5, [1, 0, ...uleb(pages)]), ...sec(7, exports),
    ...sec(10, cat(uleb(bodies.length), ...bodies))]);
}

// ---- 128-bit SIMD (4 × f32 / i32, 16 × i8): opcode prefix 0xfd
const simd = (op: number) => (...args: Code[]): Code => cat(...args, [0xfd], uleb(op));
export const vload = (addr: Code, offset = 0): Code => cat(addr, [0xfd, 0x00, 0], uleb(offset));
export const vstore = (addr: Code, v: Code, offset = 0): Code => cat(addr, v, [0xfd, 0x0b, 0], uleb(offset));
export const vconst = (bytes: number[]): Code => [0xfd, 0x0c, ...bytes];
export const f4splat = simd(0x13), i4splat = simd(0x11);
export const f4lane = (v: Code, lane: number): Code => [...v, 0xfd, 0x1f, lane];
export const f4eq = simd(0x41), f4ne = simd(0x42);
export const vand = simd(0x4e), vor = simd(0x50), vbitselect = simd(0x52), vanyTrue = simd(0x53);
export const f4trunc = simd(0x69), f4nearest = simd(0x6a);
export const i8shl = simd(0x6b), i8narrow16 = simd(0x65), i16narrow32 = simd(0x85);
export const i4bitmask = simd(0xa4), i4min = simd(0xb6);
export const f4abs = simd(0xe0), f4add = simd(0xe4), f4sub = simd(0xe5), f4mul = simd(0xe6), f4pmax = simd(0xeb);
export const i4truncSat = simd(0xf8);
export const ictz = un(0x68);
export const i4add = simd(0xae), i4sub = simd(0xb1), i4shl = simd(0xab), i4shrU = simd(0xad);
export const i4eq = simd(0x37), i4gtS = simd(0x3b), i4geS = simd(0x3f);
export const i16narrow32u = simd(0x86);
export const f4splatC = (v: number): Code => f4splat(f32(v));
export const i4splatC = (v: number): Code => i4splat(i32(v));
export const f4pmin = simd(0xea), i8bitmask = simd(0x64);
