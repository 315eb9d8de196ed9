/**
 * A PFA document read as data (PFA 0.8.1, http://dmg.org/pfa/docs/specification/): JSON parsed
 * whole (bounded by LIMITS.jsonFile), YAML with the `yaml` package's core schema — no custom tags,
 * anchors/aliases capped (no "billion laughs"), nothing is ever constructed or executed from a tag.
 * Then Avro schemas named in the oracle's vocabulary and expression trees walked for the library
 * functions they call.
 */
import { parseDocument } from 'yaml';
import { ModelwiseError } from '../../errors.js';
import { LIMITS } from '../../limits.js';
import { decodeUtf8 } from '../../io/bytes.js';
import { readExact, type ByteSource } from '../../io/source.js';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export const isMap = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Read and parse the document; `yaml` when the detector said so or the text is not a JSON object. */
export async function readPfa(source: ByteSource, variant: string | undefined): Promise<{ doc: Record<string, Json>; syntax: 'json' | 'yaml'; warnings: string[] }> {
  if (source.size > LIMITS.jsonFile) {
    throw new ModelwiseError('LIMIT_EXCEEDED', `PFA document of ${source.size} bytes exceeds the ${LIMITS.jsonFile}-byte limit for documents parsed whole`, { file: source.name });
  }
  let text = decodeUtf8(await readExact(source, 0, source.size, 'PFA document'));
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const warnings: string[] = [];
  let doc: unknown;
  let syntax: 'json' | 'yaml' = 'json';
  if (variant !== 'pfa-yaml' && /^\s*\{/.test(text)) {
    try {
      doc = JSON.parse(text);
    } catch (e) {
      if (variant === 'pfa-json') throw new ModelwiseError('MALFORMED', `not valid JSON: ${(e as Error).message}`, { file: source.name });
    }
  }
  if (doc === undefined) {
    syntax = 'yaml';
    const y = parseDocument(text, { schema: 'core', customTags: [], merge: false, uniqueKeys: true, prettyErrors: false });
    if (y.errors.length) throw new ModelwiseError('MALFORMED', `not valid YAML: ${y.errors[0]!.message}`, { file: source.name });
    for (const w of y.warnings.slice(0, 20)) warnings.push(w.message);
    try {
      doc = y.toJS({ maxAliasCount: 100 });
    } catch (e) {
      throw new ModelwiseError('LIMIT_EXCEEDED', `YAML aliases: ${(e as Error).message}`, { file: source.name });
    }
  }
  if (!isMap(doc)) throw new ModelwiseError('MALFORMED', 'a PFA document is a JSON/YAML object', { file: source.name });
  return { doc, syntax, warnings };
}

const AVRO: Record<string, string> = { double: 'f64', float: 'f32', int: 'i32', long: 'i64', boolean: 'bool', string: 'string', bytes: 'bytes', null: 'null' };

/** An Avro schema in words: double → f64, union(…), array(…), map(…), record(Name), enum(Name), fixed(Name). */
export function avroType(t: Json | undefined, depth = 0): string {
  if (depth > 64) return '…';
  if (typeof t === 'string') return AVRO[t] ?? t;
  if (Array.isArray(t)) return `union(${t.map((x) => avroType(x, depth + 1)).join(',')})`;
  if (isMap(t)) {
    const k = t.type;
    if (k === 'array') return `array(${avroType(t.items, depth + 1)})`;
    if (k === 'map') return `map(${avroType(t.values, depth + 1)})`;
    if (k === 'record' || k === 'enum' || k === 'fixed') return `${k}(${typeof t.name === 'string' ? t.name : ''})`;
    return avroType(k, depth + 1);
  }
  return t === undefined ? 'None' : String(t);
}

/** Graph entries of an input/output schema: a record gives one per field, anything else one named `name`. */
export function schemaEntries(t: Json | undefined, name: string): { name: string; dtype: string }[] {
  if (isMap(t) && t.type === 'record') {
    const fields = Array.isArray(t.fields) ? t.fields : [];
    return fields.filter(isMap).map((f) => ({ name: typeof f.name === 'string' ? f.name : '', dtype: avroType(f.type) }));
  }
  return [{ name, dtype: avroType(t) }];
}

/** Core library functions whose names have no dot (PFA 0.8.1 §"Core library"). */
export const CORE_FUNCTIONS = new Set([
  '+', '-', '*', '/', '//', 'u-', '%', '%%', '**', 'cmp', '==', '>=', '>', '!=', '<', '<=', 'max', 'min',
  '&&', '||', '^^', '!', '&&&', '|||', '!!!', '&', '|', '^', '~',
]);
/** Keys whose values are types or literal data, never expressions. */
const NOT_CODE = new Set(['type', 'value', 'params', 'ret', 'as', 'doc', 'string', 'base64', 'fcn']);

export interface ExpressionStats {
  /** JSON nodes walked. */
  nodes: number;
  library: Record<string, number>;
  user: Record<string, number>;
  /** Function references (`{"fcn": "m.exp"}`) count as uses of the function. */
  truncated: boolean;
}

/** Walk expressions (iteratively, bounded) and count function calls by name. */
export function walkExpressions(roots: Json[], stats: ExpressionStats, maxNodes = 10_000_000): void {
  const stack: Json[] = [...roots];
  while (stack.length) {
    const v = stack.pop()!;
    if (++stats.nodes > maxNodes) {
      stats.truncated = true;
      return;
    }
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push(v[i]!);
      continue;
    }
    if (!isMap(v)) continue;
    const keys = Object.keys(v).filter((k) => !k.startsWith('@'));
    const count = (n: string) => {
      const m = n.startsWith('u.') ? stats.user : stats.library;
      const k = n.startsWith('u.') ? n.slice(2) : n;
      m[k] = (m[k] ?? 0) + 1;
    };
    if (keys.length === 1 && (keys[0]!.includes('.') || CORE_FUNCTIONS.has(keys[0]!))) count(keys[0]!);
    if (typeof v.fcn === 'string') count(v.fcn);
    for (const k of keys) if (!NOT_CODE.has(k)) stack.push(v[k]!);
  }
}

/** JSON nodes in a value (the size of a cell's or pool's init), bounded. */
export function jsonSize(v: Json, max = 100_000_000): number {
  let n = 0;
  const stack: Json[] = [v];
  while (stack.length && n < max) {
    const x = stack.pop()!;
    n++;
    if (Array.isArray(x)) for (const y of x) stack.push(y);
    else if (isMap(x)) for (const k in x) stack.push(x[k]!);
  }
  return n;
}
