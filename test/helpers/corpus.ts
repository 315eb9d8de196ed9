/**
 * Access to ../shared/corpus (real model files). Outside CI it may be absent: tests then skip with
 * a printed reason. Files are only read, never copied into the repository.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const CORPUS = resolve(import.meta.dirname, '../../../shared/corpus');
export const HAVE_CORPUS = existsSync(join(CORPUS, 'MANIFEST.tsv'));
export const SKIP_CORPUS = HAVE_CORPUS ? false : `../shared/corpus not found at ${CORPUS}: conformance skipped`;

export interface Expected {
  model: string;
  format: string;
  variant?: string;
  version?: string;
  producer?: string;
  tensor_count?: number;
  parameter_count?: number;
  tensors?: { name: string; dtype: string; shape: (number | string)[] | null }[];
  tensors_truncated?: boolean;
  inputs?: { name: string; dtype: string; shape: (number | string)[] | null }[];
  outputs?: { name: string; dtype: string; shape: (number | string)[] | null }[];
  ops?: Record<string, number>;
  metadata_keys?: string[];
  notes?: string;
}

/** Every expected/<model>.json of the shared corpus, optionally of one format. */
export function expectedModels(format?: string): (Expected & { path: string; isDir: boolean })[] {
  if (!HAVE_CORPUS) return [];
  const out: (Expected & { path: string; isDir: boolean })[] = [];
  const base = join(CORPUS, 'expected');
  for (const dir of readdirSync(base).sort()) {
    for (const f of readdirSync(join(base, dir)).sort()) {
      if (!f.endsWith('.json')) continue;
      const e = JSON.parse(readFileSync(join(base, dir, f), 'utf8')) as Expected;
      if (format && e.format !== format) continue;
      const path = join(CORPUS, e.model);
      out.push({ ...e, path, isDir: statSync(path).isDirectory() });
    }
  }
  return out;
}

/** Every file under a folder, relative paths. */
export function filesUnder(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const d of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${d.name}` : d.name;
    if (d.isDirectory()) out.push(...filesUnder(dir, r));
    else out.push(r);
  }
  return out.sort();
}
