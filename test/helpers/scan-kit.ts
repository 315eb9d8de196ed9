/**
 * Helpers for format scan tests: run a format's `scan` hook directly on bytes (with sibling files in
 * a MemoryTree), or end to end through scanSource / scanTree with the hooks wired test-only.
 */
import { BytesSource, type ByteSource } from '../../src/io/source.js';
import { MemoryTree } from '../../src/io/tree.js';
import { Probe, TreeProbe } from '../../src/identify/probe.js';
import { newState, scanSource, scanTree, type ScanState } from '../../src/scan/scan.js';
import { verdictOf, type Finding, type ScanReport } from '../../src/scan/types.js';
import type { InspectInput } from '../../src/formats/types.js';
import type { FormatId, Identification, ModelFile } from '../../src/types.js';

export type ScanFn = (input: InspectInput, state: ScanState) => Promise<Finding[]>;
type Content = Uint8Array | string;

const bytesOf = (c: Content) => (typeof c === 'string' ? new TextEncoder().encode(c) : c);

function tree(files: Record<string, Content>): MemoryTree {
  const m: Record<string, ByteSource> = {};
  for (const [k, v] of Object.entries(files)) m[k] = new BytesSource(bytesOf(v), k);
  return new MemoryTree('m', m);
}

/** Call `scan` on `entry` of `files` as format `id`/`variant`; returns findings, state and the verdict of both. */
export async function directScan(scan: ScanFn, files: Record<string, Content>, entry: string, id: FormatId, variant: string, extra: { files?: ModelFile[]; folder?: boolean } = {}) {
  const t = tree(files);
  const source = (await t.open(entry))!;
  const ident: Identification = { path: entry, source: 'bytes', size: source.size, format: { id, variant, version: null, name: id }, confidence: 'high', evidence: [], ...(extra.files ? { files: extra.files } : {}) };
  const probe = new Probe(source, entry, t, entry);
  const state = newState();
  const input: InspectInput = { id: ident, probe, options: {} };
  if (extra.folder) input.tree = new TreeProbe(t, 'm', await t.list());
  const findings = await scan(input, state);
  const all = [...findings, ...state.findings];
  return { findings, state, all, verdict: verdictOf(all) };
}

/** End to end: identify and scan one file with its siblings. */
export async function scanFile(files: Record<string, Content>, entry: string): Promise<ScanReport> {
  const t = tree(files);
  return scanSource((await t.open(entry))!, { path: entry, tree: t, treePath: entry });
}

/** End to end: scan a folder model. */
export async function scanFolder(files: Record<string, Content>, name = 'model'): Promise<ScanReport> {
  return scanTree(tree(files), name);
}

export const has = (fs: Finding[], rule: string, severity?: Finding['severity']) => fs.some((f) => f.rule === rule && (!severity || f.severity === severity));
export const describe_ = (fs: Finding[]) => fs.map((f) => `${f.rule}/${f.severity}: ${f.evidence}`).join('\n');
