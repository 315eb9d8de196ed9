/**
 * Protobuf text format (https://protobuf.dev/reference/protobuf/textformat-spec/) for
 * `saved_model.pbtxt` and text GraphDefs: a small tokenizer and a tree of named fields, then the
 * same facts the binary walkers give (tags, versions, signatures, op histogram). Bounded: at most
 * TEXT_LIMIT bytes are read and nesting is capped.
 */
import { ModelwiseError } from '../../errors.js';
import { decodeUtf8 } from '../../io/bytes.js';
import type { ByteSource } from '../../io/source.js';
import { LIMITS } from '../../limits.js';
import type { Dim, Diagnostic } from '../../types.js';
import type { Inspection } from '../types.js';
import { tfDtype } from './bundle.js';
import { producerOf, servingSignature, type MetaGraph, type Signature, type SignatureTensor } from './graph.js';

const TEXT_LIMIT = 64 * 1024 * 1024;

export interface TextNode {
  name: string;
  value?: string;
  children?: TextNode[];
}

/** Parse protobuf text into nodes (scalars as their source text, strings unquoted). */
export function parseTextProto(text: string): TextNode[] {
  let p = 0;
  const n = text.length;
  const skip = () => {
    for (;;) {
      while (p < n && /\s/.test(text[p]!)) p++;
      if (text[p] === '#') while (p < n && text[p] !== '\n') p++;
      else return;
    }
  };
  const fail = (msg: string): never => {
    throw new ModelwiseError('MALFORMED', `text protobuf: ${msg} at character ${p}`);
  };
  const ident = (): string => {
    skip();
    if (text[p] === '[') {
      const e = text.indexOf(']', p);
      if (e < 0) fail('unclosed [extension name]');
      const s = text.slice(p, e + 1);
      p = e + 1;
      return s;
    }
    const m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(text.slice(p, p + 256));
    if (!m) fail('expected a field name');
    p += m![0].length;
    return m![0];
  };
  const str = (): string => {
    let out = '';
    while (text[p] === '"' || text[p] === "'") {
      const q = text[p++];
      let s = '';
      while (p < n && text[p] !== q) {
        if (text[p] === '\\') {
          const c = text[p + 1];
          const esc: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', "'": "'", '\\': '\\' };
          if (c !== undefined && esc[c] !== undefined) {
            s += esc[c];
            p += 2;
          } else if (c !== undefined && /[0-7]/.test(c)) {
            const m = /^[0-7]{1,3}/.exec(text.slice(p + 1, p + 4))!;
            s += String.fromCharCode(parseInt(m[0], 8));
            p += 1 + m[0].length;
          } else if (c === 'x') {
            const m = /^[0-9a-fA-F]{1,2}/.exec(text.slice(p + 2, p + 4));
            s += m ? String.fromCharCode(parseInt(m[0], 16)) : 'x';
            p += 2 + (m ? m[0].length : 0);
          } else {
            s += c ?? '';
            p += 2;
          }
        } else s += text[p++];
      }
      if (p >= n) fail('unterminated string');
      p++;
      out += s;
      skip();
    }
    return out;
  };
  const scalar = (): string => {
    skip();
    if (text[p] === '"' || text[p] === "'") return str();
    const m = /^[^\s,;{}[\]<>#]+/.exec(text.slice(p, p + 1024));
    if (!m) fail('expected a value');
    p += m![0].length;
    return m![0];
  };
  const message = (close: string | undefined, depth: number): TextNode[] => {
    if (depth > LIMITS.protobufDepth) fail('nesting too deep');
    const out: TextNode[] = [];
    for (;;) {
      skip();
      if (p >= n) {
        if (close) fail(`missing "${close}"`);
        return out;
      }
      if (close && text[p] === close) {
        p++;
        return out;
      }
      const name = ident();
      skip();
      if (text[p] === ':') {
        p++;
        skip();
      }
      if (text[p] === '{' || text[p] === '<') {
        const c = text[p] === '{' ? '}' : '>';
        p++;
        out.push({ name, children: message(c, depth + 1) });
      } else if (text[p] === '[') {
        p++;
        for (;;) {
          skip();
          if (text[p] === ']') {
            p++;
            break;
          }
          if (text[p] === '{' || text[p] === '<') {
            const c = text[p] === '{' ? '}' : '>';
            p++;
            out.push({ name, children: message(c, depth + 1) });
          } else out.push({ name, value: scalar() });
          skip();
          if (text[p] === ',') p++;
          else if (text[p] !== ']') fail('expected "," or "]"');
        }
      } else out.push({ name, value: scalar() });
      skip();
      if (text[p] === ';' || text[p] === ',') p++;
    }
  };
  return message(undefined, 0);
}

const all = (nodes: TextNode[] | undefined, name: string) => (nodes ?? []).filter((x) => x.name === name);
const one = (nodes: TextNode[] | undefined, name: string) => (nodes ?? []).find((x) => x.name === name);

const DT_NAMES = ['DT_INVALID', 'DT_FLOAT', 'DT_DOUBLE', 'DT_INT32', 'DT_UINT8', 'DT_INT16', 'DT_INT8', 'DT_STRING', 'DT_COMPLEX64', 'DT_INT64', 'DT_BOOL', 'DT_QINT8', 'DT_QUINT8', 'DT_QINT32', 'DT_BFLOAT16', 'DT_QINT16', 'DT_QUINT16', 'DT_UINT16', 'DT_COMPLEX128', 'DT_HALF', 'DT_RESOURCE', 'DT_VARIANT', 'DT_UINT32', 'DT_UINT64'];

function textDtype(v: string | undefined): string {
  if (v === undefined) return tfDtype(0);
  if (/^\d+$/.test(v)) return tfDtype(Number(v));
  const ref = v.endsWith('_REF');
  const i = DT_NAMES.indexOf(ref ? v.slice(0, -4) : v);
  return i >= 0 ? tfDtype(i + (ref ? 100 : 0)) : v.replace(/^DT_/, '').toLowerCase();
}

function textShape(s: TextNode | undefined): Dim[] | null {
  if (!s) return [];
  if (one(s.children, 'unknown_rank')?.value === 'true') return null;
  return all(s.children, 'dim').map((d) => {
    const n = Number(one(d.children, 'size')?.value ?? 0);
    return n < 0 ? '?' : n;
  });
}

function textSignature(e: TextNode): Signature {
  const v = one(e.children, 'value');
  const tensors = (kind: string): SignatureTensor[] =>
    all(v?.children, kind).map((t) => {
      const info = one(t.children, 'value');
      return { key: one(t.children, 'key')?.value ?? '', name: one(info?.children, 'name')?.value ?? '', dtype: textDtype(one(info?.children, 'dtype')?.value), shape: textShape(one(info?.children, 'tensor_shape')) };
    });
  return { key: one(e.children, 'key')?.value ?? '', method: one(v?.children, 'method_name')?.value ?? '', inputs: tensors('inputs'), outputs: tensors('outputs') };
}

function histogram(nodes: TextNode[]): Record<string, number> {
  const ops: Record<string, number> = {};
  for (const n of nodes) {
    const op = one(n.children, 'op')?.value ?? '';
    ops[op] = (ops[op] ?? 0) + 1;
  }
  return ops;
}

/** A text SavedModel (`saved_model.pbtxt`) or text GraphDef. */
export async function inspectText(source: ByteSource): Promise<Inspection> {
  const diagnostics: Diagnostic[] = [];
  if (source.size > TEXT_LIMIT) throw new ModelwiseError('LIMIT_EXCEEDED', `text protobuf of ${source.size} bytes is over the ${TEXT_LIMIT}-byte limit`, { file: source.name });
  const root = parseTextProto(decodeUtf8(await source.read(0, source.size)));
  const metaNode = one(root, 'meta_graphs');
  const graphNode = metaNode ? one(metaNode.children, 'graph_def') : root.some((n) => n.name === 'node') ? { name: 'graph_def', children: root } : undefined;
  const info = one(metaNode?.children, 'meta_info_def');
  const m: MetaGraph = {
    tags: all(info?.children, 'tags').map((t) => t.value ?? ''),
    tensorflowVersion: one(info?.children, 'tensorflow_version')?.value,
    tensorflowGitVersion: one(info?.children, 'tensorflow_git_version')?.value,
    signatures: all(metaNode?.children, 'signature_def').map(textSignature),
    collections: all(metaNode?.children, 'collection_def').map((c) => one(c.children, 'key')?.value ?? ''),
    assets: [],
    hasSaver: one(metaNode?.children, 'saver_def') !== undefined,
  };
  const nodes = all(graphNode?.children, 'node');
  const fns = all(one(graphNode?.children, 'library')?.children, 'function');
  const fnNodes = fns.flatMap((f) => all(f.children, 'node_def'));
  const sig = servingSignature(m.signatures);
  const io = (t: SignatureTensor) => ({ name: t.key, dtype: t.dtype, shape: t.shape, tensor: t.name });
  const version = one(root, 'saved_model_schema_version')?.value;
  return {
    ...(version !== undefined ? { format: { version } } : {}),
    producer: producerOf(m),
    architecture: null,
    tensors: [],
    graph: { inputs: sig?.inputs.map(io) ?? [], outputs: sig?.outputs.map(io) ?? [], ops: histogram(nodes) },
    details: {
      text: true,
      ...(sig ? { servingSignature: sig.key } : {}),
      metaGraphs: metaNode ? [{ tags: m.tags, signatures: m.signatures.map((s) => s.key), collections: m.collections }] : [],
      graph: { nodes: nodes.length },
      functionLibrary: { functions: fns.length, nodes: fnNodes.length, ops: histogram(fnNodes) },
    },
    metadata: {},
    diagnostics,
  };
}
