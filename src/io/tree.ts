/**
 * Trees of files: folders, zip archives and several dropped files look the same to formats.
 * Paths are relative, '/'-separated and normalised; '..', absolute paths and drive letters are refused.
 */
import type { ByteSource } from './source.js';

export interface TreeEntry {
  path: string;
  size: number;
}

export interface SourceTree {
  /** A name for messages (the folder path, the archive name). */
  readonly name: string;
  /** Every file in the tree (bounded by LIMITS.treeFiles). */
  list(): Promise<TreeEntry[]>;
  /** Open one file; undefined when it does not exist or the path is unsafe. */
  open(path: string): Promise<ByteSource | undefined>;
}

/** Normalise a relative path; undefined when it is absolute or escapes the root. */
export function safeRelativePath(p: string): string | undefined {
  const s = p.replace(/\\/g, '/');
  if (s.startsWith('/') || /^[a-zA-Z]:/.test(s)) return undefined;
  const out: string[] = [];
  for (const part of s.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') return undefined;
    out.push(part);
  }
  return out.join('/');
}

export function basename(p: string): string {
  const s = p.replace(/\\/g, '/').replace(/\/+$/, '');
  const i = s.lastIndexOf('/');
  return i < 0 ? s : s.slice(i + 1);
}

export function dirname(p: string): string {
  const s = p.replace(/\\/g, '/').replace(/\/+$/, '');
  const i = s.lastIndexOf('/');
  return i < 0 ? '' : s.slice(0, i);
}

export function joinPath(a: string, b: string): string {
  if (!a) return b;
  if (!b) return a;
  return `${a.replace(/\/+$/, '')}/${b}`;
}

/** A tree over sources already open (browser drops, tests). */
export class MemoryTree implements SourceTree {
  private readonly files = new Map<string, ByteSource>();
  constructor(readonly name: string, files: Record<string, ByteSource> | Map<string, ByteSource>) {
    const entries = files instanceof Map ? [...files] : Object.entries(files);
    for (const [p, s] of entries) {
      const safe = safeRelativePath(p);
      if (safe) this.files.set(safe, s);
    }
  }
  async list(): Promise<TreeEntry[]> {
    return [...this.files].map(([path, s]) => ({ path, size: s.size }));
  }
  async open(path: string): Promise<ByteSource | undefined> {
    const safe = safeRelativePath(path);
    return safe === undefined ? undefined : this.files.get(safe);
  }
}

/** A view of one folder inside another tree. */
export class SubTree implements SourceTree {
  constructor(private readonly parent: SourceTree, private readonly prefix: string) {}
  get name(): string {
    return joinPath(this.parent.name, this.prefix);
  }
  async list(): Promise<TreeEntry[]> {
    const pre = this.prefix ? this.prefix + '/' : '';
    return (await this.parent.list()).filter((e) => e.path.startsWith(pre)).map((e) => ({ path: e.path.slice(pre.length), size: e.size }));
  }
  async open(path: string): Promise<ByteSource | undefined> {
    const safe = safeRelativePath(path);
    return safe === undefined ? undefined : this.parent.open(joinPath(this.prefix, safe));
  }
}
