/**
 * Zip reader over a ByteSource (APPNOTE.TXT 6.3.10: https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT).
 *
 * Written by hand because the scanner must see raw headers (local vs central mismatches, flags,
 * names as stored) and because multi-GB PyTorch archives must be listed without reading them:
 * only the end records and the central directory are read. Stored members open as slices;
 * deflated ones are inflated on demand under size and ratio caps. Zip64 (always written by
 * torch.save) and archives with data prepended (TFLite with appended metadata zip) are handled.
 */
import { Inflate } from 'fflate';
import { ModelwiseError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { decodeLatin1, tryDecodeUtf8, u64le, view } from '../io/bytes.js';
import { BytesSource, SliceSource, readExact, type ByteSource } from '../io/source.js';
import { safeRelativePath, type SourceTree, type TreeEntry } from '../io/tree.js';

const SIG_EOCD = 0x06054b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;

export interface ZipEntry {
  /** Name exactly as stored (decoded as UTF-8 when flagged or valid, else CP437 ≈ latin1). */
  name: string;
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  /** Offset of the local header, corrected for any data prepended to the archive. */
  localHeaderOffset: number;
  /** Unix mode from the external attributes when made on Unix, else 0. */
  unixMode: number;
  versionMadeBy: number;
  encrypted: boolean;
  isDirectory: boolean;
  isSymlink: boolean;
}

export interface ZipArchive {
  source: ByteSource;
  entries: ZipEntry[];
  /** Bytes before the archive proper (0 for a plain zip). */
  prefixLength: number;
  zip64: boolean;
  comment: string;
  /** Set when the central directory was cut at LIMITS.zipEntries. */
  truncated: boolean;
}

/** Cheap test: does the tail hold an end-of-central-directory record? */
export function findEocd(tail: Uint8Array): number {
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail[i] === 0x50 && tail[i + 1] === 0x4b && tail[i + 2] === 0x05 && tail[i + 3] === 0x06) {
      const commentLength = tail[i + 20]! | (tail[i + 21]! << 8);
      if (i + 22 + commentLength <= tail.length) return i;
    }
  }
  return -1;
}

/**
 * Read the central directory. Throws MALFORMED when the source is not a zip; `tail` may be passed
 * when the caller already read it (the Probe does).
 */
export async function openZip(source: ByteSource, tail?: Uint8Array): Promise<ZipArchive> {
  const size = source.size;
  const tailLength = Math.min(size, LIMITS.probeTail);
  const t = tail && tail.length === tailLength ? tail : await readExact(source, size - tailLength, tailLength, 'zip end record');
  const tailStart = size - tailLength;
  const at = findEocd(t);
  if (at < 0) throw new ModelwiseError('MALFORMED', 'no zip end-of-central-directory record', { file: source.name, expected: 'PK\\x05\\x06' });
  const dv = view(t);
  let entriesTotal = dv.getUint16(at + 10, true);
  let cdSize: number = dv.getUint32(at + 12, true);
  let cdOffset: number = dv.getUint32(at + 16, true);
  const commentLength = dv.getUint16(at + 20, true);
  const comment = decodeLatin1(t.subarray(at + 22, at + 22 + commentLength));
  let eocdAbs = tailStart + at;
  let zip64 = false;
  // Zip64 locator sits 20 bytes before the EOCD.
  if (at >= 20 && dv.getUint32(at - 20, true) === SIG_EOCD64_LOCATOR) {
    const recOffset = u64le(dv, at - 20 + 8);
    if (recOffset !== undefined) {
      const rec = await source.read(recOffset, 56);
      if (rec.length === 56 && view(rec).getUint32(0, true) === SIG_EOCD64) {
        const rv = view(rec);
        zip64 = true;
        entriesTotal = u64le(rv, 32) ?? Number.MAX_SAFE_INTEGER;
        cdSize = u64le(rv, 40) ?? Number.MAX_SAFE_INTEGER;
        cdOffset = u64le(rv, 48) ?? Number.MAX_SAFE_INTEGER;
        eocdAbs = recOffset;
      } else {
        // The locator may be relative to a prefixed archive: search just before the locator.
        const guess = tailStart + at - 20 - 56;
        if (guess >= 0) {
          const rec2 = await source.read(guess, 56);
          if (rec2.length === 56 && view(rec2).getUint32(0, true) === SIG_EOCD64) {
            const rv = view(rec2);
            zip64 = true;
            entriesTotal = u64le(rv, 32) ?? Number.MAX_SAFE_INTEGER;
            cdSize = u64le(rv, 40) ?? Number.MAX_SAFE_INTEGER;
            cdOffset = u64le(rv, 48) ?? Number.MAX_SAFE_INTEGER;
            eocdAbs = guess;
          }
        }
      }
    }
  }
  // Where the central directory really is (it ends where the end records start): the difference
  // with the stated offset is data prepended to the archive.
  const realCdStart = eocdAbs - cdSize;
  if (realCdStart < 0) {
    throw new ModelwiseError('MALFORMED', `central directory size ${cdSize} exceeds the file`, { file: source.name, offset: eocdAbs });
  }
  const prefixLength = realCdStart - cdOffset;
  if (prefixLength < 0) {
    throw new ModelwiseError('MALFORMED', `central directory offset ${cdOffset} points past its end records`, { file: source.name, offset: eocdAbs });
  }
  if (cdSize > LIMITS.zipCentralDirectory) {
    throw new ModelwiseError('LIMIT_EXCEEDED', `zip central directory of ${cdSize} bytes exceeds the ${LIMITS.zipCentralDirectory}-byte limit`, {
      file: source.name,
      offset: realCdStart,
    });
  }
  const cd = await readExact(source, realCdStart, cdSize, 'zip central directory');
  const cdv = view(cd);
  const entries: ZipEntry[] = [];
  let p = 0;
  let truncated = false;
  while (p + 46 <= cd.length && cdv.getUint32(p, true) === SIG_CENTRAL) {
    if (entries.length >= LIMITS.zipEntries) {
      truncated = true;
      break;
    }
    const versionMadeBy = cdv.getUint16(p + 4, true);
    const flags = cdv.getUint16(p + 8, true);
    const method = cdv.getUint16(p + 10, true);
    const crc32 = cdv.getUint32(p + 16, true);
    let compressedSize: number = cdv.getUint32(p + 20, true);
    let uncompressedSize: number = cdv.getUint32(p + 24, true);
    const nameLength = cdv.getUint16(p + 28, true);
    const extraLength = cdv.getUint16(p + 30, true);
    const commentLen = cdv.getUint16(p + 32, true);
    const external = cdv.getUint32(p + 38, true);
    let localHeaderOffset: number = cdv.getUint32(p + 42, true);
    const end = p + 46 + nameLength + extraLength + commentLen;
    if (end > cd.length) break;
    const rawName = cd.subarray(p + 46, p + 46 + nameLength);
    const name = (flags & 0x800 ? tryDecodeUtf8(rawName) : undefined) ?? tryDecodeUtf8(rawName) ?? decodeLatin1(rawName);
    // Zip64 extended information extra field (0x0001): only the fields whose 32-bit value is 0xFFFFFFFF.
    let e = p + 46 + nameLength;
    const extraEnd = e + extraLength;
    while (e + 4 <= extraEnd) {
      const id = cdv.getUint16(e, true);
      const len = cdv.getUint16(e + 2, true);
      if (id === 0x0001) {
        let q = e + 4;
        const qEnd = Math.min(e + 4 + len, extraEnd);
        if (uncompressedSize === 0xffffffff && q + 8 <= qEnd) {
          uncompressedSize = u64le(cdv, q) ?? Number.MAX_SAFE_INTEGER;
          q += 8;
        }
        if (compressedSize === 0xffffffff && q + 8 <= qEnd) {
          compressedSize = u64le(cdv, q) ?? Number.MAX_SAFE_INTEGER;
          q += 8;
        }
        if (localHeaderOffset === 0xffffffff && q + 8 <= qEnd) {
          localHeaderOffset = u64le(cdv, q) ?? Number.MAX_SAFE_INTEGER;
          q += 8;
        }
      }
      e += 4 + len;
    }
    const hostOs = versionMadeBy >> 8;
    const unixMode = hostOs === 3 ? external >>> 16 : 0;
    entries.push({
      name,
      method,
      flags,
      crc32,
      compressedSize,
      uncompressedSize,
      localHeaderOffset: localHeaderOffset + prefixLength,
      unixMode,
      versionMadeBy,
      encrypted: (flags & 1) === 1,
      isDirectory: name.endsWith('/'),
      isSymlink: (unixMode & 0o170000) === 0o120000,
    });
    p = end;
  }
  if (entries.length === 0 && entriesTotal > 0) {
    throw new ModelwiseError('MALFORMED', `central directory announces ${entriesTotal} entries but none could be read`, {
      file: source.name,
      offset: realCdStart,
    });
  }
  return { source, entries, prefixLength, zip64, comment, truncated };
}

/** Offset of a member's data: reads its local header (30 bytes + name + extra). */
export async function memberDataOffset(zip: ZipArchive, entry: ZipEntry): Promise<number> {
  const h = await readExact(zip.source, entry.localHeaderOffset, 30, `local header of ${entry.name}`);
  const dv = view(h);
  if (dv.getUint32(0, true) !== SIG_LOCAL) {
    throw new ModelwiseError('MALFORMED', `bad local header signature for member ${entry.name}`, {
      file: zip.source.name,
      offset: entry.localHeaderOffset,
      expected: 'PK\\x03\\x04',
    });
  }
  const start = entry.localHeaderOffset + 30 + dv.getUint16(26, true) + dv.getUint16(28, true);
  if (start + entry.compressedSize > zip.source.size) {
    throw new ModelwiseError('UNEXPECTED_EOF', `member ${entry.name} (${entry.compressedSize} bytes) runs past the end of the archive`, {
      file: zip.source.name,
      offset: start,
    });
  }
  return start;
}

function memberName(zip: ZipArchive, entry: ZipEntry): string {
  return `${zip.source.name} > ${entry.name}`;
}

export interface MemberReadOptions {
  /**
   * Read a member whose encryption flag (general-purpose bit 0) is set as if it were plain data, the
   * way torch's zip reader does (it ignores the flag: CVE-2025-1945). For the scanner only.
   */
  ignoreEncryption?: boolean;
}

/**
 * Open a member as a byte source. Stored members are slices (nothing read); deflated members are
 * inflated whole, within LIMITS.zipInflateMember and LIMITS.zipInflateRatio, and must inflate to
 * exactly their declared size (more or less is MALFORMED / UNEXPECTED_EOF naming the member).
 */
export async function openMember(zip: ZipArchive, entry: ZipEntry, maxBytes: number = LIMITS.zipInflateMember, opts: MemberReadOptions = {}): Promise<ByteSource> {
  const name = memberName(zip, entry);
  if (entry.encrypted && !opts.ignoreEncryption) throw new ModelwiseError('UNSUPPORTED', 'member is encrypted', { file: name });
  const start = await memberDataOffset(zip, entry);
  if (entry.method === 0) return new SliceSource(zip.source, start, entry.compressedSize, name);
  if (entry.method !== 8) throw new ModelwiseError('UNSUPPORTED', `compression method ${entry.method} is not supported`, { file: name, expected: 'stored (0) or deflate (8)' });
  if (entry.uncompressedSize > maxBytes) {
    throw new ModelwiseError('LIMIT_EXCEEDED', `deflated member of ${entry.uncompressedSize} bytes exceeds the ${maxBytes}-byte inflate limit`, { file: name });
  }
  const bytes = await inflateMember(zip, entry, start, entry.uncompressedSize);
  return new BytesSource(bytes, name);
}

/**
 * Read the first `length` bytes of a member (stored or deflated) — what detectors need to sniff a
 * member by content without inflating all of it. Never more than the member's declared size; a
 * prefix that covers the whole member is checked like openMember (exact declared size).
 */
export async function readMemberPrefix(zip: ZipArchive, entry: ZipEntry, length: number, opts: MemberReadOptions = {}): Promise<Uint8Array> {
  const name = memberName(zip, entry);
  if (!Number.isSafeInteger(length) || length < 0) throw new ModelwiseError('MALFORMED', `invalid prefix length ${length}`, { file: name });
  if (entry.encrypted && !opts.ignoreEncryption) throw new ModelwiseError('UNSUPPORTED', 'member is encrypted', { file: name });
  const start = await memberDataOffset(zip, entry);
  if (entry.method === 0) return zip.source.read(start, Math.min(length, entry.compressedSize));
  if (entry.method !== 8) throw new ModelwiseError('UNSUPPORTED', `compression method ${entry.method} is not supported`, { file: name });
  return inflateMember(zip, entry, start, Math.min(length, entry.uncompressedSize));
}

/** Compressed bytes read from the source per read, and fed to the inflater per push (a push of
 * n bytes can produce ~1032·n bytes at once, so pushes stay small to bound memory). */
const READ_STEP = 1024 * 1024;
const PUSH_STEP = 16 * 1024;

/** fflate's `Inflate` exposes no "stream ended" event; its state object does (final block seen, no
 * block in progress). Without it, data past the end would pile up in the inflater's input buffer. */
function streamEnded(inflater: Inflate): boolean {
  const s = (inflater as unknown as { s?: { f?: number; l?: unknown } }).s;
  return s !== undefined && !!s.f && !s.l;
}

/**
 * Inflate the first `want` bytes of a deflated member (`want` ≤ its declared size). When `want` is
 * the declared size, the whole stream is inflated and must produce exactly that many bytes.
 */
async function inflateMember(zip: ZipArchive, entry: ZipEntry, start: number, want: number): Promise<Uint8Array> {
  const name = memberName(zip, entry);
  const declared = entry.uncompressedSize;
  const whole = want >= declared;
  const chunks: Uint8Array[] = [];
  let kept = 0; // bytes kept (≤ want)
  let produced = 0; // bytes the stream produced (may pass the declared size)
  const inflater = new Inflate((chunk) => {
    produced += chunk.length;
    if (kept < want && chunk.length > 0) {
      const take = Math.min(chunk.length, want - kept);
      chunks.push(take === chunk.length ? chunk : chunk.subarray(0, take));
      kept += take;
    }
  });
  let consumed = 0;
  const full = () => (whole ? produced > declared : kept >= want);
  try {
    if (!whole && want === 0) return new Uint8Array(0);
    while (consumed < entry.compressedSize && !full() && !streamEnded(inflater)) {
      const n = Math.min(READ_STEP, entry.compressedSize - consumed);
      const part = await readExact(zip.source, start + consumed, n, `deflated member ${entry.name}`);
      for (let i = 0; i < part.length && !full() && !streamEnded(inflater); i += PUSH_STEP) {
        const piece = part.subarray(i, i + PUSH_STEP);
        consumed += piece.length;
        inflater.push(piece, consumed >= entry.compressedSize);
        if (whole && produced > 1024 * 1024 && produced / consumed > LIMITS.zipInflateRatio) {
          throw new ModelwiseError('LIMIT_EXCEEDED', `compression ratio above ${LIMITS.zipInflateRatio}:1 (zip bomb?)`, { file: name, offset: start + consumed });
        }
      }
    }
  } catch (e) {
    if (e instanceof ModelwiseError) throw e;
    const eof = (e as { code?: unknown }).code === 0;
    throw new ModelwiseError(eof ? 'UNEXPECTED_EOF' : 'MALFORMED', `${eof ? 'deflate stream ends early' : 'invalid deflate data'}: ${(e as Error).message}`, {
      file: name,
      offset: start + consumed,
    });
  }
  if (whole && produced > declared) {
    throw new ModelwiseError('MALFORMED', `member inflates past its declared size of ${declared} bytes`, { file: name, offset: start + consumed });
  }
  if (kept < want) {
    const ended = streamEnded(inflater);
    throw new ModelwiseError(
      ended ? 'MALFORMED' : 'UNEXPECTED_EOF',
      ended
        ? `member inflates to ${kept} bytes, less than its declared size of ${declared} bytes`
        : `deflate stream ends after ${kept} of ${declared} declared bytes (${consumed} compressed bytes read)`,
      { file: name, offset: start + consumed },
    );
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(kept);
  let p = 0;
  for (const c of chunks) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}

/** A zip archive seen as a SourceTree; unsafe member names are skipped (the scanner reports them). */
export class ZipTree implements SourceTree {
  private readonly byName = new Map<string, ZipEntry>();
  constructor(readonly zip: ZipArchive) {
    for (const e of zip.entries) {
      if (e.isDirectory) continue;
      const safe = safeRelativePath(e.name);
      if (safe !== undefined && !this.byName.has(safe)) this.byName.set(safe, e);
    }
  }
  get name(): string {
    return this.zip.source.name;
  }
  async list(): Promise<TreeEntry[]> {
    return [...this.byName].map(([path, e]) => ({ path, size: e.uncompressedSize }));
  }
  async open(path: string): Promise<ByteSource | undefined> {
    const safe = safeRelativePath(path);
    const e = safe === undefined ? undefined : this.byName.get(safe);
    return e ? openMember(this.zip, e) : undefined;
  }
  entry(path: string): ZipEntry | undefined {
    const safe = safeRelativePath(path);
    return safe === undefined ? undefined : this.byName.get(safe);
  }
}
