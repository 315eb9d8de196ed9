/**
 * LZMA and LZMA2 decoders (raw streams, as 7z stores them), written from the LZMA specification
 * (lzma-specification.txt / LzmaSpec.cpp in the LZMA SDK, public domain) and the xz LZMA2 chunk
 * format. Bounded: the caller gives the exact output size (or a cap) and the decoder never writes
 * past it; every distance is checked against the bytes already produced; malformed input throws
 * MALFORMED, input that ends early throws UNEXPECTED_EOF. Nothing here allocates more than the
 * output buffer plus ~30 KiB of probabilities (lc + lp ≤ 12 keeps the literal table ≤ 12 MiB).
 */
import { ModelwiseError } from '../errors.js';

const BITS = 11;
const BIT_ONE = 1 << BITS;
const MOVE = 5;
const STATES = 12;
const POS_STATES_MAX = 1 << 4;
const LEN_TO_POS_STATES = 4;
const END_POS_MODEL = 14;
const FULL_DISTANCES = 1 << (END_POS_MODEL >> 1);
const ALIGN_BITS = 4;
const MATCH_MIN_LEN = 2;

/**
 * The range decoder. `range` and `code` are unsigned 32-bit values kept as int32 (their bit
 * patterns) so V8 keeps them in registers instead of boxing doubles; unsigned comparisons flip the
 * sign bit (`x ^ SIGN`).
 */
const SIGN = -0x80000000;

class RangeDecoder {
  range = -1; // 0xFFFFFFFF
  code = 0;
  pos: number;
  constructor(private readonly buf: Uint8Array, start: number, private readonly end: number, readonly file: string) {
    this.pos = start;
    if (start + 5 > end) throw new ModelwiseError('UNEXPECTED_EOF', 'LZMA range coder: stream too short', { file });
    const first = buf[this.pos++]!;
    for (let i = 0; i < 4; i++) this.code = (this.code << 8) | buf[this.pos++]!;
    if (first !== 0 || this.code === this.range) throw new ModelwiseError('MALFORMED', 'LZMA range coder: bad first bytes', { file });
  }
  private eof(): never {
    throw new ModelwiseError('UNEXPECTED_EOF', 'LZMA stream ends early', { file: this.file, offset: this.pos });
  }
  bit(probs: Uint16Array, i: number): number {
    const p = probs[i]!;
    const bound = Math.imul(this.range >>> BITS, p);
    let b: number;
    if ((this.code ^ SIGN) < (bound ^ SIGN)) {
      probs[i] = p + ((BIT_ONE - p) >>> MOVE);
      this.range = bound;
      b = 0;
    } else {
      probs[i] = p - (p >>> MOVE);
      this.code = (this.code - bound) | 0;
      this.range = (this.range - bound) | 0;
      b = 1;
    }
    if ((this.range & 0xff000000) === 0) {
      if (this.pos >= this.end) this.eof();
      this.range <<= 8;
      this.code = (this.code << 8) | this.buf[this.pos++]!;
    }
    return b;
  }
  direct(n: number): number {
    let res = 0;
    for (let i = 0; i < n; i++) {
      this.range = this.range >>> 1;
      this.code = (this.code - this.range) | 0;
      const t = this.code >> 31; // 0 or -1
      this.code = (this.code + (this.range & t)) | 0;
      if ((this.range & 0xff000000) === 0) {
        if (this.pos >= this.end) this.eof();
        this.range <<= 8;
        this.code = (this.code << 8) | this.buf[this.pos++]!;
      }
      res = res * 2 + (t + 1);
    }
    return res;
  }
  /**
   * Decode one literal (8-bit tree, with the match byte when `matchByte` ≥ 0): the hot path of
   * poorly compressible data, so the range coder state is kept in locals.
   */
  literal(probs: Uint16Array, base: number, matchByte: number): number {
    let range = this.range;
    let code = this.code;
    let pos = this.pos;
    const buf = this.buf;
    const end = this.end;
    let sym = 1;
    let mb = matchByte;
    while (sym < 0x100) {
      let i: number;
      let matchBit = -1;
      if (mb >= 0) {
        matchBit = (mb >>> 7) & 1;
        mb = (mb << 1) & 0xff;
        i = base + ((1 + matchBit) << 8) + sym;
      } else i = base + sym;
      const p = probs[i]!;
      const bound = Math.imul(range >>> BITS, p);
      let b: number;
      if ((code ^ SIGN) < (bound ^ SIGN)) {
        probs[i] = p + ((BIT_ONE - p) >>> MOVE);
        range = bound;
        b = 0;
      } else {
        probs[i] = p - (p >>> MOVE);
        code = (code - bound) | 0;
        range = (range - bound) | 0;
        b = 1;
      }
      if ((range & 0xff000000) === 0) {
        if (pos >= end) {
          this.pos = pos;
          this.eof();
        }
        range <<= 8;
        code = (code << 8) | buf[pos++]!;
      }
      sym = (sym << 1) | b;
      if (matchBit >= 0 && matchBit !== b) mb = -1;
    }
    this.range = range;
    this.code = code;
    this.pos = pos;
    return sym & 0xff;
  }
  tree(probs: Uint16Array, base: number, n: number): number {
    let m = 1;
    for (let i = 0; i < n; i++) m = (m << 1) + this.bit(probs, base + m);
    return m - (1 << n);
  }
  reverse(probs: Uint16Array, base: number, n: number): number {
    let m = 1;
    let sym = 0;
    for (let i = 0; i < n; i++) {
      const b = this.bit(probs, base + m);
      m = (m << 1) + b;
      sym |= b << i;
    }
    return sym;
  }
}

class LenDecoder {
  // choice, choice2, low[16][8], mid[16][8], high[256]
  readonly p = new Uint16Array(2 + POS_STATES_MAX * 8 * 2 + 256);
  reset(): void {
    this.p.fill(BIT_ONE >>> 1);
  }
  decode(rc: RangeDecoder, posState: number): number {
    if (rc.bit(this.p, 0) === 0) return rc.tree(this.p, 2 + posState * 8, 3);
    if (rc.bit(this.p, 1) === 0) return 8 + rc.tree(this.p, 2 + POS_STATES_MAX * 8 + posState * 8, 3);
    return 16 + rc.tree(this.p, 2 + POS_STATES_MAX * 16, 8);
  }
}

export interface LzmaProps {
  lc: number;
  lp: number;
  pb: number;
  dictSize: number;
}

/** The 5-byte LZMA properties of a 7z coder (or the .lzma header). */
export function parseLzmaProps(p: Uint8Array, file = '<lzma>'): LzmaProps {
  if (p.length < 5) throw new ModelwiseError('MALFORMED', 'LZMA properties shorter than 5 bytes', { file });
  return { ...propsByte(p[0]!, file), dictSize: (p[1]! | (p[2]! << 8) | (p[3]! << 16) | (p[4]! << 24)) >>> 0 };
}

function propsByte(d: number, file: string): { lc: number; lp: number; pb: number } {
  if (d >= 9 * 5 * 5) throw new ModelwiseError('MALFORMED', `bad LZMA properties byte ${d}`, { file });
  const lc = d % 9;
  const lp = Math.floor(d / 9) % 5;
  const pb = Math.floor(d / 45);
  return { lc, lp, pb };
}

/** The decoder's model (probabilities, state, reps); the output buffer doubles as the dictionary. */
class LzmaState {
  lc = 0;
  lp = 0;
  pb = 0;
  literal = new Uint16Array(0x300);
  readonly isMatch = new Uint16Array(STATES << 4);
  readonly isRep = new Uint16Array(STATES);
  readonly isRepG0 = new Uint16Array(STATES);
  readonly isRepG1 = new Uint16Array(STATES);
  readonly isRepG2 = new Uint16Array(STATES);
  readonly isRep0Long = new Uint16Array(STATES << 4);
  readonly posSlot = new Uint16Array(LEN_TO_POS_STATES << 6);
  readonly posDecoders = new Uint16Array(1 + FULL_DISTANCES - END_POS_MODEL);
  readonly align = new Uint16Array(1 << ALIGN_BITS);
  readonly len = new LenDecoder();
  readonly repLen = new LenDecoder();
  state = 0;
  rep0 = 0;
  rep1 = 0;
  rep2 = 0;
  rep3 = 0;

  setProps(lc: number, lp: number, pb: number, file: string): void {
    if (lc + lp > 12) throw new ModelwiseError('UNSUPPORTED', `LZMA lc + lp = ${lc + lp} above 12`, { file });
    this.lc = lc;
    this.lp = lp;
    this.pb = pb;
    const n = 0x300 << (lc + lp);
    if (this.literal.length !== n) this.literal = new Uint16Array(n);
  }

  reset(): void {
    const half = BIT_ONE >>> 1;
    for (const a of [this.literal, this.isMatch, this.isRep, this.isRepG0, this.isRepG1, this.isRepG2, this.isRep0Long, this.posSlot, this.posDecoders, this.align]) a.fill(half);
    this.len.reset();
    this.repLen.reset();
    this.state = 0;
    this.rep0 = this.rep1 = this.rep2 = this.rep3 = 0;
  }

  /**
   * Decode from `rc` into out[pos, limit). `dictStart` is where the current dictionary begins (LZMA2
   * dictionary resets). Stops at `limit`, or at the end marker when `allowEnd`. Returns the new pos.
   */
  decode(rc: RangeDecoder, out: Uint8Array, pos: number, limit: number, dictStart: number, allowEnd: boolean, file: string): number {
    const pbMask = (1 << this.pb) - 1;
    const lpMask = (1 << this.lp) - 1;
    const lc = this.lc;
    while (pos < limit) {
      const posState = pos & pbMask;
      const st = this.state;
      if (rc.bit(this.isMatch, (st << 4) + posState) === 0) {
        const prev = pos > dictStart ? out[pos - 1]! : 0;
        const base = 0x300 * (((pos & lpMask) << lc) + (prev >>> (8 - lc)));
        let matchByte = -1;
        if (st >= 7) {
          const back = pos - this.rep0 - 1;
          if (back < dictStart) throw new ModelwiseError('MALFORMED', `LZMA match distance ${this.rep0 + 1} reaches before the dictionary`, { file });
          matchByte = out[back]!;
        }
        out[pos++] = rc.literal(this.literal, base, matchByte);
        this.state = st < 4 ? 0 : st < 10 ? st - 3 : st - 6;
        continue;
      }
      let len: number;
      if (rc.bit(this.isRep, st) !== 0) {
        if (pos === dictStart) throw new ModelwiseError('MALFORMED', 'LZMA repeat match with an empty dictionary', { file });
        if (rc.bit(this.isRepG0, st) === 0) {
          if (rc.bit(this.isRep0Long, (st << 4) + posState) === 0) {
            this.state = st < 7 ? 9 : 11;
            const back = pos - this.rep0 - 1;
            if (back < dictStart) throw new ModelwiseError('MALFORMED', `LZMA match distance ${this.rep0 + 1} reaches before the dictionary`, { file });
            out[pos] = out[back]!;
            pos++;
            continue;
          }
        } else {
          let dist: number;
          if (rc.bit(this.isRepG1, st) === 0) dist = this.rep1;
          else {
            if (rc.bit(this.isRepG2, st) === 0) dist = this.rep2;
            else {
              dist = this.rep3;
              this.rep3 = this.rep2;
            }
            this.rep2 = this.rep1;
          }
          this.rep1 = this.rep0;
          this.rep0 = dist;
        }
        len = this.repLen.decode(rc, posState);
        this.state = st < 7 ? 8 : 11;
      } else {
        this.rep3 = this.rep2;
        this.rep2 = this.rep1;
        this.rep1 = this.rep0;
        len = this.len.decode(rc, posState);
        this.state = st < 7 ? 7 : 10;
        this.rep0 = this.distance(rc, len);
        if (this.rep0 === 0xffffffff) {
          if (allowEnd) return pos;
          throw new ModelwiseError('MALFORMED', 'LZMA end marker before the declared size', { file });
        }
      }
      len += MATCH_MIN_LEN;
      const back = pos - this.rep0 - 1;
      if (back < dictStart) throw new ModelwiseError('MALFORMED', `LZMA match distance ${this.rep0 + 1} reaches before the dictionary`, { file });
      if (pos + len > limit) throw new ModelwiseError('MALFORMED', 'LZMA match runs past the declared size', { file });
      for (let i = 0; i < len; i++) out[pos + i] = out[back + i]!;
      pos += len;
    }
    return pos;
  }

  private distance(rc: RangeDecoder, len: number): number {
    const lenState = Math.min(len, LEN_TO_POS_STATES - 1);
    const slot = rc.tree(this.posSlot, lenState << 6, 6);
    if (slot < 4) return slot;
    const direct = (slot >>> 1) - 1;
    let dist = ((2 | (slot & 1)) << direct) >>> 0;
    if (slot < END_POS_MODEL) return (dist + rc.reverse(this.posDecoders, dist - slot, direct)) >>> 0;
    dist = (dist + rc.direct(direct - ALIGN_BITS) * (1 << ALIGN_BITS)) >>> 0;
    return (dist + rc.reverse(this.align, 0, ALIGN_BITS)) >>> 0;
  }
}

/**
 * Decode a raw LZMA stream (7z coder 03 01 01) of exactly `outSize` bytes (an end marker may
 * follow, or end the stream early when `outSize` is unknown: pass `allowShorter`).
 */
export function lzmaDecode(input: Uint8Array, props: LzmaProps, outSize: number, opts: { file?: string; allowShorter?: boolean } = {}): Uint8Array {
  const file = opts.file ?? '<lzma>';
  const out = new Uint8Array(outSize);
  const st = new LzmaState();
  st.setProps(props.lc, props.lp, props.pb, file);
  st.reset();
  const rc = new RangeDecoder(input, 0, input.length, file);
  const n = st.decode(rc, out, 0, outSize, 0, true, file);
  if (n < outSize && !opts.allowShorter) throw new ModelwiseError('MALFORMED', `LZMA stream ends after ${n} of ${outSize} bytes`, { file });
  return n < outSize ? out.subarray(0, n) : out;
}

/** The dictionary size an LZMA2 properties byte announces (for messages and caps). */
export function lzma2DictSize(prop: number): number {
  if (prop > 40) return Number.NaN;
  if (prop === 40) return 0xffffffff;
  return (2 | (prop & 1)) * 2 ** (Math.floor(prop / 2) + 11);
}

/**
 * Decode a raw LZMA2 stream (7z coder 21) into at most `outSize` bytes. Stops at the end chunk
 * (0x00) or when `outSize` bytes are out; throws when a chunk would write past `outSize`.
 */
export function lzma2Decode(input: Uint8Array, outSize: number, opts: { file?: string } = {}): Uint8Array {
  const file = opts.file ?? '<lzma2>';
  const out = new Uint8Array(outSize);
  const st = new LzmaState();
  let p = 0;
  let pos = 0;
  let dictStart = 0;
  let needDictReset = true;
  let needProps = true;
  while (true) {
    if (p >= input.length) {
      if (pos === outSize) break; // some writers omit the end chunk
      throw new ModelwiseError('UNEXPECTED_EOF', 'LZMA2 stream ends without an end chunk', { file, offset: p });
    }
    const control = input[p++]!;
    if (control === 0x00) break;
    if (control === 0x01 || control === 0x02) {
      if (p + 2 > input.length) throw new ModelwiseError('UNEXPECTED_EOF', 'LZMA2 chunk header cut', { file, offset: p });
      const size = ((input[p]! << 8) | input[p + 1]!) + 1;
      p += 2;
      if (control === 0x01) {
        dictStart = pos;
        needDictReset = false;
      } else if (needDictReset) throw new ModelwiseError('MALFORMED', 'LZMA2 stream does not start with a dictionary reset', { file });
      if (p + size > input.length) throw new ModelwiseError('UNEXPECTED_EOF', 'LZMA2 stored chunk cut', { file, offset: p });
      if (pos + size > outSize) throw new ModelwiseError('MALFORMED', `LZMA2 data passes the declared size of ${outSize} bytes`, { file });
      out.set(input.subarray(p, p + size), pos);
      pos += size;
      p += size;
      continue;
    }
    if (control < 0x80) throw new ModelwiseError('MALFORMED', `bad LZMA2 control byte 0x${control.toString(16)}`, { file, offset: p - 1 });
    if (p + 4 > input.length) throw new ModelwiseError('UNEXPECTED_EOF', 'LZMA2 chunk header cut', { file, offset: p });
    const unpacked = (control & 0x1f) * 65536 + ((input[p]! << 8) | input[p + 1]!) + 1;
    const packed = ((input[p + 2]! << 8) | input[p + 3]!) + 1;
    p += 4;
    const mode = (control >>> 5) & 3;
    if (mode === 3) {
      dictStart = pos;
      needDictReset = false;
    } else if (needDictReset) throw new ModelwiseError('MALFORMED', 'LZMA2 stream does not start with a dictionary reset', { file });
    if (mode >= 2) {
      if (p >= input.length) throw new ModelwiseError('UNEXPECTED_EOF', 'LZMA2 properties cut', { file, offset: p });
      const pr = propsByte(input[p++]!, file);
      if (pr.lc + pr.lp > 4) throw new ModelwiseError('MALFORMED', 'LZMA2 lc + lp above 4', { file });
      st.setProps(pr.lc, pr.lp, pr.pb, file);
      needProps = false;
    } else if (needProps) throw new ModelwiseError('MALFORMED', 'LZMA2 chunk without properties', { file });
    if (mode >= 1) st.reset();
    if (p + packed > input.length) throw new ModelwiseError('UNEXPECTED_EOF', 'LZMA2 chunk cut', { file, offset: p });
    if (pos + unpacked > outSize) throw new ModelwiseError('MALFORMED', `LZMA2 data passes the declared size of ${outSize} bytes`, { file });
    const rc = new RangeDecoder(input, p, p + packed, file);
    const end = st.decode(rc, out, pos, pos + unpacked, dictStart, false, file);
    if (end !== pos + unpacked) throw new ModelwiseError('MALFORMED', 'LZMA2 chunk decodes short', { file });
    pos = end;
    p += packed;
  }
  return pos < outSize ? out.subarray(0, pos) : out;
}
