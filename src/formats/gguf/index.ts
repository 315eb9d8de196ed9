/**
 * GGUF (ggml's model container): https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
 * Variants: `gguf` (v1–v3, little- or big-endian) and `gguf-v1-prerelease` (magic written as "FUGG").
 * Split models (`name-00001-of-00003.gguf`) list their shards.
 */
import { decodeUtf8, startsWith, u64be, u64le, view } from '../../io/bytes.js';
import { detection, shardPattern } from '../detection.js';
import type { FormatModule } from '../types.js';
import type { Probe } from '../../identify/probe.js';
import type { ModelFile } from '../../types.js';

/** Read `general.architecture` / `general.name` from the KVs inside the probe head, if they are there. */
function peekKvs(head: Uint8Array, start: number, kvCount: number, le: boolean, v1: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  const dv = view(head);
  let p = start;
  const len = (): number | undefined => {
    if (v1) {
      if (p + 4 > head.length) return undefined;
      const n = dv.getUint32(p, le);
      p += 4;
      return n;
    }
    if (p + 8 > head.length) return undefined;
    const n = le ? u64le(dv, p) : u64be(dv, p);
    p += 8;
    return n;
  };
  for (let i = 0; i < Math.min(kvCount, 64); i++) {
    const kl = len();
    if (kl === undefined || p + kl + 4 > head.length) break;
    const key = decodeUtf8(head.subarray(p, p + kl));
    p += kl;
    const type = dv.getUint32(p, le);
    p += 4;
    const scalar: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
    if (type === 8) {
      const sl = len();
      if (sl === undefined || p + sl > head.length) break;
      if (key.startsWith('general.') && sl < 1024) out[key] = decodeUtf8(head.subarray(p, p + sl));
      p += sl;
    } else if (scalar[type] !== undefined) {
      p += scalar[type]!;
    } else break; // arrays: stop, the interesting general.* keys come first in practice
  }
  return out;
}

export const gguf: FormatModule = {
  id: 'gguf',
  name: 'GGUF',
  extensions: ['.gguf'],
  load: async () => ({ ...(await import('./inspect.js')), ...(await import('./scan.js')) }),
  async detect(probe: Probe) {
    const head = await probe.head();
    if (head.length < 8) return undefined;
    const prerelease = startsWith(head, 'FUGG');
    if (!startsWith(head, 'GGUF') && !prerelease) return undefined;
    const dv = view(head);
    let version = dv.getUint32(4, true);
    let le = true;
    if (version !== 0 && (version & 0xffff) === 0) {
      version = dv.getUint32(4, false);
      le = false;
    }
    if (version < 1 || version > 3) {
      return detection('gguf', 'GGUF', 'gguf', version, 'low', [`GGUF magic, but unknown version ${version} (expected 1, 2 or 3)`]);
    }
    const v1 = version === 1;
    let tensorCount: number | undefined;
    let kvCount: number | undefined;
    if (v1 && head.length >= 16) {
      tensorCount = dv.getUint32(8, le);
      kvCount = dv.getUint32(12, le);
    } else if (head.length >= 24) {
      tensorCount = le ? u64le(dv, 8) : u64be(dv, 8);
      kvCount = le ? u64le(dv, 16) : u64be(dv, 16);
    }
    const evidence = [`${prerelease ? 'pre-release GGUF magic "FUGG"' : 'GGUF magic'}, version ${version}, ${le ? 'little' : 'big'}-endian`];
    if (tensorCount !== undefined && kvCount !== undefined) evidence.push(`${tensorCount} tensors, ${kvCount} metadata keys`);
    else evidence.push('header truncated: tensor and key counts missing');
    const kvs = kvCount ? peekKvs(head, v1 ? 16 : 24, kvCount, le, v1) : {};
    if (kvs['general.architecture']) evidence.push(`architecture ${kvs['general.architecture']}`);
    const files = await shardFiles(probe);
    return detection('gguf', 'GGUF', prerelease ? 'gguf-v1-prerelease' : 'gguf', version, tensorCount === undefined ? 'medium' : 'high', evidence, {
      files,
      details: {
        endianness: le ? 'little' : 'big',
        ...(tensorCount !== undefined ? { tensorCount } : {}),
        ...(kvCount !== undefined ? { metadataCount: kvCount } : {}),
        ...(kvs['general.architecture'] ? { architecture: kvs['general.architecture'] } : {}),
        ...(kvs['general.name'] ? { name: kvs['general.name'] } : {}),
      },
    });
  },
};

/** Shards of a split GGUF (`-00001-of-00003.gguf`), when the probe knows its folder. */
async function shardFiles(probe: Probe): Promise<ModelFile[] | undefined> {
  const sp = shardPattern(probe.name);
  if (!sp || sp.total < 2) return undefined;
  const siblings = await probe.siblings();
  const files: ModelFile[] = [];
  for (let i = 1; i <= sp.total; i++) {
    const n = `${sp.prefix}-${String(i).padStart(sp.width, '0')}-of-${String(sp.total).padStart(sp.width, '0')}${sp.suffix}`;
    const e = siblings.find((s) => s.path === n);
    if (e) files.push({ path: n, size: e.size, role: i === 1 ? 'entry' : 'shard' });
  }
  return files.length > 1 ? files : undefined;
}
