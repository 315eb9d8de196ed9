/**
 * The layout of a PyTorch zip archive, shared by the `pytorch` and `torchscript` detectors.
 *
 * `torch.save` (≥ 1.6), `torch.jit.save` and `_save_for_lite_interpreter` all write through
 * caffe2's PyTorchStreamWriter (https://github.com/pytorch/pytorch/blob/main/caffe2/serialize/inline_container.h):
 * every record sits under ONE top folder (`archive/` or the file's stem), stored uncompressed and
 * 64-byte aligned. Records: `data.pkl`, `data/<key>` storages, `version` (or `.data/version` when
 * the version is ≥ 6), `byteorder`, `.data/serialization_id`, `.format_version`,
 * `.storage_alignment`; TorchScript adds `code/**.py` (+ `.debug_pkl`) and `constants.pkl`; the
 * lite interpreter adds `bytecode.pkl`. torch.export (`.pt2`) writes `archive_format`, and
 * torch.package writes `.data/extern_modules`.
 *
 * Only the central directory and a few tiny records (version, byteorder, the first bytes of the
 * pickles) are read; pickles are peeked at, never parsed.
 */
import { decodeLatin1 } from '../../io/bytes.js';
import type { ZipEntry } from '../../codecs/zip.js';
import type { Probe } from '../../identify/probe.js';
import { peekLeadingInt, pickleStart } from './pickle-peek.js';

/** Records whose presence under a folder makes that folder the archive's top. */
const MARKERS = ['data.pkl', 'constants.pkl', 'bytecode.pkl', 'archive_format', '.data/extern_modules', 'model.json', 'serialized_exported_program.json'];

export interface TorchZipLayout {
  /** The top folder ('' when the records sit at the root, which torch itself never writes). */
  top: string;
  /** Records under the top folder, by path relative to it (directories left out). */
  records: Map<string, ZipEntry>;
  /** Entries outside the top folder (a repacked or polluted archive). */
  outside: number;
  /** `data/<key>` storage records. */
  storages: number;
  /** TorchScript sources `code/**.py`. */
  codeFiles: number;
  /** `code/**.debug_pkl` records. */
  debugFiles: number;
  /** Content of the `version` / `.data/version` record, when it is a decimal integer. */
  version?: number;
  /** Which record held the version. */
  versionRecord?: string;
  /** Content of the `byteorder` record ("little" / "big"). */
  byteorder?: string;
  /** Pickle protocol data.pkl starts with (0 = protocol 0/1), or undefined when it is absent or not a pickle. */
  dataPklProtocol?: number;
  /** Pickle protocol of constants.pkl, when present and a pickle. */
  constantsProtocol?: number;
  /** First element of bytecode.pkl (the mobile bytecode version). */
  bytecodeVersion?: number;
  /** Content of `archive_format` (torch.export: "pt2"). */
  archiveFormat?: string;
  /** Content of `archive_version` (torch.export). */
  archiveVersion?: string;
}

const cache = new WeakMap<Probe, Promise<TorchZipLayout | undefined>>();

/** The archive layout of a PyTorch zip, memoized per probe; undefined when the file is not one. */
export function torchZipLayout(probe: Probe): Promise<TorchZipLayout | undefined> {
  let p = cache.get(probe);
  if (!p) {
    p = readLayout(probe).catch(() => undefined);
    cache.set(probe, p);
  }
  return p;
}

async function readLayout(probe: Probe): Promise<TorchZipLayout | undefined> {
  const zip = await probe.zip();
  if (!zip || zip.entries.length === 0) return undefined;
  const files = zip.entries.filter((e) => !e.isDirectory);

  // Candidate tops: folders (depth ≤ 1) that hold a marker record.
  const tops = new Set<string>();
  for (const e of files) {
    for (const m of MARKERS) {
      if (e.name === m) tops.add('');
      else if (e.name.endsWith('/' + m)) {
        const t = e.name.slice(0, e.name.length - m.length - 1);
        if (!t.includes('/') && t !== '') tops.add(t);
      }
    }
  }
  if (tops.size === 0) return undefined;
  // The top that holds the most entries wins (one top in every archive torch writes).
  let best: { top: string; n: number } | undefined;
  for (const t of tops) {
    const pre = t ? t + '/' : '';
    const n = t ? files.reduce((s, e) => s + (e.name.startsWith(pre) ? 1 : 0), 0) : files.reduce((s, e) => s + (e.name.includes('/') ? 0 : 1), 0);
    if (!best || n > best.n) best = { top: t, n };
  }
  const top = best!.top;
  const pre = top ? top + '/' : '';
  const records = new Map<string, ZipEntry>();
  let outside = 0;
  for (const e of files) {
    if (pre ? e.name.startsWith(pre) : true) {
      const rel = e.name.slice(pre.length);
      if (rel && !records.has(rel)) records.set(rel, e);
    } else outside++;
  }
  // With no top folder, "outside" means nothing; entries in subfolders are records like data/0.

  let storages = 0;
  let codeFiles = 0;
  let debugFiles = 0;
  for (const rel of records.keys()) {
    if (rel.startsWith('data/')) storages++;
    else if (rel.startsWith('code/')) {
      if (rel.endsWith('.py')) codeFiles++;
      else if (rel.endsWith('.debug_pkl')) debugFiles++;
    }
  }
  const layout: TorchZipLayout = { top, records, outside, storages, codeFiles, debugFiles };

  const small = async (rel: string, n: number): Promise<Uint8Array | undefined> => {
    const e = records.get(rel);
    if (!e || e.encrypted) return undefined;
    return probe.zipMemberPrefix(e, n);
  };
  const smallText = async (rel: string, n: number): Promise<string | undefined> => {
    const b = await small(rel, n);
    return b ? decodeLatin1(b).trim() : undefined;
  };

  for (const rel of ['version', '.data/version']) {
    const t = await smallText(rel, 16);
    if (t !== undefined && /^\d{1,6}$/.test(t)) {
      layout.version = Number(t);
      layout.versionRecord = rel;
      break;
    }
  }
  const bo = await smallText('byteorder', 8);
  if (bo === 'little' || bo === 'big') layout.byteorder = bo;
  const dp = await small('data.pkl', 32);
  if (dp) layout.dataPklProtocol = pickleStart(dp)?.protocol;
  const cp = await small('constants.pkl', 32);
  if (cp) layout.constantsProtocol = pickleStart(cp)?.protocol;
  const bp = await small('bytecode.pkl', 32);
  if (bp) {
    const v = peekLeadingInt(bp);
    if (v !== undefined && v >= 0 && v < 1000) layout.bytecodeVersion = v;
  }
  const af = await smallText('archive_format', 16);
  if (af !== undefined && /^[\w.-]{1,16}$/.test(af)) layout.archiveFormat = af;
  const av = await smallText('archive_version', 16);
  if (av !== undefined && /^[\w.-]{1,16}$/.test(av)) layout.archiveVersion = av;
  return layout;
}

/** Is the archive TorchScript (code, constants or mobile bytecode) rather than a torch.save pickle? */
export function isTorchScriptLayout(l: TorchZipLayout): boolean {
  return l.records.has('bytecode.pkl') || l.records.has('constants.pkl') || l.codeFiles > 0 || (l.records.has('model.json') && hasPrefix(l, 'tensors/'));
}

export function hasPrefix(l: TorchZipLayout, prefix: string): boolean {
  for (const k of l.records.keys()) if (k.startsWith(prefix)) return true;
  return false;
}

/** "archive/" or "the archive root" for evidence strings. */
export function topLabel(l: TorchZipLayout): string {
  return l.top ? `${l.top}/` : '';
}

export function plural(n: number, one: string, many = one + 's'): string {
  return `${n} ${n === 1 ? one : many}`;
}
