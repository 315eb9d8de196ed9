/**
 * PFA inspection (http://dmg.org/pfa/docs/document_structure/): the engine's input and output Avro
 * schemas (graph inputs/outputs: a record gives one entry per field, anything else one entry named
 * `input` / `output`; dtype = the Avro type in words), method, name, version, the action and the
 * begin/end/merge blocks (expression counts), cells and pools (types, init sizes), user functions
 * (`fcns`) and the library functions the expressions call. PFA stores no tensors.
 */
import { ModelwiseError } from '../../errors.js';
import type { Diagnostic, GraphIO } from '../../types.js';
import type { InspectInput, Inspection } from '../types.js';
import { avroType, isMap, jsonSize, readPfa, schemaEntries, walkExpressions, type ExpressionStats, type Json } from './document.js';

const TOP_LEVEL = new Set(['name', 'method', 'input', 'output', 'begin', 'action', 'end', 'fcns', 'zero', 'merge', 'cells', 'pools', 'randseed', 'doc', 'version', 'metadata', 'options']);
/** Cells, pools and functions listed in the report (counts stay exact). */
const LISTED = 10_000;

const exprCount = (v: Json | undefined): number => (v === undefined ? 0 : Array.isArray(v) ? v.length : 1);

function storage(entries: Json | undefined, kind: 'cell' | 'pool') {
  if (!isMap(entries)) return { count: 0, list: [] as Record<string, unknown>[] };
  const names = Object.keys(entries);
  const list = names.slice(0, LISTED).map((name) => {
    const c = entries[name];
    if (!isMap(c)) return { name, malformed: true };
    const init = c.init;
    return {
      name,
      type: avroType(c.type),
      ...(c.shared === true ? { shared: true } : {}),
      ...(c.rollback === true ? { rollback: true } : {}),
      ...(typeof c.source === 'string' ? { source: c.source } : {}),
      ...(init !== undefined
        ? {
            init: Array.isArray(init) ? { items: init.length, nodes: jsonSize(init) } : isMap(init) ? { keys: Object.keys(init).length, nodes: jsonSize(init) } : { nodes: 1 },
            ...(kind === 'pool' && isMap(init) ? { entries: Object.keys(init).length } : {}),
          }
        : {}),
    };
  });
  return { count: names.length, list };
}

export async function inspect(input: InspectInput): Promise<Inspection> {
  const probe = input.probe;
  if (!probe) throw new ModelwiseError('USAGE', 'PFA inspection needs the file');
  const { doc, syntax, warnings } = await readPfa(probe.source, input.id.format?.variant);
  const diagnostics: Diagnostic[] = warnings.map((w) => ({ code: 'YAML_WARNING', message: w }));
  for (const k of ['input', 'output', 'action']) if (!(k in doc)) diagnostics.push({ code: 'MISSING_FIELD', message: `required top-level field '${k}' is missing` });
  const unknown = Object.keys(doc).filter((k) => !TOP_LEVEL.has(k) && !k.startsWith('@'));
  if (unknown.length) diagnostics.push({ code: 'UNKNOWN_FIELD', message: `top-level fields not in PFA: ${unknown.slice(0, 20).join(', ')}` });

  const io = (t: Json | undefined, name: string): GraphIO[] => schemaEntries(t, name).map((e) => ({ name: e.name, dtype: e.dtype, shape: null }));
  const fcns = isMap(doc.fcns) ? doc.fcns : {};
  const stats: ExpressionStats = { nodes: 0, library: {}, user: {}, truncated: false };
  walkExpressions([doc.action ?? null, doc.begin ?? null, doc.end ?? null, doc.merge ?? null, ...Object.values(fcns)], stats);
  if (stats.truncated) diagnostics.push({ code: 'LIMIT_EXCEEDED', message: 'expressions too large to walk whole: function counts are partial' });
  const fcnNames = Object.keys(fcns);
  const undefinedUser = Object.keys(stats.user).filter((n) => !(n in fcns));
  if (undefinedUser.length) diagnostics.push({ code: 'UNDEFINED_FUNCTION', message: `user functions called but not defined in fcns: ${undefinedUser.slice(0, 20).join(', ')}` });
  const cells = storage(doc.cells, 'cell');
  const pools = storage(doc.pools, 'pool');
  const method = typeof doc.method === 'string' ? doc.method : 'map';
  const metadata: Record<string, unknown> = isMap(doc.metadata) ? { ...doc.metadata } : {};
  const sortDesc = (m: Record<string, number>) => Object.fromEntries(Object.entries(m).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)));
  return {
    format: { variant: syntax === 'yaml' ? 'pfa-yaml' : 'pfa-json' },
    producer: null,
    architecture: typeof doc.name === 'string' ? doc.name : null,
    tensors: [],
    // Operators of an expression language: the library (and user, `u.`) functions its expressions call.
    graph: { inputs: io(doc.input, 'input'), outputs: io(doc.output, 'output'), ops: { ...sortDesc(stats.library), ...Object.fromEntries(Object.entries(sortDesc(stats.user)).map(([k, n]) => [`u.${k}`, n])) } },
    details: {
      ...(typeof doc.name === 'string' ? { name: doc.name } : {}),
      method,
      ...(doc.version !== undefined ? { version: doc.version } : {}),
      ...(typeof doc.doc === 'string' ? { doc: doc.doc.slice(0, 2000) } : {}),
      inputSchema: avroType(doc.input),
      outputSchema: avroType(doc.output),
      topLevelFields: Object.keys(doc),
      action: { expressions: exprCount(doc.action), nodes: jsonSize(doc.action ?? null) },
      ...(doc.begin !== undefined ? { begin: { expressions: exprCount(doc.begin) } } : {}),
      ...(doc.end !== undefined ? { end: { expressions: exprCount(doc.end) } } : {}),
      ...(doc.merge !== undefined ? { merge: { expressions: exprCount(doc.merge) } } : {}),
      ...(doc.zero !== undefined ? { zero: true } : {}),
      cells: cells.count,
      ...(cells.count ? { cellList: cells.list } : {}),
      pools: pools.count,
      ...(pools.count ? { poolList: pools.list } : {}),
      fcns: fcnNames.length,
      ...(fcnNames.length
        ? {
            fcnList: fcnNames.slice(0, LISTED).map((n) => {
              const f = fcns[n];
              return isMap(f)
                ? { name: n, params: Array.isArray(f.params) ? f.params.length : 0, ret: avroType(f.ret), expressions: exprCount(f.do) }
                : { name: n, malformed: true };
            }),
          }
        : {}),
      libraryFunctions: sortDesc(stats.library),
      ...(Object.keys(stats.user).length ? { userFunctionCalls: sortDesc(stats.user) } : {}),
      ...(doc.randseed !== undefined ? { randseed: doc.randseed } : {}),
      ...(isMap(doc.options) ? { options: doc.options } : {}),
    },
    metadata,
    diagnostics,
  };
}
