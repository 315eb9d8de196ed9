/**
 * A look at the first opcodes of a pickle stream — never an unpickler. Identify only needs to know
 * "does this start like a pickle, which protocol, and is the first value the torch magic number / an
 * int". Opcodes: https://github.com/python/cpython/blob/main/Lib/pickletools.py
 *
 * Everything here reads a few dozen bytes from a buffer it is given, with bounds checks; nothing
 * is executed, no object is built, GLOBAL/REDUCE opcodes are never followed.
 */
import { decodeLatin1 } from '../../io/bytes.js';

/** `torch.serialization.MAGIC_NUMBER`, the first object of a legacy (< 1.6) `torch.save` stream. */
export const TORCH_MAGIC_HEX = '1950a86a20f9469cfc6c';
/** The magic as LONG1 payload (10 bytes, little-endian two's complement). */
const MAGIC_LONG1 = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
/** The magic as protocol 0/1 text (`L<decimal>L\n`, the trailing L optional in hand-written streams). */
const MAGIC_DECIMAL = '119547037146038801333356';

const PROTO = 0x80;
const FRAME = 0x95;
const MARK = 0x28; // (
const STOP = 0x2e; // .

/** Opcodes a protocol 0/1 pickle (no PROTO header) plausibly starts with (no memo reads or writes). */
const PROTO01_FIRST = new Set(Array.from('(}])NIJKLMFcXVS', (c) => c.charCodeAt(0)));
/** Of those, the text opcodes: their argument ends with a newline. */
const PROTO01_TEXT = new Set(Array.from('ILFcVS', (c) => c.charCodeAt(0)));

export interface PickleStart {
  /** Pickle protocol (0 when no PROTO header: protocol 0 or 1). */
  protocol: number;
  /** Offset of the first opcode after PROTO and FRAME. */
  body: number;
}

/**
 * Where the opcodes of a pickle start: PROTO 2–5 (with FRAME for 4+), or a plausible first opcode
 * of a protocol 0/1 stream. Undefined when the bytes do not start like a pickle.
 */
export function pickleStart(b: Uint8Array, at = 0): PickleStart | undefined {
  if (at >= b.length) return undefined;
  if (b[at] === PROTO) {
    const protocol = b[at + 1];
    if (protocol === undefined || protocol < 2 || protocol > 5) return undefined;
    let p = at + 2;
    if (b[p] === FRAME) {
      if (protocol < 4 || p + 9 > b.length) return undefined;
      p += 9;
    }
    return p < b.length ? { protocol, body: p } : undefined;
  }
  const op = b[at]!;
  if (!PROTO01_FIRST.has(op)) return undefined;
  if (PROTO01_TEXT.has(op)) {
    const nl = b.subarray(at + 1, at + 258).indexOf(0x0a);
    if (nl < 0) return undefined;
  }
  return { protocol: 0, body: at };
}

/** A small int opcode at `p` (BININT1/2, BININT, LONG1 ≤ 6 bytes, INT/LONG text): its value and end. */
export function readIntOpcode(b: Uint8Array, p: number): { value: number; end: number } | undefined {
  const op = b[p];
  if (op === undefined) return undefined;
  if (op === 0x4b && p + 2 <= b.length) return { value: b[p + 1]!, end: p + 2 }; // K BININT1
  if (op === 0x4d && p + 3 <= b.length) return { value: b[p + 1]! | (b[p + 2]! << 8), end: p + 3 }; // M BININT2
  if (op === 0x4a && p + 5 <= b.length) {
    // J BININT (signed 32-bit)
    return { value: (b[p + 1]! | (b[p + 2]! << 8) | (b[p + 3]! << 16) | (b[p + 4]! << 24)) >> 0, end: p + 5 };
  }
  if (op === 0x8a) {
    // LONG1: n bytes little-endian two's complement; small ones only
    const n = b[p + 1];
    if (n === undefined || n > 6 || p + 2 + n > b.length) return undefined;
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + b[p + 2 + i]!;
    if (n > 0 && b[p + 1 + n]! >= 0x80) v -= 2 ** (8 * n);
    return { value: v, end: p + 2 + n };
  }
  if (op === 0x49 || op === 0x4c) {
    // I / L text forms: digits up to newline (L may end with 'L')
    const nl = b.indexOf(0x0a, p + 1);
    if (nl < 0 || nl - p > 24) return undefined;
    const m = /^(-?\d+)L?$/.exec(decodeLatin1(b.subarray(p + 1, nl)));
    if (!m) return undefined;
    const v = Number(m[1]);
    return Number.isSafeInteger(v) ? { value: v, end: nl + 1 } : undefined;
  }
  return undefined;
}

export interface LegacyTorchPickle {
  /** Pickle protocol of the magic-number pickle (0 for protocol 0/1). */
  protocol: number;
  /** `protocol_version` of the second pickle (1001 for every torch 0.1.10 … 2.x legacy writer). */
  protocolVersion?: number;
  /** `sys_info['little_endian']` when it is visible near the start. */
  littleEndian?: boolean;
}

/**
 * Is this the start of a legacy `torch.save` stream? It is a sequence of pickles: the magic number
 * 0x1950a86a20f9469cfc6c, the protocol version (1001), the sys_info dict, the object, the storage
 * keys, then raw storages. See torch/serialization.py `_legacy_save`.
 */
export function peekLegacyTorch(b: Uint8Array): LegacyTorchPickle | undefined {
  const s = pickleStart(b);
  if (!s) return undefined;
  let p = s.body;
  if (s.protocol >= 2) {
    if (b[p] !== 0x8a || b[p + 1] !== 10 || p + 12 > b.length) return undefined;
    for (let i = 0; i < 10; i++) if (b[p + 2 + i] !== MAGIC_LONG1[i]) return undefined;
    p += 12;
  } else {
    const text = decodeLatin1(b.subarray(p, Math.min(b.length, p + 32)));
    const m = new RegExp(`^L${MAGIC_DECIMAL}L?\\n`).exec(text);
    if (!m) return undefined;
    p += m[0].length;
  }
  const out: LegacyTorchPickle = { protocol: s.protocol };
  if (b[p] !== STOP) return out;
  p++;
  const s2 = pickleStart(b, p);
  if (!s2) return out;
  const v = readIntOpcode(b, s2.body);
  if (!v || b[v.end] !== STOP) return out;
  out.protocolVersion = v.value;
  // sys_info: look for the little_endian key and the boolean right after it (NEWTRUE/NEWFALSE or I01/I00).
  const window = b.subarray(v.end + 1, Math.min(b.length, v.end + 1 + 512));
  const key = decodeLatin1(window).indexOf('little_endian');
  if (key >= 0) {
    const after = window.subarray(key + 13, key + 13 + 12);
    const t = decodeLatin1(after);
    const nt = after.indexOf(0x88);
    const nf = after.indexOf(0x89);
    if (nt >= 0 && (nf < 0 || nt < nf)) out.littleEndian = true;
    else if (nf >= 0) out.littleEndian = false;
    else if (/I01\n/.test(t)) out.littleEndian = true;
    else if (/I00\n/.test(t)) out.littleEndian = false;
  }
  return out;
}

/**
 * Where a stand-alone `protocol_version` pickle (1001) sits in the first bytes, for legacy streams
 * whose first pickle does not hold the literal magic (it computes it: picklescan's
 * "pytorch_magic_bypass", which `torch.load` would execute). Offset of the pickle, or -1.
 */
export function findProtocolVersionPickle(b: Uint8Array, limit = 4096): number {
  const t = decodeLatin1(b.subarray(0, Math.min(b.length, limit)));
  const m = /\.(\x80[\x02-\x05](?:\x95[\s\S]{8})?M\xe9\x03\.|M\xe9\x03\.|I1001\n\.)/.exec(t);
  return m ? m.index + 1 : -1;
}

/**
 * The first int of a pickled tuple (mobile `bytecode.pkl` starts with `(version, …)`): PROTO, an
 * optional MARK, then an int opcode.
 */
export function peekLeadingInt(b: Uint8Array): number | undefined {
  const s = pickleStart(b);
  if (!s) return undefined;
  let p = s.body;
  if (b[p] === MARK) p++;
  return readIntOpcode(b, p)?.value;
}

/**
 * The small int stored right after a string key in the first bytes of a pickled dict (e.g.
 * `protocol_version` in a legacy `sys_info`): skips the memo opcode after the key, reads an int.
 */
export function peekKeyInt(b: Uint8Array, key: string): number | undefined {
  const t = decodeLatin1(b);
  const k = t.indexOf(key);
  if (k < 0) return undefined;
  let p = k + key.length;
  if (b[p] === 0x71) p += 2; // BINPUT
  else if (b[p] === 0x72) p += 5; // LONG_BINPUT
  else if (b[p] === 0x94) p += 1; // MEMOIZE
  else if (b[p] === 0x0a && b[p + 1] === 0x70) {
    // protocol 0: key ends with '\n', then 'p<n>\n'
    const nl = b.indexOf(0x0a, p + 2);
    if (nl < 0 || nl - p > 12) return undefined;
    p = nl + 1;
  } else if (b[p] === 0x0a) p += 1;
  return readIntOpcode(b, p)?.value;
}
