/**
 * TensorFlow checkpoints (V2 `.index`, V1 shards) are LevelDB-format tables
 * (tensorflow/core/lib/io/format.h): they end with a 48-byte footer whose last 8 bytes are the
 * table magic 0xdb4775248b80fb57, little-endian. The footer's two block handles (varint
 * offset/size pairs) must point inside the file.
 */
import { readVarint } from '../../codecs/protobuf.js';
import type { Probe } from '../../identify/probe.js';

const MAGIC = [0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb];
const FOOTER = 48;

export async function isSSTable(probe: Probe): Promise<boolean> {
  if (probe.size < FOOTER) return false;
  const tail = await probe.tail();
  if (tail.length < FOOTER) return false;
  const footer = tail.subarray(tail.length - FOOTER);
  for (let i = 0; i < 8; i++) if (footer[40 + i] !== MAGIC[i]) return false;
  // metaindex handle then index handle, each (offset, size) varints, within the file.
  let p = 0;
  for (let i = 0; i < 2; i++) {
    const off = readVarint(footer, p, 40);
    if (!off || off.value === undefined) return false;
    p += off.size;
    const len = readVarint(footer, p, 40);
    if (!len || len.value === undefined) return false;
    p += len.size;
    if (off.value + len.value > probe.size - FOOTER) return false;
  }
  return true;
}
