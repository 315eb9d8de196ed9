/**
 * A Probe memoizes what several detectors want from one file — the first 64 KiB, the tail, a zip's
 * central directory, a parsed small JSON — so that sixteen detectors do not read or parse the same
 * bytes sixteen times. Every accessor is bounded and never throws: failures read as "absent".
 */
import { LIMITS } from '../limits.js';
import { decodeUtf8, textShare, tryDecodeUtf8 } from '../io/bytes.js';
import type { ByteSource } from '../io/source.js';
import { basename, dirname, joinPath, type SourceTree, type TreeEntry } from '../io/tree.js';
import { openZip, readMemberPrefix, findEocd, type ZipArchive, type ZipEntry } from '../codecs/zip.js';

function memo<T>(f: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= f());
}

export class Probe {
  /** Base name of the file ("model.onnx"). */
  readonly name: string;
  /** Lowercase extension with dot, or '' ("model.Q4_K_M.gguf" → ".gguf"). */
  readonly ext: string;

  constructor(
    readonly source: ByteSource,
    /** Path as the user gave it, or the path inside `tree`. */
    readonly path: string,
    /** The tree this file lives in (its folder, an archive), for sibling files of multi-file models. */
    readonly tree?: SourceTree,
    /** Path of this file inside `tree`. */
    readonly treePath?: string,
  ) {
    this.name = basename(path);
    const dot = this.name.lastIndexOf('.');
    this.ext = dot > 0 ? this.name.slice(dot).toLowerCase() : '';
  }

  get size(): number {
    return this.source.size;
  }

  /** The first LIMITS.probeHead bytes (fewer for small files). */
  readonly head = memo(async () => {
    try {
      return await this.source.read(0, Math.min(this.source.size, LIMITS.probeHead));
    } catch {
      return new Uint8Array(0);
    }
  });

  /** Read an arbitrary small range (bounded to 1 MiB); empty on failure. */
  async bytes(offset: number, length: number): Promise<Uint8Array> {
    if (offset >= 0 && offset + length <= LIMITS.probeHead) {
      const h = await this.head();
      return h.subarray(offset, Math.min(h.length, offset + length));
    }
    try {
      return await this.source.read(offset, Math.min(length, 1024 * 1024));
    } catch {
      return new Uint8Array(0);
    }
  }

  /** The last LIMITS.probeTail bytes. */
  readonly tail = memo(async () => {
    const n = Math.min(this.source.size, LIMITS.probeTail);
    try {
      return await this.source.read(this.source.size - n, n);
    } catch {
      return new Uint8Array(0);
    }
  });

  /** The zip central directory when this file is a zip (or has a zip appended), else undefined. */
  readonly zip = memo(async (): Promise<ZipArchive | undefined> => {
    if (this.source.size < 22) return undefined;
    const tail = await this.tail();
    if (findEocd(tail) < 0) return undefined;
    try {
      return await openZip(this.source, tail);
    } catch {
      return undefined;
    }
  });

  /** The first `length` bytes of a zip member (inflating only as much as needed); undefined on failure. */
  async zipMemberPrefix(entry: ZipEntry, length: number): Promise<Uint8Array | undefined> {
    const zip = await this.zip();
    if (!zip) return undefined;
    try {
      return await readMemberPrefix(zip, entry, length);
    } catch {
      return undefined;
    }
  }

  /** The head as text when it looks like text (UTF-8, mostly printable), else undefined. */
  readonly text = memo(async (): Promise<string | undefined> => {
    const h = await this.head();
    if (h.length === 0) return undefined;
    // Cut a possibly split UTF-8 sequence at the end of the window.
    let end = h.length;
    if (h.length === LIMITS.probeHead) while (end > 0 && end > h.length - 4 && (h[end - 1]! & 0xc0) === 0x80) end--;
    if (end < h.length && end > 0 && h[end - 1]! >= 0xc0) end--;
    const s = tryDecodeUtf8(h.subarray(0, end));
    if (s === undefined || textShare(h.subarray(0, Math.min(h.length, 4096))) < 0.95) return undefined;
    return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
  });

  /**
   * The whole file parsed as JSON when it starts like JSON and is at most `LIMITS.jsonProbe` bytes;
   * undefined otherwise. Detectors of JSON formats (TF.js, MXNet, PFA, safetensors index) share it.
   */
  readonly json = memo(async (): Promise<unknown> => {
    const t = await this.text();
    if (t === undefined || !/^\s*[{[]/.test(t) || this.source.size > LIMITS.jsonProbe) return undefined;
    try {
      const all = this.source.size <= LIMITS.probeHead ? await this.head() : await this.source.read(0, this.source.size);
      return JSON.parse(decodeUtf8(all));
    } catch {
      return undefined;
    }
  });

  /** Files in the same folder as this one (empty without a tree). */
  readonly siblings = memo(async (): Promise<TreeEntry[]> => {
    if (!this.tree) return [];
    try {
      const dir = dirname(this.treePath ?? this.path);
      const pre = dir ? dir + '/' : '';
      return (await this.tree.list())
        .filter((e) => e.path.startsWith(pre) && !e.path.slice(pre.length).includes('/'))
        .map((e) => ({ path: e.path.slice(pre.length), size: e.size }));
    } catch {
      return [];
    }
  });

  /** Every file below this file's folder, with paths relative to it (bounded by the tree). */
  readonly folderFiles = memo(async (): Promise<TreeEntry[]> => {
    if (!this.tree) return [];
    try {
      const dir = dirname(this.treePath ?? this.path);
      const pre = dir ? dir + '/' : '';
      return (await this.tree.list()).filter((e) => e.path.startsWith(pre)).map((e) => ({ path: e.path.slice(pre.length), size: e.size }));
    } catch {
      return [];
    }
  });

  /** Open a file relative to this file's folder; undefined when absent or not allowed. */
  async sibling(relPath: string): Promise<ByteSource | undefined> {
    if (!this.tree) return undefined;
    try {
      return await this.tree.open(joinPath(dirname(this.treePath ?? this.path), relPath));
    } catch {
      return undefined;
    }
  }

  /** A probe over a sibling file (shares nothing but the tree). */
  async siblingProbe(relPath: string): Promise<Probe | undefined> {
    const s = await this.sibling(relPath);
    if (!s || !this.tree) return undefined;
    const tp = joinPath(dirname(this.treePath ?? this.path), relPath);
    return new Probe(s, joinPath(dirname(this.path), relPath), this.tree, tp);
  }
}

/** A folder seen by folder-level detectors: its listing, and memoized probes of its files. */
export class TreeProbe {
  private readonly probes = new Map<string, Probe | undefined>();
  constructor(
    readonly tree: SourceTree,
    /** Display path of the folder. */
    readonly path: string,
    /** Every file in the folder, recursively (paths relative to it). */
    readonly entries: TreeEntry[],
  ) {}

  get name(): string {
    return basename(this.path);
  }

  has(path: string): boolean {
    return this.entries.some((e) => e.path === path);
  }

  entry(path: string): TreeEntry | undefined {
    return this.entries.find((e) => e.path === path);
  }

  /** Files directly in the folder (no subfolder). */
  top(): TreeEntry[] {
    return this.entries.filter((e) => !e.path.includes('/'));
  }

  async probe(path: string): Promise<Probe | undefined> {
    if (this.probes.has(path)) return this.probes.get(path);
    let p: Probe | undefined;
    try {
      const s = await this.tree.open(path);
      p = s ? new Probe(s, joinPath(this.path, path), this.tree, path) : undefined;
    } catch {
      p = undefined;
    }
    this.probes.set(path, p);
    return p;
  }

  async json(path: string): Promise<unknown> {
    const p = await this.probe(path);
    return p ? p.json() : undefined;
  }
}

/** Narrowing helpers for parsed JSON. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
