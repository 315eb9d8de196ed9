/**
 * A small parser for protobuf text format (https://protobuf.dev/reference/protobuf/textformat-spec/),
 * enough for Caffe's `.prototxt` network definitions: `name: "x"`, `dim: 3`, `type: CONVOLUTION`,
 * nested `layer { … }` / `param < … >` blocks (with or without a colon), `[a, b]` lists, adjacent
 * string literals, `#` comments and `,`/`;` separators. No schema: every field is kept in file order,
 * scalars as numbers (numeric tokens) or strings (string literals, identifiers, enum names).
 * Sizes and nesting are capped; errors are ModelwiseError MALFORMED naming the line.
 */
import { ModelwiseError } from '../../errors.js';

export type TextValue = string | number | TextMessage;

export interface TextMessage {
  fields: [string, TextValue][];
}

export const TEXT_LIMITS = {
  /** Characters parsed (network definitions are kilobytes to a few MiB). */
  chars: 64 * 1024 * 1024,
  /** Message nesting. */
  depth: 100,
  /** Fields in all. */
  fields: 5_000_000,
} as const;

type Tok = { kind: 'id' | 'num' | 'str' | 'punct'; text: string; value?: string | number; line: number };

class Lexer {
  private p = 0;
  private line = 1;
  private peeked: Tok | undefined | null = null;
  constructor(private readonly s: string, private readonly file: string) {}

  fail(what: string, line = this.line): never {
    throw new ModelwiseError('MALFORMED', `prototxt line ${line}: ${what}`, { file: this.file });
  }

  peek(): Tok | undefined {
    if (this.peeked === null) this.peeked = this.lex();
    return this.peeked;
  }

  next(): Tok | undefined {
    const t = this.peek();
    this.peeked = null;
    return t;
  }

  private lex(): Tok | undefined {
    const s = this.s;
    for (;;) {
      while (this.p < s.length && /\s/.test(s[this.p]!)) {
        if (s[this.p] === '\n') this.line++;
        this.p++;
      }
      if (s[this.p] === '#') {
        while (this.p < s.length && s[this.p] !== '\n') this.p++;
        continue;
      }
      break;
    }
    if (this.p >= s.length) return undefined;
    const c = s[this.p]!;
    const line = this.line;
    if ('{}<>:[],;'.includes(c)) {
      this.p++;
      return { kind: 'punct', text: c, line };
    }
    if (c === '"' || c === "'") return { kind: 'str', text: c, value: this.string(c), line };
    const m = /^(-?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[fF]?|inf(?:inity)?|nan)(?![\w.])|[A-Za-z_][\w.]*)/i.exec(s.slice(this.p, this.p + 256));
    if (!m) this.fail(`unexpected character ${JSON.stringify(c)}`);
    const text = m[0];
    this.p += text.length;
    if (/^-?(\d|\.\d)/.test(text) || (text.startsWith('-') && /^-(inf|nan)/i.test(text))) return { kind: 'num', text, value: num(text), line };
    return { kind: 'id', text, value: text, line };
  }

  private string(q: string): string {
    const s = this.s;
    let out = '';
    this.p++;
    while (this.p < s.length && s[this.p] !== q) {
      const c = s[this.p++]!;
      if (c === '\n') this.fail('newline inside a string');
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = s[this.p++];
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', '\\': '\\', "'": "'", '"': '"', '?': '?' };
      if (e !== undefined && simple[e] !== undefined) out += simple[e];
      else if (e === 'x' || e === 'X') {
        const h = /^[0-9a-fA-F]{1,2}/.exec(s.slice(this.p, this.p + 2));
        if (!h) this.fail('bad \\x escape');
        out += String.fromCharCode(parseInt(h[0], 16));
        this.p += h[0].length;
      } else if (e !== undefined && /[0-7]/.test(e)) {
        const o = /^[0-7]{0,2}/.exec(s.slice(this.p, this.p + 2))![0];
        out += String.fromCharCode(parseInt(e + o, 8));
        this.p += o.length;
      } else this.fail(`bad escape \\${e ?? ''}`);
    }
    if (this.p >= s.length) this.fail('unterminated string');
    this.p++;
    return out;
  }
}

function num(text: string): number {
  const t = text.replace(/[fF]$/, '');
  if (/^-?0x/i.test(t)) return (t.startsWith('-') ? -1 : 1) * parseInt(t.replace(/^-?0x/i, ''), 16);
  if (/inf/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/nan/i.test(t)) return NaN;
  return Number(t);
}

/** Parse protobuf text into fields in file order. */
export function parseTextProto(text: string, file = '<prototxt>'): TextMessage {
  if (text.length > TEXT_LIMITS.chars) throw new ModelwiseError('LIMIT_EXCEEDED', `prototxt of ${text.length} characters exceeds ${TEXT_LIMITS.chars}`, { file });
  const lx = new Lexer(text, file);
  let fields = 0;
  const scalar = (t: Tok | undefined): string | number => {
    if (!t || t.kind === 'punct') return lx.fail(`expected a value, found ${t ? JSON.stringify(t.text) : 'the end'}`, t?.line);
    if (t.kind === 'str') {
      let v = t.value as string;
      while (lx.peek()?.kind === 'str') v += lx.next()!.value as string; // "a" "b" → "ab"
      return v;
    }
    return t.value!;
  };
  const message = (depth: number, close: string | undefined): TextMessage => {
    if (depth > TEXT_LIMITS.depth) lx.fail(`messages nested deeper than ${TEXT_LIMITS.depth}`);
    const out: TextMessage = { fields: [] };
    for (;;) {
      const t = lx.next();
      if (!t) {
        if (close) lx.fail(`missing ${JSON.stringify(close)}`);
        return out;
      }
      if (t.kind === 'punct' && t.text === close) return out;
      if (t.kind === 'punct' && (t.text === ',' || t.text === ';')) continue;
      if (t.kind !== 'id') lx.fail(`expected a field name, found ${JSON.stringify(t.text)}`, t.line);
      if (++fields > TEXT_LIMITS.fields) throw new ModelwiseError('LIMIT_EXCEEDED', `more than ${TEXT_LIMITS.fields} fields`, { file });
      const name = t.text;
      let v = lx.next();
      const colon = v?.kind === 'punct' && v.text === ':';
      if (colon) v = lx.next();
      const open = (x: Tok | undefined) => x?.kind === 'punct' && (x.text === '{' || x.text === '<');
      if (open(v)) out.fields.push([name, message(depth + 1, v!.text === '{' ? '}' : '>')]);
      else if (v?.kind === 'punct' && v.text === '[') {
        // [1, 2, 3] or [{…}, {…}]: each element is one value of a repeated field
        if (lx.peek()?.text === ']' && lx.peek()?.kind === 'punct') lx.next();
        else for (;;) {
          const e = lx.next();
          out.fields.push([name, open(e) ? message(depth + 1, e!.text === '{' ? '}' : '>') : scalar(e)]);
          const sep = lx.next();
          if (sep?.kind === 'punct' && sep.text === ']') break;
          if (!(sep?.kind === 'punct' && sep.text === ',')) lx.fail('expected "," or "]" in a list', sep?.line);
        }
      } else if (colon) out.fields.push([name, scalar(v)]);
      else lx.fail(`expected ":" or "{" after ${name}`, v?.line ?? t.line);
    }
  };
  return message(0, undefined);
}

/** Every value of a field. */
export function values(m: TextMessage, name: string): TextValue[] {
  return m.fields.filter(([k]) => k === name).map(([, v]) => v);
}

export const strings = (m: TextMessage, name: string): string[] => values(m, name).filter((v): v is string | number => typeof v !== 'object').map(String);
export const numbers = (m: TextMessage, name: string): number[] => values(m, name).filter((v): v is number => typeof v === 'number');
export const messages = (m: TextMessage, name: string): TextMessage[] => values(m, name).filter((v): v is TextMessage => typeof v === 'object');
/** The last value of a singular field (protobuf text lets a later one win). */
export const last = (m: TextMessage, name: string): TextValue | undefined => values(m, name).pop();
