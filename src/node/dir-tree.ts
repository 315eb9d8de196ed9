/** A local folder as a SourceTree: walked once (bounded), files opened on demand, symlinks not followed out. */
import { readdir, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { LIMITS } from '../limits.js';
import { ModelwiseError } from '../errors.js';
import type { ByteSource } from '../io/source.js';
import { safeRelativePath, type SourceTree, type TreeEntry } from '../io/tree.js';
import { FileSource } from './file-source.js';

export class DirTree implements SourceTree {
  private listing?: Promise<TreeEntry[]>;
  constructor(private readonly root: string, readonly name = root) {}

  list(): Promise<TreeEntry[]> {
    return (this.listing ??= this.walk());
  }

  private async walk(): Promise<TreeEntry[]> {
    const out: TreeEntry[] = [];
    const visit = async (rel: string, depth: number): Promise<void> => {
      if (depth > LIMITS.treeDepth) return;
      let items;
      try {
        items = await readdir(join(this.root, rel), { withFileTypes: true });
      } catch (e) {
        if (rel === '') throw new ModelwiseError('IO', (e as Error).message, { file: this.name, cause: e });
        return;
      }
      items.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const it of items) {
        if (out.length >= LIMITS.treeFiles) return;
        if (it.name === '.git' || it.name === 'node_modules' || it.name === '.cache') continue;
        const r = rel ? `${rel}/${it.name}` : it.name;
        if (it.isDirectory()) await visit(r, depth + 1);
        else if (it.isFile()) {
          const st = await stat(join(this.root, r)).catch(() => undefined);
          if (st) out.push({ path: r, size: st.size });
        } else if (it.isSymbolicLink()) {
          // Follow links to files only (HF cache snapshots are links into blobs/); never list linked folders.
          const st = await stat(join(this.root, r)).catch(() => undefined);
          if (st?.isFile()) out.push({ path: r, size: st.size });
        }
      }
    };
    await visit('', 0);
    return out;
  }

  async open(path: string): Promise<ByteSource | undefined> {
    const safe = safeRelativePath(path);
    if (safe === undefined) return undefined;
    const full = join(this.root, ...safe.split('/'));
    try {
      return await FileSource.open(full, this.name.endsWith(sep) || this.name.endsWith('/') ? this.name + safe : `${this.name}/${safe}`);
    } catch {
      return undefined;
    }
  }
}
