/**
 * Run one identification through every source kind: a local path, bytes, a Blob, and HTTP range
 * requests against a loopback server. Folders become MemoryTrees for bytes/Blob.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { identify, identifyPath, MemoryTree, BytesSource, BlobSource, type Identification } from '../../src/node/index.js';
import { filesUnder } from './corpus.js';

export type SourceKind = 'file' | 'bytes' | 'blob' | 'http';
export const SOURCE_KINDS: SourceKind[] = ['file', 'bytes', 'blob', 'http'];

/**
 * Identify `path` through `kind`. For http, `serverRoot` must be the folder the server serves and
 * folders are identified by their entry files (HTTP has no listing), so the caller gets one
 * result per file.
 */
export async function identifyVia(kind: SourceKind, path: string, http?: { url: string; root: string }): Promise<Identification[]> {
  const isDir = statSync(path).isDirectory();
  if (kind === 'file') return [await identifyPath(path)];
  if (kind === 'http') {
    if (!http) throw new Error('http needs a server');
    const files = isDir ? filesUnder(path).map((f) => join(path, f)) : [path];
    const out: Identification[] = [];
    for (const f of files) {
      const rel = relative(http.root, f).split('\\').join('/');
      out.push(await identify(`${http.url}/${rel.split('/').map(encodeURIComponent).join('/')}`));
    }
    return out;
  }
  const wrap = (bytes: Uint8Array, name: string) => (kind === 'bytes' ? new BytesSource(bytes, name) : new BlobSource(new Blob([bytes as Uint8Array<ArrayBuffer>]), name));
  if (isDir) {
    const files: Record<string, BytesSource | BlobSource> = {};
    for (const f of filesUnder(path)) files[f] = wrap(new Uint8Array(readFileSync(join(path, f))), f);
    return [await identify(new MemoryTree(basename(path), files), { name: basename(path) })];
  }
  const bytes = new Uint8Array(readFileSync(path));
  if (kind === 'bytes') return [await identify(bytes, { name: basename(path) })];
  return [await identify(new Blob([bytes as Uint8Array<ArrayBuffer>]), { name: basename(path) })];
}
