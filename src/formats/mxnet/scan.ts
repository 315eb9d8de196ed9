/**
 * MXNet security rule MXNET-001: symbol graphs whose nodes call Python. `Custom` nodes run the
 * operator registered under their `op_type` (mx.operator.register: Python code supplied by whoever
 * loads the model); the deprecated `_Native` / `_NDArray` ops call Python callbacks by pointer.
 * Loading the symbol needs that code registered, so the graph is not self-contained (medium).
 */
import { isObject } from '../../identify/probe.js';
import { decodeUtf8 } from '../../io/bytes.js';
import { readExact } from '../../io/source.js';
import { registerRules } from '../../scan/rules.js';
import type { ScanState } from '../../scan/scan.js';
import type { Finding } from '../../scan/types.js';
import type { InspectInput } from '../types.js';

registerRules({
  'MXNET-001': 'MXNet symbol uses Python custom operators (Custom op_type, _Native, _NDArray)',
});

const PYTHON_OPS = new Set(['Custom', '_Native', '_NDArray', '_CustomFunction']);

export function mxnetFindings(json: unknown, where: string): Finding[] {
  if (!isObject(json) || !Array.isArray(json.nodes)) return [];
  const groups = new Map<string, string[]>();
  for (const n of json.nodes.slice(0, 10_000_000)) {
    if (!isObject(n) || typeof n.op !== 'string' || !PYTHON_OPS.has(n.op)) continue;
    const attrs = [n.attrs, n.attr, n.param].find(isObject) as Record<string, unknown> | undefined;
    const type = attrs && typeof attrs.op_type === 'string' ? attrs.op_type : attrs && typeof attrs.info === 'string' ? `info ${attrs.info}` : '?';
    const key = `${n.op}${n.op === 'Custom' ? ` op_type ${JSON.stringify(type)}` : ''}`;
    const list = groups.get(key) ?? [];
    if (list.length < 5 && typeof n.name === 'string') list.push(n.name);
    groups.set(key, list);
  }
  return [...groups].map(([key, names]) => ({
    rule: 'MXNET-001',
    severity: 'medium' as const,
    location: where,
    evidence: `${key} (nodes ${names.map((x) => JSON.stringify(x)).join(', ')})`,
    message: 'this node runs a Python operator registered by the code that loads the model: the graph is not self-contained',
  }));
}

export async function scan(input: InspectInput, state: ScanState): Promise<Finding[]> {
  const probe = input.probe;
  if (!probe || input.id.format?.variant === 'ndarray-list') return [];
  let json = await probe.json();
  if (json === undefined && probe.size <= 64 * 1024 * 1024 && (await probe.text()) !== undefined) {
    try {
      json = JSON.parse(decodeUtf8(await readExact(probe.source, 0, probe.size, 'symbol JSON')));
    } catch {
      return [];
    }
  }
  state.scanned.push(`${probe.path} (MXNet symbol)`);
  return mxnetFindings(json, probe.path);
}
