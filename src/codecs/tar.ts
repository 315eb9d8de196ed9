/**
 * Minimal ustar/GNU tar listing over a ByteSource (POSIX.1-1988 ustar: 512-byte headers).
 * Only headers are read; member data is exposed as slices. Used for legacy PyTorch (< 0.4) tar
 * checkpoints and by the scanner.
 */
import { LIMITS } from '../limits.js';
import { decodeLatin1 } from '../io/bytes.js';
import { SliceSource, type ByteSource } from '../io/source.js';

export interface TarEntry {
  name: string;
  size: number;
  /** Offset of the member data. */
  offset: number;
  /** '0' file, '1' hard link, '2' symlink, '5' directory … */
  type: string;
  linkName: string;
}

function octal(b: Uint8Array): number {
  const s = decodeLatin1(b).replace(/\0.*$/s, '').trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) return NaN;
  return parseInt(s, 8);
}

/** Is this 512-byte block a tar header (checksum verified)? */
export function isTarHeader(h: Uint8Array): boolean {
  if (h.length < 512) return false;
  const stored = octal(h.subarray(148, 156));
  if (!Number.isFinite(stored)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
  return sum === stored && h[0] !== 0;
}

/** List a tar archive; stops at the end marker, a bad header or LIMITS.zipEntries members. */
export async function listTar(source: ByteSource): Promise<{ entries: TarEntry[]; error?: string }> {
  const entries: TarEntry[] = [];
  let pos = 0;
  let longName: string | undefined;
  while (pos + 512 <= source.size && entries.length < LIMITS.zipEntries) {
    const h = await source.read(pos, 512);
    if (h.every((b) => b === 0)) break;
    if (!isTarHeader(h)) return { entries, error: `invalid tar header at offset ${pos}` };
    const prefix = decodeLatin1(h.subarray(345, 500)).replace(/\0.*$/s, '');
    let name = decodeLatin1(h.subarray(0, 100)).replace(/\0.*$/s, '');
    if (prefix && decodeLatin1(h.subarray(257, 262)) === 'ustar') name = `${prefix}/${name}`;
    const size = octal(h.subarray(124, 136));
    const type = String.fromCharCode(h[156] || 0x30);
    const linkName = decodeLatin1(h.subarray(157, 257)).replace(/\0.*$/s, '');
    if (!Number.isFinite(size) || pos + 512 + size > source.size) return { entries, error: `tar member ${name} runs past the end of the archive` };
    if (type === 'L') {
      longName = decodeLatin1(await source.read(pos + 512, Math.min(size, 4096))).replace(/\0.*$/s, '');
    } else {
      entries.push({ name: longName ?? name, size, offset: pos + 512, type, linkName });
      longName = undefined;
    }
    pos += 512 + Math.ceil(size / 512) * 512;
  }
  return { entries };
}

export function tarMember(source: ByteSource, e: TarEntry): ByteSource {
  return new SliceSource(source, e.offset, e.size, `${source.name} > ${e.name}`);
}
