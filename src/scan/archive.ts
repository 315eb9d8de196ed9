/**
 * Archive rules (ARC-001 … ARC-005) and recursion into members, sniffed by content — never by
 * extension (CVE-2025-1889: a pickle under a non-pickle name). The zip is read the way torch reads
 * it: central directory first; local headers are compared with it, flags and CRCs do not stop the
 * scan (CVE-2025-1944/1945/10156: scanners that give up on odd headers miss what torch loads).
 */
import { openZip, openMember, readMemberPrefix, type ZipArchive, type ZipEntry } from '../codecs/zip.js';
import { listTar, tarMember } from '../codecs/tar.js';
import { decodeFolder, folderProblem, folderUnpackSize, isSevenZip, openSevenZip, type SevenZipArchive } from '../codecs/sevenzip.js';
import { BytesSource } from '../io/source.js';
import { LIMITS } from '../limits.js';
import { crc32 } from '../codecs/crc32.js';
import { decodeLatin1, tryDecodeUtf8, view } from '../io/bytes.js';
import type { ByteSource } from '../io/source.js';
import { asModelwiseError } from '../errors.js';
import { scanContent, type ScanState } from './scan.js';

const MAX_MEMBERS_SNIFFED = 20_000;
/** Raw tensor storages of torch archives: torch never unpickles them. */
const TORCH_STORAGE = /(^|\/)(data|\.data)\/\d+$|(^|\/)\.data\/serialization_id$/;

function unsafeName(name: string): string | undefined {
  const n = name.replace(/\\/g, '/');
  if (n.startsWith('/')) return 'an absolute path';
  if (/^[a-zA-Z]:/.test(n)) return 'a drive letter';
  if (n.split('/').includes('..')) return 'a ".." segment';
  if (/[\x00-\x1f]/.test(n)) return 'control characters';
  return undefined;
}

export async function scanZip(source: ByteSource, location: string, state: ScanState): Promise<void> {
  let zip: ZipArchive;
  try {
    zip = await openZip(source);
  } catch (e) {
    const err = asModelwiseError(e, location);
    state.findings.push({ rule: 'ARC-004', severity: 'high', location, evidence: err.message, message: 'the zip structure is broken: readers disagree on what it holds', malformed: true });
    return;
  }
  state.scanned.push(`${location} (zip, ${zip.entries.length} entries)`);
  if (zip.truncated) {
    state.findings.push({ rule: 'ARC-003', severity: 'medium', location, evidence: `more than ${LIMITS.zipEntries} entries`, message: 'too many entries to scan: not reported clean', incomplete: true });
  }
  if (zip.prefixLength > 0) {
    state.findings.push({ rule: 'ARC-004', severity: 'info', location, evidence: `${zip.prefixLength} bytes precede the archive`, message: 'data is prepended to the zip (normal for TFLite metadata, odd elsewhere)' });
  }
  const names = new Map<string, number>();
  for (const e of zip.entries) names.set(e.name, (names.get(e.name) ?? 0) + 1);
  for (const [n, c] of names) {
    if (c > 1) state.findings.push({ rule: 'ARC-001', severity: 'high', location: `${location} > ${n}`, evidence: `${c} members named ${JSON.stringify(n)}`, message: 'duplicate member names: different readers load different members' });
  }
  let sniffed = 0;
  for (const e of zip.entries) {
    const where = `${location} > ${e.name}`;
    const bad = unsafeName(e.name);
    if (bad) state.findings.push({ rule: 'ARC-001', severity: 'high', location: where, evidence: `member name ${JSON.stringify(e.name)} has ${bad}`, message: 'extracting this archive writes outside its folder (path traversal)' });
    if (e.isSymlink) state.findings.push({ rule: 'ARC-002', severity: 'medium', location: where, evidence: 'symbolic link member', message: 'a link member can point extraction at files outside the archive' });
    if (e.isDirectory) continue;
    let ignoreEncryption = false;
    if (e.encrypted) {
      // torch ignores the flag (CVE-2025-1945): read the member as plain data when it is plain data.
      if (!(await plainDespiteFlag(zip, e))) {
        state.findings.push({ rule: 'ARC-005', severity: 'medium', location: where, evidence: 'encrypted member', message: 'an encrypted member cannot be scanned: the model is not reported clean', incomplete: true });
        continue;
      }
      ignoreEncryption = true;
      state.findings.push({ rule: 'ARC-004', severity: 'medium', location: where, evidence: `encryption flag set (general-purpose flags 0x${e.flags.toString(16)}) on unencrypted data (sizes and CRC-32 match plain data)`, message: 'encryption flag set on unencrypted data: scanners that honour the flag skip a member that torch loads (CVE-2025-1945)' });
    }
    if (e.method !== 0 && e.method !== 8) {
      state.findings.push({ rule: 'ARC-005', severity: 'medium', location: where, evidence: `compression method ${e.method}`, message: 'a member compressed with an unsupported method cannot be scanned', incomplete: true });
      continue;
    }
    if (e.method === 8 && e.compressedSize > 0 && e.uncompressedSize / e.compressedSize > 100 && e.uncompressedSize > 16 * 1024 * 1024) {
      state.findings.push({ rule: 'ARC-003', severity: 'medium', location: where, evidence: `${e.compressedSize} → ${e.uncompressedSize} bytes (ratio ${Math.round(e.uncompressedSize / e.compressedSize)}:1)`, message: 'a compression bomb shape: inflating it can exhaust memory or disk', incomplete: true });
      continue;
    }
    await compareLocalHeader(zip, e, where, state);
    if (TORCH_STORAGE.test(e.name)) continue;
    if (++sniffed > MAX_MEMBERS_SNIFFED) {
      state.findings.push({ rule: 'ARC-003', severity: 'medium', location, evidence: `more than ${MAX_MEMBERS_SNIFFED} members to sniff`, message: 'too many members to scan: not reported clean', incomplete: true });
      break;
    }
    let head: Uint8Array;
    try {
      head = await readMemberPrefix(zip, e, 1024, { ignoreEncryption });
    } catch (err) {
      const m = asModelwiseError(err, where);
      state.findings.push({ rule: 'ARC-004', severity: 'high', location: where, evidence: m.message, message: 'a member cannot be read: damaged or crafted archive', malformed: true });
      continue;
    }
    if (state.depth >= LIMITS.archiveNesting) {
      state.findings.push({ rule: 'ARC-003', severity: 'medium', location: where, evidence: `nesting deeper than ${LIMITS.archiveNesting}`, message: 'archives nested too deep are not scanned', incomplete: true });
      continue;
    }
    if (!interesting(head)) continue;
    let member: ByteSource;
    try {
      member = await openMember(zip, e, 512 * 1024 * 1024, { ignoreEncryption });
    } catch (err) {
      const m = asModelwiseError(err, where);
      const bomb = m.code === 'LIMIT_EXCEEDED';
      state.findings.push({ rule: bomb ? 'ARC-003' : 'ARC-004', severity: bomb ? 'medium' : 'high', location: where, evidence: m.message, message: bomb ? 'the member inflates past the scan limit: not reported clean' : 'a member cannot be read: damaged or crafted archive', ...(bomb ? { incomplete: true } : { malformed: true }) });
      continue;
    }
    state.depth++;
    try {
      await scanContent(member, where, state, head);
    } finally {
      state.depth--;
    }
  }
}

/** Largest flagged member read whole to test whether it is plain data. */
const PLAIN_CHECK_BYTES = 64 * 1024 * 1024;

/**
 * Is a member whose encryption flag is set in fact plain data? Traditional PKWARE encryption adds a
 * 12-byte header and AES uses method 99, so a stored member whose compressed size equals its size
 * and whose bytes match the CRC-32, or a deflated member that inflates to its declared size and
 * CRC-32, is not encrypted (torch reads it as is).
 */
async function plainDespiteFlag(zip: ZipArchive, e: ZipEntry): Promise<boolean> {
  if (e.method !== 0 && e.method !== 8) return false;
  if (e.method === 0 && e.compressedSize !== e.uncompressedSize) return false;
  if (e.uncompressedSize > PLAIN_CHECK_BYTES) return false;
  try {
    const m = await openMember(zip, e, PLAIN_CHECK_BYTES, { ignoreEncryption: true });
    const data = await m.read(0, m.size);
    return data.length === e.uncompressedSize && crc32(data) === e.crc32;
  } catch {
    return false;
  }
}

/** Worth a content scan: pickles, nested archives, npy, tar. */
function interesting(h: Uint8Array): boolean {
  if (h.length === 0) return false;
  const c = h[0]!;
  return c === 0x80 || c === 0x28 || c === 0x63 || c === 0x7d || c === 0x5d || c === 0x29 || c === 0x50 || c === 0x93 || isSevenZip(h) || (h.length >= 262 && decodeLatin1(h.subarray(257, 262)) === 'ustar');
}

async function compareLocalHeader(zip: ZipArchive, e: ZipEntry, where: string, state: ScanState): Promise<void> {
  // 30 bytes of header + the name as long as the central directory says (a longer local name
  // shows as a mismatch); never into the member's data.
  const h = await zip.source.read(e.localHeaderOffset, 30 + Math.min(1024, new TextEncoder().encode(e.name).length));
  const dv = view(h);
  if (h.length < 30 || dv.getUint32(0, true) !== 0x04034b50) {
    state.findings.push({ rule: 'ARC-004', severity: 'high', location: where, evidence: `no local header at offset ${e.localHeaderOffset}`, message: 'the central directory points at no member: damaged or crafted archive', malformed: true });
    return;
  }
  const nameLen = dv.getUint16(26, true);
  const extraLen = dv.getUint16(28, true);
  const raw = h.subarray(30, Math.min(h.length, 30 + nameLen));
  const localName = tryDecodeUtf8(raw) ?? decodeLatin1(raw);
  if (nameLen <= 1024 && (localName !== e.name || nameLen !== raw.length)) {
    state.findings.push({ rule: 'ARC-004', severity: 'medium', location: where, evidence: `local header names it ${JSON.stringify(localName)}`, message: 'local and central directory names differ: scanners and loaders may read different members' });
  }
  const dataStart = e.localHeaderOffset + 30 + nameLen + extraLen;
  if (dataStart + e.compressedSize > zip.source.size) {
    state.findings.push({ rule: 'ARC-004', severity: 'high', location: where, evidence: `member data (${e.compressedSize} bytes at ${dataStart}) runs past the end of the archive`, message: 'the archive is truncated or its sizes lie', malformed: true });
  }
}

export async function scanTar(source: ByteSource, location: string, state: ScanState): Promise<void> {
  const { entries, error } = await listTar(source);
  state.scanned.push(`${location} (tar, ${entries.length} entries)`);
  if (error) state.findings.push({ rule: 'ARC-004', severity: 'low', location, evidence: error, message: 'the tar archive is damaged past this point', malformed: true });
  for (const e of entries) {
    const where = `${location} > ${e.name}`;
    const bad = unsafeName(e.name);
    if (bad) state.findings.push({ rule: 'ARC-001', severity: 'high', location: where, evidence: `member name ${JSON.stringify(e.name)} has ${bad}`, message: 'extracting this archive writes outside its folder (path traversal)' });
    if (e.type === '1' || e.type === '2') {
      state.findings.push({ rule: 'ARC-002', severity: 'medium', location: where, evidence: `${e.type === '2' ? 'symbolic' : 'hard'} link to ${JSON.stringify(e.linkName)}`, message: 'a link member can point extraction at files outside the archive' });
      continue;
    }
    if (e.type !== '0' && e.type !== '\0' && e.type !== '7') continue;
    if (state.depth >= LIMITS.archiveNesting) continue;
    const member = tarMember(source, e);
    const head = await member.read(0, 1024);
    if (!interesting(head)) continue;
    state.depth++;
    try {
      await scanContent(member, where, state, head);
    } finally {
      state.depth--;
    }
  }
}

/** Largest 7z folder (solid block) decoded for a scan: it is held in memory whole (scans stay under
 * 256 MiB), and LZMA in pure TS decodes ~10–30 MiB/s. Larger blocks are reported, not scanned. */
const SEVENZIP_SCAN_FOLDER = 64 * 1024 * 1024;

/**
 * 7z archives (nullifAI: a PyTorch archive recompressed with 7z so pickle scanners skip it). Members
 * are listed first; each folder (solid block) holding a member worth scanning is decoded under a cap,
 * and its members are sniffed by content like zip members.
 */
export async function scanSevenZip(source: ByteSource, location: string, state: ScanState): Promise<void> {
  let a: SevenZipArchive;
  try {
    a = await openSevenZip(source);
  } catch (e) {
    const err = asModelwiseError(e, location);
    if (err.code === 'LIMIT_EXCEEDED') {
      state.findings.push({ rule: 'ARC-003', severity: 'medium', location, evidence: err.message, message: 'the 7z archive is too large to list: not reported clean', incomplete: true });
    } else {
      state.findings.push({ rule: 'ARC-004', severity: 'high', location, evidence: err.message, message: 'the 7z structure is broken: readers disagree on what it holds', malformed: true });
    }
    return;
  }
  state.scanned.push(`${location} (7z, ${a.files.length} entries)`);
  state.findings.push({ rule: 'ARC-006', severity: 'info', location, evidence: `7z archive, ${a.files.length} entries, ${a.folders.length} solid block(s)`, message: 'a model inside a 7z archive: nothing loads it directly, its members are scanned by content' });
  const names = new Map<string, number>();
  for (const f of a.files) names.set(f.name, (names.get(f.name) ?? 0) + 1);
  for (const [n, c] of names) {
    if (c > 1) state.findings.push({ rule: 'ARC-001', severity: 'high', location: `${location} > ${n}`, evidence: `${c} members named ${JSON.stringify(n)}`, message: 'duplicate member names: different readers extract different members' });
  }
  const byFolder = new Map<number, typeof a.files>();
  for (const f of a.files) {
    const where = `${location} > ${f.name}`;
    const bad = unsafeName(f.name);
    if (bad) state.findings.push({ rule: 'ARC-001', severity: 'high', location: where, evidence: `member name ${JSON.stringify(f.name)} has ${bad}`, message: 'extracting this archive writes outside its folder (path traversal)' });
    if (f.isSymlink) state.findings.push({ rule: 'ARC-002', severity: 'medium', location: where, evidence: 'symbolic link member', message: 'a link member can point extraction at files outside the archive' });
    if (!f.hasStream || f.isDirectory || f.isAnti || f.size === 0) continue;
    const list = byFolder.get(f.folder) ?? [];
    list.push(f);
    byFolder.set(f.folder, list);
  }
  for (const [folder, files] of byFolder) {
    const members = files.map((f) => f.name).slice(0, 5).join(', ') + (files.length > 5 ? ` and ${files.length - 5} more` : '');
    const where = `${location} > ${files[0]!.name}`;
    const problem = folderProblem(a, folder);
    if (problem) {
      state.findings.push({ rule: 'ARC-005', severity: 'medium', location: where, evidence: `7z block of ${members}: ${problem}`, message: 'a member that cannot be decoded cannot be scanned: the model is not reported clean', incomplete: true });
      continue;
    }
    const size = folderUnpackSize(a.folders[folder]!);
    if (size > SEVENZIP_SCAN_FOLDER) {
      state.findings.push({ rule: 'ARC-003', severity: 'medium', location: where, evidence: `7z block of ${members} unpacks to ${size} bytes, above the ${SEVENZIP_SCAN_FOLDER}-byte scan limit`, message: 'the block is too large to decode for a scan: not reported clean', incomplete: true });
      continue;
    }
    if (state.depth >= LIMITS.archiveNesting) {
      state.findings.push({ rule: 'ARC-003', severity: 'medium', location: where, evidence: `nesting deeper than ${LIMITS.archiveNesting}`, message: 'archives nested too deep are not scanned', incomplete: true });
      continue;
    }
    let data: Uint8Array;
    try {
      data = await decodeFolder(a, folder, SEVENZIP_SCAN_FOLDER);
    } catch (e) {
      const m = asModelwiseError(e, where);
      const limit = m.code === 'LIMIT_EXCEEDED';
      state.findings.push({ rule: limit ? 'ARC-003' : 'ARC-004', severity: limit ? 'medium' : 'high', location: where, evidence: m.message, message: limit ? 'the block is too large to decode: not reported clean' : 'a 7z block cannot be decoded: damaged or crafted archive', ...(limit ? { incomplete: true } : { malformed: true }) });
      continue;
    }
    for (const f of files) {
      const w = `${location} > ${f.name}`;
      if (f.offset + f.size > data.length) {
        state.findings.push({ rule: 'ARC-004', severity: 'high', location: w, evidence: `member (${f.size} bytes at ${f.offset}) runs past its block of ${data.length} bytes`, message: 'the archive sizes lie', malformed: true });
        continue;
      }
      const bytes = data.subarray(f.offset, f.offset + f.size);
      if (f.crc !== undefined && crc32(bytes) !== f.crc) {
        state.findings.push({ rule: 'ARC-004', severity: 'medium', location: w, evidence: 'CRC-32 mismatch', message: 'the member does not match its checksum: damaged, or edited after archiving' });
      }
      const head = bytes.subarray(0, 1024);
      if (!interesting(head)) continue;
      state.depth++;
      try {
        await scanContent(new BytesSource(bytes, w), w, state, head);
      } finally {
        state.depth--;
      }
    }
  }
}
