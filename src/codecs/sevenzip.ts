/**
 * 7z archive reader (7zFormat.txt of the LZMA SDK / 7-Zip DOC): signature header, (encoded)
 * header, streams info (pack info, folders with coders and bind pairs, sub-streams) and files info
 * (names, empty streams, attributes). Listing reads only the signature header and the header at the
 * end; extracting decodes one folder (a solid block) at a time, under a byte cap.
 *
 * Coders: Copy (00), LZMA (03 01 01), LZMA2 (21) and Deflate (04 01 08), one coder per folder.
 * Anything else — AES (06 F1 07 01), BCJ/ARM filters, BZip2, PPMd, multi-coder chains — is
 * reported as unsupported (the scanner then says "unscanned", never "clean"). Why 7z at all: the
 * nullifAI models (ReversingLabs, 2025) were PyTorch archives recompressed with 7z, which pickle
 * scanners without a 7z reader skipped while `torch.load` of the extracted file runs them.
 */
import { inflateSync } from 'fflate';
import { ModelwiseError } from '../errors.js';
import { u64le, view } from '../io/bytes.js';
import { readExact, type ByteSource } from '../io/source.js';
import { crc32 } from './crc32.js';
import { lzma2Decode, lzmaDecode, parseLzmaProps } from './lzma.js';

export const SEVENZIP_MAGIC = [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c] as const;

export const SEVENZIP_LIMITS = {
  /** Largest (packed or unpacked) header read. */
  header: 64 * 1024 * 1024,
  /** Files listed. */
  files: 200_000,
  /** Folders, coders per folder, pack streams. */
  folders: 100_000,
  coders: 32,
  /** Encoded-header indirections followed. */
  headerNesting: 4,
  /** Largest folder (solid block) decoded into memory. */
  folderBytes: 256 * 1024 * 1024,
} as const;

const K = {
  End: 0x00, Header: 0x01, ArchiveProperties: 0x02, AdditionalStreamsInfo: 0x03, MainStreamsInfo: 0x04,
  FilesInfo: 0x05, PackInfo: 0x06, UnPackInfo: 0x07, SubStreamsInfo: 0x08, Size: 0x09, CRC: 0x0a,
  Folder: 0x0b, CodersUnPackSize: 0x0c, NumUnPackStream: 0x0d, EmptyStream: 0x0e, EmptyFile: 0x0f,
  Anti: 0x10, Name: 0x11, WinAttributes: 0x15, EncodedHeader: 0x17, Dummy: 0x19,
} as const;

export interface SevenZipCoder {
  /** Method id as hex ("030101" LZMA, "21" LZMA2, "00" Copy, "040108" Deflate, "06f10701" AES). */
  id: string;
  numIn: number;
  numOut: number;
  props: Uint8Array;
}

export interface SevenZipFolder {
  coders: SevenZipCoder[];
  bindPairs: { inIndex: number; outIndex: number }[];
  packedStreams: number[];
  /** Unpack size of every coder output stream. */
  unpackSizes: number[];
  crc?: number;
  /** First pack stream of this folder (index into packSizes). */
  firstPack: number;
}

export interface SevenZipFile {
  name: string;
  size: number;
  hasStream: boolean;
  isDirectory: boolean;
  isAnti: boolean;
  attributes?: number;
  /** Unix mode from the high 16 bits of the attributes when set (0x8000 flag), else 0. */
  unixMode: number;
  isSymlink: boolean;
  crc?: number;
  /** Folder holding the data and the offset inside the folder's unpacked output. */
  folder: number;
  offset: number;
}

export interface SevenZipArchive {
  source: ByteSource;
  version: [number, number];
  files: SevenZipFile[];
  folders: SevenZipFolder[];
  packSizes: number[];
  /** Absolute offset of each pack stream. */
  packOffsets: number[];
  /** The header was itself packed (kEncodedHeader), as 7-Zip writes by default. */
  encodedHeader: boolean;
}

export function isSevenZip(head: Uint8Array): boolean {
  return head.length >= 6 && SEVENZIP_MAGIC.every((b, i) => head[i] === b);
}

const METHOD_NAMES: Record<string, string> = {
  '00': 'Copy', '030101': 'LZMA', '21': 'LZMA2', '040108': 'Deflate', '040109': 'Deflate64', '040202': 'BZip2',
  '030401': 'PPMD', '06f10701': 'AES-256', '03030103': 'BCJ', '0303011b': 'BCJ2', '03030205': 'PPC', '03030401': 'IA64',
  '03030501': 'ARM', '03030701': 'ARMT', '03030805': 'SPARC', '03': 'Delta', '0a': 'ARM64', '04f71101': 'Zstandard',
};

export function methodName(id: string): string {
  return METHOD_NAMES[id] ?? `method ${id}`;
}

class Reader {
  p = 0;
  constructor(readonly b: Uint8Array, readonly file: string) {}
  fail(what: string): never {
    throw new ModelwiseError('MALFORMED', `7z header: ${what}`, { file: this.file, offset: this.p });
  }
  byte(): number {
    if (this.p >= this.b.length) this.fail('ends early');
    return this.b[this.p++]!;
  }
  /** 7z variable-length UINT64 (first byte's high bits give the count of extra bytes). */
  num(): number {
    const first = this.byte();
    let mask = 0x80;
    let value = 0;
    for (let i = 0; i < 8; i++) {
      if ((first & mask) === 0) {
        const high = first & (mask - 1);
        value += high * 2 ** (8 * i);
        break;
      }
      value += this.byte() * 2 ** (8 * i);
      mask >>>= 1;
    }
    if (!Number.isSafeInteger(value)) this.fail('number too large');
    return value;
  }
  /** A count that must fit what is left of the header and `max`. */
  count(max: number, what: string): number {
    const n = this.num();
    if (n > max) this.fail(`${what} ${n} above the limit of ${max}`);
    return n;
  }
  u32(): number {
    if (this.p + 4 > this.b.length) this.fail('ends early');
    const v = view(this.b).getUint32(this.p, true);
    this.p += 4;
    return v;
  }
  bytes(n: number): Uint8Array {
    if (n > this.b.length - this.p) this.fail('field runs past the header');
    const out = this.b.subarray(this.p, this.p + n);
    this.p += n;
    return out;
  }
  bits(n: number): boolean[] {
    if (n > (this.b.length - this.p) * 8) this.fail(`bit vector of ${n} entries runs past the header`);
    const out: boolean[] = new Array(n);
    let mask = 0;
    let cur = 0;
    for (let i = 0; i < n; i++) {
      if (mask === 0) {
        cur = this.byte();
        mask = 0x80;
      }
      out[i] = (cur & mask) !== 0;
      mask >>>= 1;
    }
    return out;
  }
  /** allAreDefined byte, then a bit vector when it is 0. */
  defined(n: number): boolean[] {
    const all = this.byte();
    return all ? new Array<boolean>(n).fill(true) : this.bits(n);
  }
  digests(n: number): (number | undefined)[] {
    if (n > this.b.length - this.p) this.fail(`${n} digests run past the header`);
    const def = this.defined(n);
    return def.map((d) => (d ? this.u32() : undefined));
  }
}

interface StreamsInfo {
  packPos: number;
  packSizes: number[];
  folders: SevenZipFolder[];
  /** Per folder: number of sub-streams, their sizes and CRCs. */
  subCounts: number[];
  subSizes: number[];
  subCrcs: (number | undefined)[];
}

function readPackInfo(r: Reader, s: StreamsInfo): void {
  s.packPos = r.num();
  const n = r.count(SEVENZIP_LIMITS.folders, 'pack streams');
  for (;;) {
    const id = r.num();
    if (id === K.End) break;
    if (id === K.Size) {
      s.packSizes = [];
      for (let i = 0; i < n; i++) s.packSizes.push(r.num());
    } else if (id === K.CRC) r.digests(n);
    else r.fail(`unexpected property ${id} in pack info`);
  }
  if (s.packSizes.length !== n) s.packSizes = new Array<number>(n).fill(0);
}

function readFolder(r: Reader): SevenZipFolder {
  const numCoders = r.count(SEVENZIP_LIMITS.coders, 'coders');
  if (numCoders === 0) r.fail('folder without coders');
  const coders: SevenZipCoder[] = [];
  let totalIn = 0;
  let totalOut = 0;
  for (let i = 0; i < numCoders; i++) {
    const flag = r.byte();
    if (flag & 0x80) r.fail('alternative coder methods are not supported');
    const id = [...r.bytes(flag & 0x0f)].map((b) => b.toString(16).padStart(2, '0')).join('');
    let numIn = 1;
    let numOut = 1;
    if (flag & 0x10) {
      numIn = r.count(SEVENZIP_LIMITS.coders, 'coder in-streams');
      numOut = r.count(SEVENZIP_LIMITS.coders, 'coder out-streams');
    }
    const props = flag & 0x20 ? r.bytes(r.count(1 << 16, 'coder properties')) : new Uint8Array(0);
    coders.push({ id, numIn, numOut, props });
    totalIn += numIn;
    totalOut += numOut;
  }
  if (totalOut === 0) r.fail('folder without output streams');
  const bindPairs: { inIndex: number; outIndex: number }[] = [];
  for (let i = 0; i < totalOut - 1; i++) bindPairs.push({ inIndex: r.num(), outIndex: r.num() });
  const numPacked = totalIn - bindPairs.length;
  if (numPacked < 1) r.fail('folder without packed streams');
  const packedStreams: number[] = [];
  if (numPacked === 1) {
    for (let i = 0; i < totalIn; i++) if (!bindPairs.some((b) => b.inIndex === i)) packedStreams.push(i);
  } else for (let i = 0; i < numPacked; i++) packedStreams.push(r.num());
  return { coders, bindPairs, packedStreams, unpackSizes: [], firstPack: 0 };
}

function readUnpackInfo(r: Reader, s: StreamsInfo): void {
  if (r.num() !== K.Folder) r.fail('expected folder list');
  const n = r.count(SEVENZIP_LIMITS.folders, 'folders');
  if (r.byte() !== 0) r.fail('external folder list is not supported');
  s.folders = [];
  let pack = 0;
  for (let i = 0; i < n; i++) {
    const f = readFolder(r);
    f.firstPack = pack;
    pack += f.packedStreams.length;
    s.folders.push(f);
  }
  if (r.num() !== K.CodersUnPackSize) r.fail('expected coder unpack sizes');
  for (const f of s.folders) {
    const outs = f.coders.reduce((t, c) => t + c.numOut, 0);
    for (let i = 0; i < outs; i++) f.unpackSizes.push(r.num());
  }
  for (;;) {
    const id = r.num();
    if (id === K.End) break;
    if (id === K.CRC) {
      const d = r.digests(n);
      d.forEach((c, i) => (s.folders[i]!.crc = c));
    } else r.fail(`unexpected property ${id} in unpack info`);
  }
}

/** The folder's final output size: the out-stream no bind pair consumes. */
export function folderUnpackSize(f: SevenZipFolder): number {
  for (let i = f.unpackSizes.length - 1; i >= 0; i--) if (!f.bindPairs.some((b) => b.outIndex === i)) return f.unpackSizes[i]!;
  return 0;
}

function readSubStreams(r: Reader, s: StreamsInfo): void {
  s.subCounts = s.folders.map(() => 1);
  let id = r.num();
  if (id === K.NumUnPackStream) {
    s.subCounts = s.folders.map(() => r.count(SEVENZIP_LIMITS.files, 'sub-streams'));
    if (s.subCounts.reduce((a, b) => a + b, 0) > SEVENZIP_LIMITS.files) r.fail(`more than ${SEVENZIP_LIMITS.files} sub-streams`);
    id = r.num();
  }
  s.subSizes = [];
  const hasSizes = id === K.Size;
  s.folders.forEach((f, i) => {
    const n = s.subCounts[i]!;
    if (n === 0) return;
    let sum = 0;
    if (hasSizes) {
      for (let j = 0; j < n - 1; j++) {
        const v = r.num();
        s.subSizes.push(v);
        sum += v;
      }
    }
    const total = folderUnpackSize(f);
    if (sum > total) r.fail('sub-stream sizes exceed their folder');
    s.subSizes.push(total - sum);
  });
  if (hasSizes) id = r.num();
  // CRCs for sub-streams whose CRC is not known from the folder.
  let unknown = 0;
  s.folders.forEach((f, i) => {
    const n = s.subCounts[i]!;
    if (n !== 1 || f.crc === undefined) unknown += n;
  });
  s.subCrcs = [];
  while (id !== K.End) {
    if (id === K.CRC) {
      const d = r.digests(unknown);
      let k = 0;
      s.folders.forEach((f, i) => {
        const n = s.subCounts[i]!;
        if (n === 1 && f.crc !== undefined) s.subCrcs.push(f.crc);
        else for (let j = 0; j < n; j++) s.subCrcs.push(d[k++]);
      });
    } else skipProperty(r);
    id = r.num();
  }
  if (s.subCrcs.length === 0) s.folders.forEach((f, i) => {
    const n = s.subCounts[i]!;
    for (let j = 0; j < n; j++) s.subCrcs.push(n === 1 ? f.crc : undefined);
  });
}

function skipProperty(r: Reader): void {
  r.bytes(r.num());
}

function readStreamsInfo(r: Reader): StreamsInfo {
  const s: StreamsInfo = { packPos: 0, packSizes: [], folders: [], subCounts: [], subSizes: [], subCrcs: [] };
  let sub = false;
  for (;;) {
    const id = r.num();
    if (id === K.End) break;
    if (id === K.PackInfo) readPackInfo(r, s);
    else if (id === K.UnPackInfo) readUnpackInfo(r, s);
    else if (id === K.SubStreamsInfo) {
      readSubStreams(r, s);
      sub = true;
    } else r.fail(`unexpected property ${id} in streams info`);
  }
  if (!sub) {
    s.subCounts = s.folders.map(() => 1);
    s.subSizes = s.folders.map(folderUnpackSize);
    s.subCrcs = s.folders.map((f) => f.crc);
  }
  return s;
}

function utf16Names(b: Uint8Array, n: number, file: string): string[] {
  const names: string[] = [];
  let start = 0;
  for (let i = 0; i + 1 < b.length && names.length < n; i += 2) {
    if (b[i] === 0 && b[i + 1] === 0) {
      let s = '';
      for (let j = start; j < i; j += 2) s += String.fromCharCode(b[j]! | (b[j + 1]! << 8));
      names.push(s);
      start = i + 2;
    }
  }
  if (names.length !== n) throw new ModelwiseError('MALFORMED', `7z header: ${names.length} file names for ${n} files`, { file });
  return names;
}

/** Open a 7z archive: read and decode its header (nothing of the member data). */
export async function openSevenZip(source: ByteSource): Promise<SevenZipArchive> {
  const file = source.name;
  const sig = await readExact(source, 0, 32, '7z signature header');
  if (!isSevenZip(sig)) throw new ModelwiseError('MALFORMED', 'not a 7z archive', { file, expected: "7z\\xBC\\xAF'\\x1C" });
  const dv = view(sig);
  const nextOffset = u64le(dv, 12);
  const nextSize = u64le(dv, 20);
  if (nextOffset === undefined || nextSize === undefined || 32 + nextOffset + nextSize > source.size) {
    throw new ModelwiseError('UNEXPECTED_EOF', '7z header lies past the end of the archive (truncated?)', { file, offset: 12 });
  }
  if (nextSize > SEVENZIP_LIMITS.header) throw new ModelwiseError('LIMIT_EXCEEDED', `7z header of ${nextSize} bytes exceeds the ${SEVENZIP_LIMITS.header}-byte limit`, { file });
  const archive: SevenZipArchive = { source, version: [sig[6]!, sig[7]!], files: [], folders: [], packSizes: [], packOffsets: [], encodedHeader: false };
  if (nextSize === 0) return archive; // empty archive
  let header = await readExact(source, 32 + nextOffset, nextSize, '7z header');
  if (crc32(header) !== dv.getUint32(28, true)) throw new ModelwiseError('MALFORMED', '7z header CRC mismatch', { file, offset: 32 + nextOffset });
  for (let depth = 0; ; depth++) {
    const r = new Reader(header, file);
    const id = r.num();
    if (id === K.Header) return readHeader(r, archive);
    if (id !== K.EncodedHeader) r.fail(`unexpected top-level property ${id}`);
    if (depth >= SEVENZIP_LIMITS.headerNesting) r.fail('too many nested encoded headers');
    archive.encodedHeader = true;
    const s = readStreamsInfo(r);
    if (s.folders.length === 0) r.fail('encoded header without a folder');
    const tmp = layout(archive, s, source);
    const f = s.folders[0]!;
    if (folderUnpackSize(f) > SEVENZIP_LIMITS.header) throw new ModelwiseError('LIMIT_EXCEEDED', `7z encoded header unpacks to ${folderUnpackSize(f)} bytes`, { file });
    header = await decodeFolder(tmp, 0, SEVENZIP_LIMITS.header);
    if (f.crc !== undefined && crc32(header) !== f.crc) throw new ModelwiseError('MALFORMED', '7z encoded header CRC mismatch', { file });
  }
}

/** Pack stream offsets of a streams info, as an archive view (for decoding). */
function layout(base: SevenZipArchive, s: StreamsInfo, source: ByteSource): SevenZipArchive {
  const packOffsets: number[] = [];
  let o = 32 + s.packPos;
  for (const size of s.packSizes) {
    packOffsets.push(o);
    o += size;
  }
  if (o > source.size) throw new ModelwiseError('UNEXPECTED_EOF', '7z pack streams run past the end of the archive', { file: source.name });
  return { ...base, folders: s.folders, packSizes: s.packSizes, packOffsets };
}

function readHeader(r: Reader, archive: SevenZipArchive): SevenZipArchive {
  let id = r.num();
  if (id === K.ArchiveProperties) {
    for (;;) {
      const t = r.num();
      if (t === K.End) break;
      skipProperty(r);
    }
    id = r.num();
  }
  if (id === K.AdditionalStreamsInfo) {
    readStreamsInfo(r);
    id = r.num();
  }
  let s: StreamsInfo = { packPos: 0, packSizes: [], folders: [], subCounts: [], subSizes: [], subCrcs: [] };
  if (id === K.MainStreamsInfo) {
    s = readStreamsInfo(r);
    id = r.num();
  }
  const a = layout(archive, s, archive.source);
  if (id === K.FilesInfo) {
    const n = r.num();
    if (n > SEVENZIP_LIMITS.files) throw new ModelwiseError('LIMIT_EXCEEDED', `7z archive lists ${n} files, above the limit of ${SEVENZIP_LIMITS.files}`, { file: r.file });
    let emptyStream = new Array<boolean>(n).fill(false);
    let emptyFile: boolean[] = [];
    let anti: boolean[] = [];
    let names: string[] = [];
    let attrs: (number | undefined)[] = [];
    for (;;) {
      const t = r.num();
      if (t === K.End) break;
      const size = r.num();
      const end = r.p + size;
      if (end > r.b.length) r.fail('file property runs past the header');
      const sub = new Reader(r.b.subarray(r.p, end), r.file);
      const emptyCount = () => emptyStream.filter(Boolean).length;
      switch (t) {
        case K.EmptyStream: emptyStream = sub.bits(n); break;
        case K.EmptyFile: emptyFile = sub.bits(emptyCount()); break;
        case K.Anti: anti = sub.bits(emptyCount()); break;
        case K.Name: {
          if (sub.byte() !== 0) r.fail('external file names are not supported');
          names = utf16Names(sub.b.subarray(1), n, r.file);
          break;
        }
        case K.WinAttributes: {
          const def = sub.defined(n);
          if (sub.byte() !== 0) r.fail('external attributes are not supported');
          attrs = def.map((d) => (d ? sub.u32() : undefined));
          break;
        }
        default: break; // times, start positions, dummy padding
      }
      r.p = end;
    }
    let folder = 0;
    let inFolder = 0;
    let offset = 0;
    let stream = 0;
    let emptyIndex = 0;
    for (let i = 0; i < n; i++) {
      const hasStream = !emptyStream[i];
      const attr = attrs[i];
      const unixMode = attr !== undefined && attr & 0x8000 ? attr >>> 16 : 0;
      const f: SevenZipFile = {
        name: names[i] ?? `#${i}`,
        size: 0,
        hasStream,
        isDirectory: false,
        isAnti: false,
        attributes: attr,
        unixMode,
        isSymlink: (unixMode & 0o170000) === 0o120000,
        folder: -1,
        offset: 0,
      };
      if (hasStream) {
        while (folder < s.folders.length && inFolder >= (s.subCounts[folder] ?? 0)) {
          folder++;
          inFolder = 0;
          offset = 0;
        }
        if (folder >= s.folders.length) r.fail('more files with data than streams');
        f.folder = folder;
        f.offset = offset;
        f.size = s.subSizes[stream] ?? 0;
        f.crc = s.subCrcs[stream];
        offset += f.size;
        inFolder++;
        stream++;
      } else {
        const isEmptyFile = emptyFile[emptyIndex] ?? false;
        f.isDirectory = !isEmptyFile || (attr !== undefined && (attr & 0x10) !== 0);
        f.isAnti = anti[emptyIndex] ?? false;
        emptyIndex++;
      }
      a.files.push(f);
    }
    id = r.num();
  }
  if (id !== K.End) r.fail(`unexpected property ${id} after files info`);
  return a;
}

const CODECS = new Set(['00', '030101', '21', '040108']);
const FILTERS = new Set(['03030103', '03030501', '03030701', '03030205', '03030805', '03']);

/**
 * The folder's coders in decoding order (packed stream first, final output last), or why it cannot
 * be decoded: only linear chains of one-in/one-out coders (a codec, then filters) are supported.
 */
function chain(f: SevenZipFolder): { order: number[] } | { problem: string } {
  if (f.packedStreams.length !== 1 || f.coders.some((c) => c.numIn !== 1 || c.numOut !== 1)) {
    return { problem: `a coder graph with ${f.packedStreams.length} packed streams (${f.coders.map((c) => methodName(c.id)).join(' + ')}) is not supported` };
  }
  // With one in and one out per coder, coder i owns in-stream i and out-stream i.
  const order: number[] = [];
  let coder = f.packedStreams[0]!;
  for (;;) {
    if (coder >= f.coders.length || order.includes(coder)) return { problem: 'a malformed coder graph' };
    order.push(coder);
    const bind = f.bindPairs.find((b) => b.outIndex === coder);
    if (!bind) break;
    coder = bind.inIndex;
  }
  if (order.length !== f.coders.length) return { problem: 'a malformed coder graph' };
  return { order };
}

/** Why a folder cannot be decoded (unsupported coder, encryption), or undefined when it can. */
export function folderProblem(a: SevenZipArchive, folder: number): string | undefined {
  const f = a.folders[folder];
  if (!f) return 'no such folder';
  if (f.coders.some((c) => c.id === '06f10701')) return 'encrypted (AES-256)';
  const c = chain(f);
  if ('problem' in c) return c.problem;
  const [first, ...rest] = c.order.map((i) => f.coders[i]!.id);
  if (!CODECS.has(first!)) return `${methodName(first!)} compression is not supported`;
  const bad = rest.find((id) => !FILTERS.has(id) && id !== '00');
  if (bad) return `the ${methodName(bad)} filter is not supported`;
  return undefined;
}

/**
 * Decode one folder's output (at most `cap` bytes: more throws LIMIT_EXCEEDED before decoding).
 * Unsupported coders throw UNSUPPORTED.
 */
export async function decodeFolder(a: SevenZipArchive, folder: number, cap: number = SEVENZIP_LIMITS.folderBytes): Promise<Uint8Array> {
  const file = a.source.name;
  const problem = folderProblem(a, folder);
  if (problem) throw new ModelwiseError('UNSUPPORTED', `7z folder ${folder}: ${problem}`, { file });
  const f = a.folders[folder]!;
  const size = folderUnpackSize(f);
  if (size > cap || f.unpackSizes.some((n) => n > cap)) throw new ModelwiseError('LIMIT_EXCEEDED', `7z folder ${folder} unpacks to ${size} bytes, above the ${cap}-byte limit`, { file });
  const pack = f.firstPack;
  const packSize = a.packSizes[pack];
  const packAt = a.packOffsets[pack];
  if (packSize === undefined || packAt === undefined) throw new ModelwiseError('MALFORMED', `7z folder ${folder} has no pack stream`, { file });
  if (packSize > cap + cap / 8 + 1024 * 1024) throw new ModelwiseError('LIMIT_EXCEEDED', `7z pack stream of ${packSize} bytes`, { file });
  let data = await readExact(a.source, packAt, packSize, '7z pack stream');
  const order = (chain(f) as { order: number[] }).order;
  for (const i of order) {
    const c = f.coders[i]!;
    const outSize = f.unpackSizes[i] ?? 0;
    data = runCoder(c, data, outSize, `${file} (7z folder ${folder}, ${methodName(c.id)})`);
    if (data.length !== outSize) throw new ModelwiseError('MALFORMED', `7z folder ${folder}: ${methodName(c.id)} gives ${data.length} bytes, not ${outSize}`, { file });
  }
  return data;
}

function runCoder(c: SevenZipCoder, input: Uint8Array, size: number, file: string): Uint8Array {
  switch (c.id) {
    case '00':
      if (input.length < size) throw new ModelwiseError('UNEXPECTED_EOF', 'stored 7z data is shorter than its size', { file });
      return input.subarray(0, size);
    case '030101':
      return lzmaDecode(input, parseLzmaProps(c.props, file), size, { file });
    case '21':
      return lzma2Decode(input, size, { file });
    case '040108':
      try {
        return inflateSync(input, { out: new Uint8Array(size) });
      } catch (e) {
        throw new ModelwiseError('MALFORMED', `invalid deflate data: ${(e as Error).message}`, { file });
      }
    default: {
      const out = input.subarray(0, size); // filters work in place (the buffer is ours: read or decoded here)
      if (out.length < size) throw new ModelwiseError('UNEXPECTED_EOF', 'filter input is shorter than its size', { file });
      filter(c, out);
      return out;
    }
  }
}

/** Branch-call-jump filters (decoders, from xz's simple/*.c) and Delta, in place, stream position 0. */
function filter(c: SevenZipCoder, b: Uint8Array): void {
  const n = b.length;
  switch (c.id) {
    case '03': {
      const dist = (c.props[0] ?? 0) + 1;
      for (let i = dist; i < n; i++) b[i] = (b[i]! + b[i - dist]!) & 0xff;
      return;
    }
    case '03030103':
      x86(b);
      return;
    case '03030501':
      for (let i = 0; i + 4 <= n; i += 4) {
        if (b[i + 3] !== 0xeb) continue;
        const src = ((b[i + 2]! << 16) | (b[i + 1]! << 8) | b[i]!) << 2;
        const dest = ((src - (i + 8)) >>> 2) >>> 0;
        b[i + 2] = (dest >>> 16) & 0xff;
        b[i + 1] = (dest >>> 8) & 0xff;
        b[i] = dest & 0xff;
      }
      return;
    case '03030701':
      for (let i = 0; i + 4 <= n; i += 2) {
        if ((b[i + 1]! & 0xf8) !== 0xf0 || (b[i + 3]! & 0xf8) !== 0xf8) continue;
        const src = (((b[i + 1]! & 7) << 19) | (b[i]! << 11) | ((b[i + 3]! & 7) << 8) | b[i + 2]!) << 1;
        const dest = ((src - (i + 4)) >>> 1) >>> 0;
        b[i + 1] = 0xf0 | ((dest >>> 19) & 7);
        b[i] = (dest >>> 11) & 0xff;
        b[i + 3] = 0xf8 | ((dest >>> 8) & 7);
        b[i + 2] = dest & 0xff;
        i += 2;
      }
      return;
    case '03030205':
      for (let i = 0; i + 4 <= n; i += 4) {
        if (b[i]! >>> 2 !== 0x12 || (b[i + 3]! & 3) !== 1) continue;
        const src = (((b[i]! & 3) << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | (b[i + 3]! & ~3)) >>> 0;
        const dest = (src - i) >>> 0;
        b[i] = 0x48 | ((dest >>> 24) & 3);
        b[i + 1] = (dest >>> 16) & 0xff;
        b[i + 2] = (dest >>> 8) & 0xff;
        b[i + 3] = (b[i + 3]! & 3) | (dest & 0xfc);
      }
      return;
    case '03030805':
      for (let i = 0; i + 4 <= n; i += 4) {
        if (!((b[i] === 0x40 && (b[i + 1]! & 0xc0) === 0) || (b[i] === 0x7f && (b[i + 1]! & 0xc0) === 0xc0))) continue;
        const src = ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) << 2;
        let dest = ((src - i) >>> 2) >>> 0;
        dest = (((0 - ((dest >>> 22) & 1)) << 22) & 0x3fffffff) | (dest & 0x3fffff) | 0x40000000;
        b[i] = (dest >>> 24) & 0xff;
        b[i + 1] = (dest >>> 16) & 0xff;
        b[i + 2] = (dest >>> 8) & 0xff;
        b[i + 3] = dest & 0xff;
      }
      return;
  }
}

const X86_ALLOWED = [true, true, true, false, true, false, false, false];
const X86_BIT = [0, 1, 2, 2, 3, 3, 3, 3];
const msByte = (b: number) => b === 0 || b === 0xff;

/** BCJ x86 decoder over a whole stream (xz simple/x86.c with now_pos = 0). */
function x86(buf: Uint8Array): void {
  const size = buf.length;
  if (size < 5) return;
  let prevMask = 0;
  let prevPos = -5;
  const limit = size - 5;
  let p = 0;
  while (p <= limit) {
    let b = buf[p]!;
    if (b !== 0xe8 && b !== 0xe9) {
      p++;
      continue;
    }
    const offset = p - prevPos;
    prevPos = p;
    if (offset > 5) prevMask = 0;
    else for (let i = 0; i < offset; i++) prevMask = ((prevMask & 0x77) << 1) & 0xff;
    b = buf[p + 4]!;
    if (msByte(b) && X86_ALLOWED[(prevMask >>> 1) & 7] && prevMask >>> 1 < 0x10) {
      let src = ((b << 24) | (buf[p + 3]! << 16) | (buf[p + 2]! << 8) | buf[p + 1]!) >>> 0;
      let dest: number;
      for (;;) {
        dest = (src - (p + 5)) >>> 0;
        if (prevMask === 0) break;
        const i = X86_BIT[prevMask >>> 1]!;
        b = (dest >>> (24 - i * 8)) & 0xff;
        if (!msByte(b)) break;
        src = (dest ^ (2 ** (32 - i * 8) - 1)) >>> 0;
      }
      buf[p + 4] = ~(((dest >>> 24) & 1) - 1) & 0xff;
      buf[p + 3] = (dest >>> 16) & 0xff;
      buf[p + 2] = (dest >>> 8) & 0xff;
      buf[p + 1] = dest & 0xff;
      p += 5;
      prevMask = 0;
    } else {
      p++;
      prevMask |= 1;
      if (msByte(b)) prevMask |= 0x10;
    }
  }
}
