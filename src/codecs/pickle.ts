/**
 * A symbolic pickle machine: runs the opcodes of a pickle stream (protocols 0–5) on a stack of
 * *descriptions* of values, never importing or calling anything. Imports (GLOBAL, STACK_GLOBAL,
 * INST, EXT*) become `global` nodes; calls (REDUCE, OBJ, INST, NEWOBJ, NEWOBJ_EX) become `call`
 * nodes; BUILD becomes a `build` node. The PyTorch reader interprets the resulting tree
 * (rebuild_tensor calls → tensors) and the scanner judges the imports and calls.
 *
 * Written by hand on purpose (the design's "must see raw bytes for safety"): an unpickler library
 * would resolve globals. Reference: CPython Lib/pickletools.py (opcode table) and Modules/_pickle.c.
 * Resource use is bounded (opcodes, stack, memo, container sizes); a malformed stream stops with
 * an error that names the offset, and everything seen before it is kept.
 */

export type PValue =
  | null
  | boolean
  | number
  | string
  | PBytes
  | PLong
  | PTuple
  | PList
  | PDict
  | PSet
  | PGlobal
  | PCall
  | PBuild
  | PPersId
  | PExt
  | PBuffer;

export interface PBytes { kind: 'bytes'; bytes: Uint8Array; offset: number }
export interface PLong { kind: 'long'; value: string }
export interface PTuple { kind: 'tuple'; items: PValue[] }
export interface PList { kind: 'list'; items: PValue[] }
export interface PDict { kind: 'dict'; entries: [PValue, PValue][] }
export interface PSet { kind: 'set'; items: PValue[]; frozen: boolean }
/** An import, `module.name`; `computed` when STACK_GLOBAL's operands were not string constants. */
export interface PGlobal { kind: 'global'; module: string; name: string; offset: number; op: string; computed?: boolean }
/**
 * A call of `func` with `args` (REDUCE/NEWOBJ: a tuple; NEWOBJ_EX also `kwargs`). What the stream
 * later does to the result is kept on the node, so readers see it through every memo reference:
 * `setitems` (SETITEM(S) on it, e.g. an `OrderedDict()` filled by torch), `appends`
 * (APPEND(S)/ADDITEMS) and `state` (the last BUILD's state, e.g. an `nn.Module`'s `__dict__`).
 */
export interface PCall {
  kind: 'call';
  func: PValue;
  args: PValue;
  kwargs?: PValue;
  op: string;
  offset: number;
  setitems?: [PValue, PValue][];
  appends?: PValue[];
  state?: PValue;
}
/** BUILD: `obj.__setstate__(state)` or a `__dict__` update. */
export interface PBuild { kind: 'build'; obj: PValue; state: PValue; offset: number }
export interface PPersId { kind: 'persid'; pid: PValue; offset: number }
export interface PExt { kind: 'ext'; code: number; offset: number }
export interface PBuffer { kind: 'buffer'; offset: number }

/** Something the scanner must see: every import, call and mutation, in stream order. */
export interface PickleEvent {
  type: 'import' | 'call' | 'build' | 'setitem' | 'setattr-like' | 'persid' | 'ext';
  offset: number;
  op: string;
  /** For imports: the global. For calls/builds/setitem: the callee or target. */
  target?: PValue;
  module?: string;
  name?: string;
  computed?: boolean;
}

export interface PickleLimits {
  maxOps: number;
  maxStack: number;
  maxMemo: number;
  /** Largest container size (list/dict/tuple items). */
  maxItems: number;
}

export const DEFAULT_PICKLE_LIMITS: PickleLimits = {
  maxOps: 50_000_000,
  maxStack: 1_000_000,
  maxMemo: 5_000_000,
  maxItems: 50_000_000,
};

export interface PickleResult {
  /** The value at STOP (undefined when the stream broke before STOP). */
  value: PValue | undefined;
  /** Offset just after STOP (start of the next pickle in a row), or where it broke. */
  end: number;
  protocol: number;
  events: PickleEvent[];
  /** The first error that stopped the machine, with its offset. */
  error?: { offset: number; message: string; code: 'MALFORMED' | 'LIMIT_EXCEEDED' | 'UNEXPECTED_EOF' };
  opcodes: number;
  maxStackDepth: number;
  memoSize: number;
}

const MARK: unique symbol = Symbol('mark');
type Slot = PValue | typeof MARK;

class Stop extends Error {
  constructor(readonly offset: number, message: string, readonly code: 'MALFORMED' | 'LIMIT_EXCEEDED' | 'UNEXPECTED_EOF' = 'MALFORMED') {
    super(message);
  }
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Names of opcodes, for evidence strings ("reached through REDUCE"). */
export const OPCODE_NAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT', 0x4a: 'BININT',
  0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID', 0x51: 'BINPERSID', 0x52: 'REDUCE',
  0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING', 0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND',
  0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT', 0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET',
  0x69: 'INST', 0x6a: 'LONG_BINGET', 0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT',
  0x72: 'LONG_BINPUT', 0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2',
  0x87: 'TUPLE3', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES',
  0x43: 'SHORT_BINBYTES', 0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME',
  0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

/** Decode a little-endian two's-complement integer of any length (LONG1/LONG4). */
function decodeLong(b: Uint8Array): number | PLong {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : { kind: 'long', value: v.toString() };
}

/** Python string-literal unescaping for protocol-0 STRING ('...' or "..." with backslash escapes). */
function unquote(s: string, offset: number): string {
  const q = s[0];
  if ((q !== "'" && q !== '"') || s[s.length - 1] !== q || s.length < 2) throw new Stop(offset, 'STRING argument is not a quoted string');
  const body = s.slice(1, -1);
  return body.replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_m, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
    return ({ n: '\n', r: '\r', t: '\t', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '0': '\0' } as Record<string, string>)[e] ?? '\\' + e;
  });
}

/** raw-unicode-escape decoding (protocol-0 UNICODE). */
function rawUnicodeEscape(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, a: string, b: string) => String.fromCodePoint(parseInt(a ?? b, 16)));
}

/**
 * Run one pickle starting at `start` (several pickles in a row are read by calling again at `end`).
 */
export function walkPickle(data: Uint8Array, start = 0, limits: PickleLimits = DEFAULT_PICKLE_LIMITS): PickleResult {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const stack: Slot[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PValue>();
  const events: PickleEvent[] = [];
  let pos = start;
  let protocol = 0;
  let ops = 0;
  let maxStackDepth = 0;
  let opStart = start;

  const need = (n: number, what: string) => {
    if (pos + n > data.length) throw new Stop(opStart, `stream ends inside ${what}`, 'UNEXPECTED_EOF');
  };
  const u8 = () => (need(1, 'argument'), data[pos++]!);
  const u16 = () => (need(2, 'argument'), (pos += 2), dv.getUint16(pos - 2, true));
  const u32 = () => (need(4, 'argument'), (pos += 4), dv.getUint32(pos - 4, true));
  const i32 = () => (need(4, 'argument'), (pos += 4), dv.getInt32(pos - 4, true));
  const u64 = () => {
    need(8, 'argument');
    const v = dv.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(data.length)) throw new Stop(opStart, `length ${v} runs past the end of the stream`);
    return Number(v);
  };
  const take = (n: number, what: string) => {
    if (n < 0 || pos + n > data.length) throw new Stop(opStart, `${what} of ${n} bytes runs past the end of the stream`, 'UNEXPECTED_EOF');
    const b = data.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const line = () => {
    const nl = data.indexOf(0x0a, pos);
    if (nl < 0) throw new Stop(opStart, 'text argument without a newline', 'UNEXPECTED_EOF');
    const s = latin1.decode(data.subarray(pos, nl));
    pos = nl + 1;
    return s;
  };
  const push = (v: Slot) => {
    if (stack.length >= limits.maxStack) throw new Stop(opStart, `stack deeper than ${limits.maxStack}`, 'LIMIT_EXCEEDED');
    stack.push(v);
    if (stack.length > maxStackDepth) maxStackDepth = stack.length;
  };
  const pop = (): PValue => {
    const markFloor = marks.length ? marks[marks.length - 1]! : 0;
    if (stack.length <= markFloor) throw new Stop(opStart, 'stack underflow');
    const v = stack.pop()!;
    if (v === MARK) throw new Stop(opStart, 'MARK popped as a value');
    return v;
  };
  const top = (): PValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) throw new Stop(opStart, 'stack underflow');
    return v;
  };
  const popMark = (): PValue[] => {
    const m = marks.pop();
    if (m === undefined) throw new Stop(opStart, 'no MARK on the stack');
    const items = stack.splice(m) as PValue[];
    if (items.length > limits.maxItems) throw new Stop(opStart, `container of ${items.length} items`, 'LIMIT_EXCEEDED');
    return items;
  };
  const memoPut = (k: number) => {
    if (memo.size >= limits.maxMemo && !memo.has(k)) throw new Stop(opStart, `memo larger than ${limits.maxMemo}`, 'LIMIT_EXCEEDED');
    memo.set(k, top());
  };
  const memoGet = (k: number) => {
    if (!memo.has(k)) throw new Stop(opStart, `memo key ${k} was never stored`);
    push(memo.get(k)!);
  };
  const global = (module: string, name: string, op: string, computed = false): PGlobal => {
    const g: PGlobal = { kind: 'global', module, name, offset: opStart, op, ...(computed ? { computed } : {}) };
    events.push({ type: 'import', offset: opStart, op, module, name, target: g, ...(computed ? { computed } : {}) });
    return g;
  };
  const call = (func: PValue, args: PValue, op: string, kwargs?: PValue): PCall => {
    events.push({ type: 'call', offset: opStart, op, target: func });
    return { kind: 'call', func, args, ...(kwargs !== undefined ? { kwargs } : {}), op, offset: opStart };
  };
  const add = (container: PValue, items: PValue[], op: string) => {
    if (container && typeof container === 'object' && (container.kind === 'list' || container.kind === 'set')) {
      if (container.items.length + items.length > limits.maxItems) throw new Stop(opStart, 'container too large', 'LIMIT_EXCEEDED');
      for (const it of items) container.items.push(it);
    } else {
      // APPEND on an arbitrary object calls its append/extend: a call the scanner must see.
      events.push({ type: 'call', offset: opStart, op, target: container });
      if (container && typeof container === 'object' && container.kind === 'call') {
        const a = (container.appends ??= []);
        if (a.length + items.length > limits.maxItems) throw new Stop(opStart, 'container too large', 'LIMIT_EXCEEDED');
        for (const it of items) a.push(it);
      }
    }
  };
  const setItems = (container: PValue, pairs: PValue[], op: string) => {
    if (pairs.length % 2) throw new Stop(opStart, `${op} with an odd number of items`);
    if (container && typeof container === 'object' && container.kind === 'dict') {
      if (container.entries.length + pairs.length / 2 > limits.maxItems) throw new Stop(opStart, 'dict too large', 'LIMIT_EXCEEDED');
      for (let i = 0; i < pairs.length; i += 2) container.entries.push([pairs[i]!, pairs[i + 1]!]);
    } else {
      events.push({ type: 'setitem', offset: opStart, op, target: container });
      if (container && typeof container === 'object' && container.kind === 'call') {
        const e = (container.setitems ??= []);
        if (e.length + pairs.length / 2 > limits.maxItems) throw new Stop(opStart, 'dict too large', 'LIMIT_EXCEEDED');
        for (let i = 0; i < pairs.length; i += 2) e.push([pairs[i]!, pairs[i + 1]!]);
      }
    }
  };

  try {
    for (;;) {
      if (pos >= data.length) throw new Stop(pos, 'stream ends without STOP', 'UNEXPECTED_EOF');
      if (++ops > limits.maxOps) throw new Stop(pos, `more than ${limits.maxOps} opcodes`, 'LIMIT_EXCEEDED');
      opStart = pos;
      const op = data[pos++]!;
      switch (op) {
        case 0x80: protocol = u8(); break; // PROTO
        case 0x95: u64(); break; // FRAME: framing is transparent here
        case 0x2e: { // STOP
          const v = stack.length ? pop() : undefined;
          return { value: v, end: pos, protocol, events, opcodes: ops, maxStackDepth, memoSize: memo.size };
        }
        case 0x28: marks.push(stack.length); break; // MARK: remembered as a stack position
        case 0x30: { // POP
          if (marks.length && stack.length === marks[marks.length - 1]) marks.pop();
          else pop();
          break;
        }
        case 0x31: popMark(); break; // POP_MARK
        case 0x32: push(top()); break; // DUP
        case 0x4e: push(null); break;
        case 0x88: push(true); break;
        case 0x89: push(false); break;
        case 0x49: { // INT (text): "00"/"01" are False/True in protocol 0
          const s = line().trim();
          if (s === '00') push(false);
          else if (s === '01') push(true);
          else {
            if (!/^[-+]?\d+$/.test(s)) throw new Stop(opStart, `INT argument "${s.slice(0, 40)}" is not an integer`);
            const b = BigInt(s);
            push(b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : { kind: 'long', value: b.toString() });
          }
          break;
        }
        case 0x4a: push(i32()); break; // BININT
        case 0x4b: push(u8()); break; // BININT1
        case 0x4d: push(u16()); break; // BININT2
        case 0x4c: { // LONG (text)
          const s = line().trim().replace(/L$/, '');
          if (!/^[-+]?\d+$/.test(s)) throw new Stop(opStart, `LONG argument "${s.slice(0, 40)}" is not an integer`);
          const b = BigInt(s);
          push(b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : { kind: 'long', value: b.toString() });
          break;
        }
        case 0x8a: push(decodeLong(take(u8(), 'LONG1'))); break;
        case 0x8b: {
          const n = i32();
          if (n < 0) throw new Stop(opStart, 'LONG4 with a negative length');
          push(decodeLong(take(n, 'LONG4')));
          break;
        }
        case 0x46: { // FLOAT (text)
          const s = line().trim();
          const v = Number(s);
          if (Number.isNaN(v) && !/^[-+]?nan$/i.test(s)) throw new Stop(opStart, `FLOAT argument "${s.slice(0, 40)}"`);
          push(v);
          break;
        }
        case 0x47: need(8, 'BINFLOAT'); push(dv.getFloat64(pos, false)); pos += 8; break; // big-endian double
        case 0x53: push(unquote(line().trim(), opStart)); break; // STRING
        case 0x54: { // BINSTRING
          const n = i32();
          if (n < 0) throw new Stop(opStart, 'BINSTRING with a negative length');
          push(latin1.decode(take(n, 'BINSTRING')));
          break;
        }
        case 0x55: push(latin1.decode(take(u8(), 'SHORT_BINSTRING'))); break;
        case 0x56: push(rawUnicodeEscape(line())); break; // UNICODE
        case 0x58: push(utf8.decode(take(u32(), 'BINUNICODE'))); break;
        case 0x8c: push(utf8.decode(take(u8(), 'SHORT_BINUNICODE'))); break;
        case 0x8d: push(utf8.decode(take(u64(), 'BINUNICODE8'))); break;
        case 0x42: { const n = u32(); const o = pos; push({ kind: 'bytes', bytes: take(n, 'BINBYTES'), offset: o }); break; }
        case 0x43: { const n = u8(); const o = pos; push({ kind: 'bytes', bytes: take(n, 'SHORT_BINBYTES'), offset: o }); break; }
        case 0x8e: { const n = u64(); const o = pos; push({ kind: 'bytes', bytes: take(n, 'BINBYTES8'), offset: o }); break; }
        case 0x96: { const n = u64(); const o = pos; push({ kind: 'bytes', bytes: take(n, 'BYTEARRAY8'), offset: o }); break; }
        case 0x97: push({ kind: 'buffer', offset: opStart }); break; // NEXT_BUFFER (out-of-band)
        case 0x98: top(); break; // READONLY_BUFFER
        case 0x29: push({ kind: 'tuple', items: [] }); break;
        case 0x74: push({ kind: 'tuple', items: popMark() }); break;
        case 0x85: { const a = pop(); push({ kind: 'tuple', items: [a] }); break; }
        case 0x86: { const b = pop(); const a = pop(); push({ kind: 'tuple', items: [a, b] }); break; }
        case 0x87: { const c = pop(); const b = pop(); const a = pop(); push({ kind: 'tuple', items: [a, b, c] }); break; }
        case 0x5d: push({ kind: 'list', items: [] }); break;
        case 0x6c: push({ kind: 'list', items: popMark() }); break;
        case 0x61: { const v = pop(); add(top(), [v], 'APPEND'); break; }
        case 0x65: { const items = popMark(); add(top(), items, 'APPENDS'); break; }
        case 0x7d: push({ kind: 'dict', entries: [] }); break;
        case 0x64: { // DICT
          const items = popMark();
          const d: PDict = { kind: 'dict', entries: [] };
          setItems(d, items, 'DICT');
          push(d);
          break;
        }
        case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v], 'SETITEM'); break; }
        case 0x75: { const items = popMark(); setItems(top(), items, 'SETITEMS'); break; }
        case 0x8f: push({ kind: 'set', items: [], frozen: false }); break;
        case 0x90: { const items = popMark(); add(top(), items, 'ADDITEMS'); break; }
        case 0x91: push({ kind: 'set', items: popMark(), frozen: true }); break;
        case 0x67: { const s = line().trim(); if (!/^\d+$/.test(s)) throw new Stop(opStart, 'GET key is not a number'); memoGet(Number(s)); break; }
        case 0x68: memoGet(u8()); break;
        case 0x6a: memoGet(u32()); break;
        case 0x70: { const s = line().trim(); if (!/^\d+$/.test(s)) throw new Stop(opStart, 'PUT key is not a number'); memoPut(Number(s)); break; }
        case 0x71: memoPut(u8()); break;
        case 0x72: memoPut(u32()); break;
        case 0x94: memoPut(memo.size); break; // MEMOIZE
        case 0x63: { // GLOBAL
          const module = line();
          const name = line();
          push(global(module, name, 'GLOBAL'));
          break;
        }
        case 0x93: { // STACK_GLOBAL: operands must be strings; anything else is a computed import
          const name = pop();
          const module = pop();
          const computed = typeof module !== 'string' || typeof name !== 'string';
          push(global(typeof module === 'string' ? module : describe(module), typeof name === 'string' ? name : describe(name), 'STACK_GLOBAL', computed));
          break;
        }
        case 0x82: case 0x83: case 0x84: { // EXT1/2/4: the copyreg extension registry (an import by number)
          const code = op === 0x82 ? u8() : op === 0x83 ? u16() : i32();
          events.push({ type: 'ext', offset: opStart, op: OPCODE_NAMES[op]!, module: '<extension registry>', name: String(code) });
          push({ kind: 'ext', code, offset: opStart });
          break;
        }
        case 0x52: { const args = pop(); const func = pop(); push(call(func, args, 'REDUCE')); break; } // REDUCE
        case 0x81: { const args = pop(); const cls = pop(); push(call(cls, args, 'NEWOBJ')); break; }
        case 0x92: { const kwargs = pop(); const args = pop(); const cls = pop(); push(call(cls, args, 'NEWOBJ_EX', kwargs)); break; }
        case 0x6f: { // OBJ: MARK cls args... OBJ
          const items = popMark();
          if (items.length === 0) throw new Stop(opStart, 'OBJ without a class');
          push(call(items[0]!, { kind: 'tuple', items: items.slice(1) }, 'OBJ'));
          break;
        }
        case 0x69: { // INST: MARK args... INST module\nname\n — an import and a call
          const module = line();
          const name = line();
          const items = popMark();
          const g = global(module, name, 'INST');
          push(call(g, { kind: 'tuple', items }, 'INST'));
          break;
        }
        case 0x62: { // BUILD
          const state = pop();
          const obj = pop();
          events.push({ type: 'build', offset: opStart, op: 'BUILD', target: obj });
          if (obj && typeof obj === 'object' && obj.kind === 'call') obj.state = state;
          push({ kind: 'build', obj, state, offset: opStart });
          break;
        }
        case 0x50: { // PERSID (text)
          const pid = line();
          events.push({ type: 'persid', offset: opStart, op: 'PERSID' });
          push({ kind: 'persid', pid, offset: opStart });
          break;
        }
        case 0x51: { const pid = pop(); events.push({ type: 'persid', offset: opStart, op: 'BINPERSID' }); push({ kind: 'persid', pid, offset: opStart }); break; }
        default:
          throw new Stop(opStart, `unknown opcode 0x${op.toString(16).padStart(2, '0')}`);
      }
    }
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
    return {
      value: undefined,
      end: pos,
      protocol,
      events,
      error: { offset: e.offset, message: e.message, code: e.code },
      opcodes: ops,
      maxStackDepth,
      memoSize: memo.size,
    };
  }
}

/** A short text for a symbolic value (evidence strings). */
export function describe(v: PValue | undefined, depth = 0): string {
  if (v === undefined) return '?';
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? v.slice(0, 60) + '…' : v);
  if (depth > 3) return '…';
  switch (v.kind) {
    case 'bytes': return `<${v.bytes.length} bytes>`;
    case 'long': return v.value;
    case 'tuple': return `(${v.items.slice(0, 4).map((x) => describe(x, depth + 1)).join(', ')}${v.items.length > 4 ? ', …' : ''})`;
    case 'list': return `[${v.items.slice(0, 4).map((x) => describe(x, depth + 1)).join(', ')}${v.items.length > 4 ? ', …' : ''}]`;
    case 'dict': return `{${v.entries.length} items}`;
    case 'set': return `{set of ${v.items.length}}`;
    case 'global': return `${v.module}.${v.name}`;
    case 'call': return `${describe(v.func, depth + 1)}(…)`;
    case 'build': return `${describe(v.obj, depth + 1)}.__setstate__(…)`;
    case 'persid': return `persistent_load(${describe(v.pid, depth + 1)})`;
    case 'ext': return `extension ${v.code}`;
    case 'buffer': return '<out-of-band buffer>';
  }
}

/** The global a value was made from (the callee of a call, the object of a build …), if any. */
export function rootGlobal(v: PValue | undefined, depth = 0): PGlobal | undefined {
  if (!v || typeof v !== 'object' || depth > 50) return undefined;
  if (v.kind === 'global') return v;
  if (v.kind === 'call') return rootGlobal(v.func, depth + 1);
  if (v.kind === 'build') return rootGlobal(v.obj, depth + 1);
  return undefined;
}
