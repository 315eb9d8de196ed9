/**
 * PFA (Portable Format for Analytics, http://dmg.org/pfa/docs/document_structure/): a scoring
 * engine as a JSON (or YAML) object with `input`, `output` (Avro schemas) and `action`, plus optional
 * name, method, begin, end, fcns, zero, merge, cells, pools, randseed, doc, version, metadata, options.
 * Variants `pfa-json` and `pfa-yaml`. The YAML case is recognised by its top-level keys only
 * (a line sniffer, no YAML parser); large JSON documents by a top-level key scan of the head.
 */
import { detection } from '../detection.js';
import type { FormatModule } from '../types.js';
import { isObject, type Probe } from '../../identify/probe.js';
import type { Detection } from '../../types.js';
import { jsonTopLevelKeys, yamlTopLevelKeys } from './keys.js';

const NAME = 'PFA';

/** Top-level fields of a PFA document (PFA 0.8.1 §3 "Top-level fields"). */
const PFA_KEYS = new Set(['name', 'method', 'input', 'output', 'begin', 'action', 'end', 'fcns', 'zero', 'merge', 'cells', 'pools', 'randseed', 'doc', 'version', 'metadata', 'options']);
const known = (k: string): boolean => PFA_KEYS.has(k) || k.startsWith('@');

/** An Avro schema: a type name, a schema object with "type", or a union (array). */
function isAvroSchema(v: unknown): boolean {
  return typeof v === 'string' || (isObject(v) && typeof v.type !== 'undefined') || (Array.isArray(v) && v.length > 0);
}

function schemaText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (isObject(v)) return typeof v.type === 'string' ? (v.type === 'record' && typeof v.name === 'string' ? `record ${v.name}` : v.type) : 'schema';
  if (Array.isArray(v)) return 'union';
  return '?';
}

export const pfa: FormatModule = {
  id: 'pfa',
  name: NAME,
  extensions: ['.pfa', '.json', '.yaml', '.yml'],
  load: () => import('./inspect.js'),
  async detect(probe: Probe) {
    const json = await probe.json();
    if (json !== undefined) return fromJson(json);
    const text = await probe.text();
    if (text === undefined) return undefined;
    const truncated = probe.size > (await probe.head()).length;
    if (/^\s*\{/.test(text)) return truncated ? fromKeys(jsonTopLevelKeys(text), 'pfa-json', true) : undefined;
    if (/^\s*\[/.test(text)) return undefined;
    return fromKeys(yamlTopLevelKeys(text), 'pfa-yaml', truncated);
  },
};

function fromJson(json: unknown): Detection | undefined {
  if (!isObject(json) || !('input' in json) || !('output' in json) || !('action' in json)) return undefined;
  const keys = Object.keys(json);
  if (keys.some((k) => !known(k))) return undefined;
  if (!isAvroSchema(json.input) || !isAvroSchema(json.output)) return undefined;
  const method = typeof json.method === 'string' ? json.method : undefined;
  if (method !== undefined && !['map', 'emit', 'fold'].includes(method)) return undefined;
  const evidence = [
    `PFA document (JSON): top-level fields ${keys.join(', ')}`,
    `input ${schemaText(json.input)}, output ${schemaText(json.output)}, method ${method ?? 'map (default)'}`,
  ];
  const cells = isObject(json.cells) ? Object.keys(json.cells) : [];
  const pools = isObject(json.pools) ? Object.keys(json.pools) : [];
  const fcns = isObject(json.fcns) ? Object.keys(json.fcns) : [];
  const parts = [
    cells.length ? `cells: ${cells.slice(0, 5).join(', ')}${cells.length > 5 ? ', …' : ''}` : '',
    pools.length ? `pools: ${pools.slice(0, 5).join(', ')}` : '',
    fcns.length ? `fcns: ${fcns.slice(0, 5).join(', ')}${fcns.length > 5 ? ', …' : ''}` : '',
  ].filter(Boolean);
  if (parts.length) evidence.push(parts.join('; '));
  const name = typeof json.name === 'string' ? json.name : undefined;
  if (name) evidence.push(`engine name '${name}'`);
  return detection('pfa', NAME, 'pfa-json', null, 'high', evidence, {
    details: { method: method ?? 'map', ...(name ? { name } : {}), cells: cells.length, fcns: fcns.length },
  });
}

function fromKeys(keys: string[] | undefined, variant: 'pfa-json' | 'pfa-yaml', truncated: boolean): Detection | undefined {
  if (!keys || keys.some((k) => !known(k))) return undefined;
  const has = (k: string): boolean => keys.includes(k);
  const complete = has('input') && has('output') && has('action');
  // Cut by the 64 KiB head: two of the three required fields seen, no foreign key.
  const partial = truncated && ((has('input') && has('output')) || (has('action') && (has('input') || has('output'))));
  if (!complete && !partial) return undefined;
  const kind = variant === 'pfa-yaml' ? 'YAML' : 'JSON';
  const evidence = [`PFA document (${kind}): top-level fields ${keys.join(', ')}`];
  if (truncated) evidence.push(variant === 'pfa-json' ? 'too large to parse during identification: fields read from the first 64 KiB' : 'fields read from the first 64 KiB');
  if (!complete) evidence.push(`not seen in the head: ${['input', 'output', 'action'].filter((k) => !has(k)).join(', ')}`);
  return detection('pfa', NAME, variant, null, complete && variant === 'pfa-yaml' && !truncated ? 'high' : 'medium', evidence);
}
