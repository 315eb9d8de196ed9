/**
 * The oldest `torch.save` layout (the legacy pickle stream is peeked in ./pickle-peek.ts).
 *
 * - legacy tar (torch ≤ 0.1.x): a tar archive with members `sys_info`, `pickle`, `tensors`,
 *   `storages` (torch/serialization.py `legacy_load`). Tar header: POSIX.1-1988 ustar,
 *   https://www.gnu.org/software/tar/manual/html_node/Standard.html
 */
import { decodeLatin1 } from '../../io/bytes.js';
import type { Probe } from '../../identify/probe.js';
import { peekKeyInt } from './pickle-peek.js';

export const LEGACY_TAR_MEMBERS = ['sys_info', 'pickle', 'tensors', 'storages'] as const;

export interface LegacyTar {
  /** Member names seen in the headers walked (in order). */
  members: string[];
  /** How many of the four torch members were seen. */
  torchMembers: number;
  /** Whether the `pickle` member starts like a pickle (when it was reached). */
  picklePeek?: boolean;
  /** `protocol_version` from the `sys_info` member, when it was reached and small. */
  protocolVersion?: number;
}

/** Headers walked at most: the four torch members plus PAX/GNU extension headers. */
const MAX_HEADERS = 12;

interface TarHeader {
  name: string;
  size: number;
  type: string;
}

/** Parse one 512-byte tar header; undefined when it is not one (bad checksum, not octal …). */
export function parseTarHeader(h: Uint8Array): TarHeader | undefined {
  if (h.length < 512) return undefined;
  if (h.every((x) => x === 0)) return undefined;
  const field = (at: number, n: number): string => {
    const s = h.subarray(at, at + n);
    const z = s.indexOf(0);
    return decodeLatin1(z < 0 ? s : s.subarray(0, z));
  };
  const octal = (at: number, n: number): number | undefined => {
    const t = field(at, n).trim();
    if (t === '') return 0;
    return /^[0-7]{1,12}$/.test(t) ? parseInt(t, 8) : undefined;
  };
  const chk = octal(148, 8);
  if (chk === undefined) return undefined;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  if (sum !== chk) return undefined;
  let name = field(0, 100);
  // ustar prefix field (offset 345) for long names
  if (decodeLatin1(h.subarray(257, 262)) === 'ustar') {
    const prefix = field(345, 155);
    if (prefix && h[156] !== 0x4c) name = `${prefix}/${name}`;
  }
  const size = octal(124, 12);
  if (size === undefined) return undefined;
  return { name, size, type: String.fromCharCode(h[156] ?? 0x30) };
}

/** Walk the first tar headers; a torch legacy tar when its members are the torch ones. */
export async function legacyTar(probe: Probe): Promise<LegacyTar | undefined> {
  const head = await probe.head();
  if (head.length < 512 || decodeLatin1(head.subarray(257, 262)) !== 'ustar') return undefined;
  const members: string[] = [];
  let offset = 0;
  let picklePeek: boolean | undefined;
  let protocolVersion: number | undefined;
  for (let i = 0; i < MAX_HEADERS && offset + 512 <= probe.size; i++) {
    const h = await probe.bytes(offset, 512);
    const hdr = parseTarHeader(h);
    if (!hdr) break;
    const dataAt = offset + 512;
    const padded = Math.ceil(hdr.size / 512) * 512;
    if (dataAt + hdr.size > probe.size) break;
    if (hdr.type === '0' || hdr.type === '\0' || hdr.type === '7') {
      const name = hdr.name.replace(/^\.\//, '');
      members.push(name);
      if (name === 'pickle' && hdr.size > 0) {
        const b = await probe.bytes(dataAt, Math.min(2, hdr.size));
        picklePeek = b[0] === 0x80 && b[1] !== undefined && b[1] >= 2 && b[1] <= 5;
      }
      if (name === 'sys_info' && hdr.size > 0 && hdr.size <= 4096) {
        protocolVersion = peekKeyInt(await probe.bytes(dataAt, hdr.size), 'protocol_version');
      }
    }
    // 'x'/'g' PAX and 'L'/'K' GNU long-name headers carry no member: skip their data.
    offset = dataAt + padded;
    if (members.length >= LEGACY_TAR_MEMBERS.length) break;
  }
  if (members.length === 0) return undefined;
  const torchMembers = LEGACY_TAR_MEMBERS.filter((m) => members.includes(m)).length;
  if (torchMembers === 0 || !(LEGACY_TAR_MEMBERS as readonly string[]).includes(members[0]!)) return undefined;
  return {
    members,
    torchMembers,
    ...(picklePeek !== undefined ? { picklePeek } : {}),
    ...(protocolVersion !== undefined ? { protocolVersion } : {}),
  };
}
