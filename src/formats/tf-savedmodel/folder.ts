/**
 * The folder around a TensorFlow model's entry file, whichever way the inspector was handed it: a
 * probe with its folder as tree (a file inspected on disk, or the entry of a folder model), only a
 * folder (TreeProbe), or a lone file (bytes, HTTP) whose siblings cannot be opened.
 */
import type { InspectInput } from '../types.js';
import type { ByteSource } from '../../io/source.js';
import type { TreeEntry } from '../../io/tree.js';

export interface ModelFolder {
  /** The file the inspector was pointed at, when there is one. */
  entry?: { source: ByteSource; name: string };
  /** Open a file relative to the entry's folder (undefined when absent or not reachable). */
  open(rel: string): Promise<ByteSource | undefined>;
  /** Every file below the folder (relative paths), or undefined when it cannot be listed. */
  list(): Promise<TreeEntry[] | undefined>;
}

export function folderOf(input: InspectInput): ModelFolder {
  const p = input.probe;
  if (p) {
    const listable = p.tree !== undefined;
    return {
      entry: { source: p.source, name: p.name },
      open: async (rel) => (rel === p.name ? p.source : p.sibling(rel)),
      list: async () => (listable ? p.folderFiles() : undefined),
    };
  }
  const t = input.tree;
  return {
    open: async (rel) => {
      if (!t) return undefined;
      try {
        return await t.tree.open(rel);
      } catch {
        return undefined;
      }
    },
    list: async () => t?.entries,
  };
}
