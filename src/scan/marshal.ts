/**
 * A bounded reader of Python's marshal format (Python/marshal.c), enough to list what a marshalled
 * code object (a Keras Lambda layer's `function`) would touch: the global and attribute names it
 * uses (co_names), its string and bytes constants, nested code objects, its name and file name.
 * Nothing is executed or evaluated; the bytecode itself is not interpreted.
 *
 * The code-object layout changed with Python versions and the version is not recorded, so the
 * reader tries each layout (3.11+, 3.8–3.10, 3.0–3.7, 2.x) and keeps the first that reads the whole
 * object consistently. When none does, `marshalStrings` still gives the printable strings.
 */

export interface CodeFacts {
  /** co_name of the outermost code object ("<lambda>", a function name). */
  name?: string;
  filename?: string;
  /** Python layout that parsed ("3.11+", "3.8-3.10", "3.0-3.7", "2.x"). */
  layout?: string;
  /** co_names of every code object (globals and attributes used), in order, unique. */
  names: string[];
  /** String / bytes constants (printable text) of every code object. */
  strings: string[];
  /** Names of the nested code objects (inner lambdas, comprehensions). */
  nested: string[];
  /** Local variable names. */
  varnames: string[];
}

const LIMITS = { bytes: 16 * 1024 * 1024, objects: 200_000, depth: 64, strings: 10_000 } as const;

class MarshalError extends Error {}

type Layout = { label: string; ints: number; kind: 'py311' | 'py38' | 'py30' | 'py2' };
const LAYOUTS: Layout[] = [
  { label: '3.11+', ints: 5, kind: 'py311' },
  { label: '3.8-3.10', ints: 6, kind: 'py38' },
  { label: '3.0-3.7', ints: 5, kind: 'py30' },
  { label: '2.x', ints: 4, kind: 'py2' },
];

interface Code {
  __code: true;
  name?: string;
  filename?: string;
  names: unknown[];
  consts: unknown[];
  varnames: unknown[];
}

type Value = null | boolean | number | string | Uint8Array | Value[] | Code | { __dict: true } | { __other: string };

class Reader {
  p = 0;
  objects = 0;
  refs: Value[] = [];
  /** Python 2 interned strings ('t'), indexed by 'R'. */
  interned: string[] = [];
  constructor(readonly b: Uint8Array, readonly layout: Layout) {}
  fail(what: string): never {
    throw new MarshalError(`${what} at byte ${this.p}`);
  }
  byte(): number {
    if (this.p >= this.b.length) this.fail('unexpected end');
    return this.b[this.p++]!;
  }
  i32(): number {
    if (this.p + 4 > this.b.length) this.fail('unexpected end');
    const v = this.b[this.p]! | (this.b[this.p + 1]! << 8) | (this.b[this.p + 2]! << 16) | (this.b[this.p + 3]! << 24);
    this.p += 4;
    return v;
  }
  len(max = this.b.length - this.p): number {
    const n = this.i32();
    if (n < 0 || n > max) this.fail(`bad length ${n}`);
    return n;
  }
  bytes(n: number): Uint8Array {
    if (n > this.b.length - this.p) this.fail('unexpected end');
    const out = this.b.subarray(this.p, this.p + n);
    this.p += n;
    return out;
  }

  read(depth = 0): Value {
    if (depth > LIMITS.depth) this.fail('nesting too deep');
    if (++this.objects > LIMITS.objects) this.fail('too many objects');
    const code = this.byte();
    const flag = (code & 0x80) !== 0;
    const t = String.fromCharCode(code & 0x7f);
    // Reserve the ref slot before reading containers (marshal.c R_REF / r_ref_reserve).
    let slot = -1;
    if (flag) {
      slot = this.refs.length;
      this.refs.push(null);
    }
    const v = this.value(t, depth);
    if (flag) this.refs[slot] = v;
    return v;
  }

  private value(t: string, depth: number): Value {
    switch (t) {
      case '0': return null; // NULL (dict terminator)
      case 'N': return null;
      case 'F': return false;
      case 'T': return true;
      case 'S': return { __other: 'StopIteration' };
      case '.': return { __other: 'Ellipsis' };
      case 'i': return this.i32();
      case 'I': this.bytes(8); return 0;
      case 'l': {
        const n = this.i32();
        const digits = Math.abs(n);
        if (digits > 100_000) this.fail('long too large');
        this.bytes(digits * 2);
        return 0;
      }
      case 'g': this.bytes(8); return 0;
      case 'y': this.bytes(16); return 0;
      case 'f': this.bytes(this.byte()); return 0;
      case 'x': this.bytes(this.byte()); this.bytes(this.byte()); return 0;
      case 's': return this.bytes(this.len());
      case 't': {
        const v = utf8(this.bytes(this.len()));
        if (this.layout.kind === 'py2') this.interned.push(v);
        return v;
      }
      case 'u': case 'a': case 'A': return utf8(this.bytes(this.len()));
      case 'z': case 'Z': return latin1(this.bytes(this.byte()));
      case 'R': { // Python 2 string reference
        const i = this.i32();
        const v = this.interned[i];
        if (v === undefined) this.fail(`bad string ref ${i}`);
        return v;
      }
      case 'r': {
        const i = this.i32();
        if (i < 0 || i >= this.refs.length) this.fail(`bad ref ${i}`);
        return this.refs[i]!;
      }
      case ')': return this.items(this.byte(), depth);
      case '(': case '[': case '<': case '>': return this.items(this.len(LIMITS.objects), depth);
      case '{': {
        for (;;) {
          if (this.b[this.p] === 0x30) {
            this.p++;
            break;
          }
          this.read(depth + 1);
          this.read(depth + 1);
        }
        return { __dict: true };
      }
      case ':': { // slice (3.14)
        this.read(depth + 1);
        this.read(depth + 1);
        this.read(depth + 1);
        return { __other: 'slice' };
      }
      case 'c': return this.code(depth);
      default:
        return this.fail(`unknown type code ${JSON.stringify(t)}`);
    }
  }

  private items(n: number, depth: number): Value[] {
    const out: Value[] = [];
    for (let i = 0; i < n; i++) out.push(this.read(depth + 1));
    return out;
  }

  private code(depth: number): Code {
    const k = this.layout.kind;
    for (let i = 0; i < this.layout.ints; i++) this.i32();
    const bytecode = this.read(depth + 1);
    if (!(bytecode instanceof Uint8Array)) this.fail('code object without bytecode');
    const consts = this.read(depth + 1);
    const names = this.read(depth + 1);
    let varnames: Value;
    if (k === 'py311') {
      varnames = this.read(depth + 1); // co_localsplusnames
      const kinds = this.read(depth + 1); // co_localspluskinds
      if (!(kinds instanceof Uint8Array)) this.fail('bad co_localspluskinds');
    } else {
      varnames = this.read(depth + 1);
      this.read(depth + 1); // freevars
      this.read(depth + 1); // cellvars
    }
    const filename = this.read(depth + 1);
    const name = this.read(depth + 1);
    if (k === 'py311') this.read(depth + 1); // qualname
    this.i32(); // firstlineno
    const table = this.read(depth + 1); // lnotab / linetable
    if (!(table instanceof Uint8Array) && typeof table !== 'string') this.fail('bad line table');
    if (k === 'py311') {
      const ex = this.read(depth + 1);
      if (!(ex instanceof Uint8Array)) this.fail('bad exception table');
    }
    if (!Array.isArray(consts) || !Array.isArray(names) || !Array.isArray(varnames)) this.fail('code object fields are not tuples');
    // Python 2 writes str (bytes) for names that are not interned.
    const text = (v: Value): string | undefined => (typeof v === 'string' ? v : v instanceof Uint8Array ? latin1(v) : undefined);
    const nm = text(name);
    const fn = text(filename);
    if (nm === undefined || fn === undefined) this.fail('code object name is not a string');
    const nameList = names.map(text);
    if (nameList.some((x) => x === undefined)) this.fail('co_names holds non-strings');
    return { __code: true, name: nm, filename: fn, names: nameList, consts, varnames: varnames.map((v) => text(v) ?? '') };
  }
}

function utf8(b: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: false }).decode(b);
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

function isCode(v: unknown): v is Code {
  return typeof v === 'object' && v !== null && (v as Code).__code === true;
}

/**
 * Parse a marshalled code object and collect its facts; undefined when the bytes are not a code
 * object in any known layout.
 */
export function readCodeObject(data: Uint8Array): CodeFacts | undefined {
  if (data.length === 0 || data.length > LIMITS.bytes || (data[0]! & 0x7f) !== 0x63) return undefined;
  for (const layout of LAYOUTS) {
    const r = new Reader(data, layout);
    let top: Value;
    try {
      top = r.read();
    } catch (e) {
      if (e instanceof MarshalError || e instanceof RangeError) continue;
      throw e;
    }
    if (!isCode(top) || r.p !== data.length) continue;
    const facts: CodeFacts = { name: top.name, filename: top.filename, layout: layout.label, names: [], strings: [], nested: [], varnames: [] };
    collect(top, facts, true, new Set());
    return facts;
  }
  return undefined;
}

function collect(c: Code, f: CodeFacts, outer: boolean, seen: Set<Code>): void {
  if (seen.has(c)) return;
  seen.add(c);
  if (!outer && c.name) f.nested.push(c.name);
  for (const n of c.names) if (typeof n === 'string' && !f.names.includes(n)) f.names.push(n);
  for (const n of c.varnames) if (typeof n === 'string' && !f.varnames.includes(n)) f.varnames.push(n);
  const walk = (v: unknown, d: number): void => {
    if (d > LIMITS.depth || f.strings.length >= LIMITS.strings) return;
    if (typeof v === 'string') {
      if (!f.strings.includes(v)) f.strings.push(v);
    } else if (v instanceof Uint8Array) {
      const s = printable(v);
      if (s && !f.strings.includes(s)) f.strings.push(s);
    } else if (Array.isArray(v)) for (const x of v) walk(x, d + 1);
    else if (isCode(v)) collect(v, f, false, seen);
  };
  walk(c.consts, 0);
}

function printable(b: Uint8Array): string | undefined {
  if (b.length === 0 || b.length > 1 << 20) return undefined;
  for (const x of b) if ((x < 0x20 && x !== 9 && x !== 10 && x !== 13) || x > 0x7e) return undefined;
  return latin1(b);
}

/** Printable ASCII runs of at least `min` characters (fallback when the code object does not parse). */
export function marshalStrings(data: Uint8Array, min = 2, max = 10_000): string[] {
  const out: string[] = [];
  let run = '';
  const n = Math.min(data.length, LIMITS.bytes);
  for (let i = 0; i <= n; i++) {
    const x = i < n ? data[i]! : 0;
    if (x >= 0x20 && x <= 0x7e) run += String.fromCharCode(x);
    else {
      if (run.length >= min) out.push(run);
      run = '';
      if (out.length >= max) break;
    }
  }
  return out;
}
