/**
 * A parser for the Python literals of an `.npy` header (`ast.literal_eval` subset: dict, list,
 * tuple, str with u/b/r prefixes, int with a Python 2 `L`, float, True/False/None). It evaluates
 * nothing: anything else (names, calls, operators) is an error. Depth and size are bounded.
 */

export type PyLit = null | boolean | number | string | PyLit[] | { tuple: PyLit[] } | Map<string, PyLit>;

export class PyLiteralError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(`${message} at character ${at}`);
  }
}

const MAX_DEPTH = 64;

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '\n': '' };

export function parsePyLiteral(text: string): PyLit {
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const fail = (m: string): never => {
    throw new PyLiteralError(m, i);
  };
  const str = (): string => {
    let raw = false;
    while (/[uUbBrR]/.test(text[i] ?? '')) {
      if (/[rR]/.test(text[i]!)) raw = true;
      i++;
    }
    const q = text[i];
    if (q !== "'" && q !== '"') fail('expected a string');
    i++;
    let out = '';
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text[i++]!;
      if (c === q) return out;
      if (c !== '\\' || raw) {
        out += c;
        continue;
      }
      const e = text[i++] ?? fail('unterminated escape');
      if (e === 'x') {
        const h = text.slice(i, i + 2);
        if (!/^[0-9a-fA-F]{2}$/.test(h)) fail('bad \\x escape');
        out += String.fromCharCode(parseInt(h, 16));
        i += 2;
      } else if (e === 'u' || e === 'U') {
        const n = e === 'u' ? 4 : 8;
        const h = text.slice(i, i + n);
        if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(h)) fail(`bad \\${e} escape`);
        out += String.fromCodePoint(parseInt(h, 16));
        i += n;
      } else if (/[0-7]/.test(e)) {
        let o = e;
        while (o.length < 3 && /[0-7]/.test(text[i] ?? '')) o += text[i++];
        out += String.fromCharCode(parseInt(o, 8));
      } else out += ESCAPES[e] ?? '\\' + e;
    }
  };
  const value = (depth: number): PyLit => {
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH}`);
    ws();
    const c = text[i];
    if (c === undefined) fail('unexpected end');
    if (c === '{') {
      i++;
      const m = new Map<string, PyLit>();
      for (;;) {
        ws();
        if (text[i] === '}') {
          i++;
          return m;
        }
        const k = value(depth + 1);
        if (typeof k !== 'string') fail('dict keys must be strings');
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        m.set(k as string, value(depth + 1));
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== '}') fail("expected ',' or '}'");
      }
    }
    if (c === '[' || c === '(') {
      const close = c === '[' ? ']' : ')';
      i++;
      const items: PyLit[] = [];
      let comma = false;
      for (;;) {
        ws();
        if (text[i] === close) {
          i++;
          // (x) is x, (x,) is a tuple.
          if (close === ')') return items.length === 1 && !comma ? items[0]! : { tuple: items };
          return items;
        }
        items.push(value(depth + 1));
        ws();
        comma = false;
        if (text[i] === ',') {
          i++;
          comma = true;
        } else if (text[i] !== close) fail(`expected ',' or '${close}'`);
      }
    }
    if (/[uUbBrR'"]/.test(c) && /^[uUbBrR]{0,2}['"]/.test(text.slice(i, i + 3))) return str();
    const word = /^(True|False|None)\b/.exec(text.slice(i, i + 6));
    if (word) {
      i += word[1]!.length;
      return word[1] === 'True' ? true : word[1] === 'False' ? false : null;
    }
    const num = /^[-+]?(\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)[lL]?/.exec(text.slice(i, i + 64));
    if (num) {
      i += num[0].length;
      const n = Number(num[0].replace(/[lL]$/, ''));
      if (!Number.isFinite(n)) fail('number out of range');
      return n;
    }
    return fail(`unexpected character ${JSON.stringify(c)}`);
  };
  const v = value(0);
  ws();
  if (i < text.length) fail('trailing characters');
  return v;
}

export function isTuple(v: PyLit | undefined): v is { tuple: PyLit[] } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Map);
}
