/**
 * TensorFlow checkpoints (V2 `.index`, V1 shards) are LevelDB-format tables
 * (tensorflow/core/lib/io/format.h, table_builder.cc; the layout is LevelDB's
 * doc/table_format.md):
 *
 *   [data block 1] … [data block N] [meta blocks] [metaindex block] [index block] [footer]
 *
 * - footer (48 bytes): metaindex BlockHandle, index BlockHandle (varint offset, varint size each),
 *   zero padding to 40 bytes, then the magic 0xdb4775248b80fb57 (little-endian);
 * - every block is followed by a 5-byte trailer: compression type (0 none, 1 snappy) and a masked
 *   crc32c (not checked here);
 * - block contents: entries `shared varint, non_shared varint, value_length varint, key delta,
 *   value` (keys prefix-compressed against the previous key), then `restarts: u32[n]`, `n: u32`;
 * - the index block maps a separator key to the BlockHandle of each data block.
 *
 * `isSSTable` is the cheap detection check; `readTable` reads every entry (block by block, each
 * bounded) for the inspector.
 */
import { ModelwiseError } from '../../errors.js';
import { readVarint } from '../../codecs/protobuf.js';
import { snappyDecompress } from '../../codecs/snappy.js';
import type { Probe } from '../../identify/probe.js';
import { BytesSource, readExact, type ByteSource } from '../../io/source.js';

const MAGIC = [0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb];
const FOOTER = 48;
const TRAILER = 5;
/** Tables up to this size are read whole (one read instead of one per block). */
const WHOLE_FILE = 16 * 1024 * 1024;

export async function isSSTable(probe: Probe): Promise<boolean> {
  if (probe.size < FOOTER) return false;
  const tail = await probe.tail();
  if (tail.length < FOOTER) return false;
  return parseFooter(tail.subarray(tail.length - FOOTER), probe.size) !== undefined;
}

export interface BlockHandle {
  offset: number;
  size: number;
}

/** The footer's metaindex and index handles, when the magic is there and both lie before the footer. */
export function parseFooter(footer: Uint8Array, fileSize: number): { metaindex: BlockHandle; index: BlockHandle } | undefined {
  if (footer.length !== FOOTER) return undefined;
  for (let i = 0; i < 8; i++) if (footer[40 + i] !== MAGIC[i]) return undefined;
  const handles: BlockHandle[] = [];
  let p = 0;
  for (let i = 0; i < 2; i++) {
    const h = readHandle(footer, p, 40);
    if (!h) return undefined;
    p = h.next;
    if (h.handle.offset + h.handle.size > fileSize - FOOTER) return undefined;
    handles.push(h.handle);
  }
  return { metaindex: handles[0]!, index: handles[1]! };
}

function readHandle(buf: Uint8Array, pos: number, end = buf.length): { handle: BlockHandle; next: number } | undefined {
  const off = readVarint(buf, pos, end);
  if (!off || off.value === undefined) return undefined;
  const len = readVarint(buf, pos + off.size, end);
  if (!len || len.value === undefined) return undefined;
  return { handle: { offset: off.value, size: len.value }, next: pos + off.size + len.size };
}

export interface TableEntry {
  key: Uint8Array;
  value: Uint8Array;
}

export interface TableOptions {
  /** Largest table file read (its blocks are read one by one, never more than this in all). */
  maxFileBytes?: number;
  /** Largest block, compressed or not. */
  maxBlockBytes?: number;
  /** Entries read before stopping (the result says `truncated`). */
  maxEntries?: number;
}

export interface Table {
  entries: TableEntry[];
  /** Data blocks read, and how many of them were snappy-compressed. */
  blocks: number;
  snappyBlocks: number;
  /** Bytes read from the file. */
  bytesRead: number;
  truncated: boolean;
}

const DEFAULTS = { maxFileBytes: 512 * 1024 * 1024, maxBlockBytes: 64 * 1024 * 1024, maxEntries: 2_000_000 };

/**
 * Read every (key, value) of a LevelDB-format table: the footer, the index block, then each data
 * block it points at. Throws MALFORMED naming the file and offset when a block does not parse.
 */
export async function readTable(source: ByteSource, opts: TableOptions = {}): Promise<Table> {
  const o = { ...DEFAULTS, ...opts };
  const file = source.name;
  if (source.size < FOOTER) throw new ModelwiseError('MALFORMED', `a table needs a ${FOOTER}-byte footer; the file has ${source.size} bytes`, { file, offset: 0 });
  if (source.size > o.maxFileBytes) throw new ModelwiseError('LIMIT_EXCEEDED', `table of ${source.size} bytes is over the ${o.maxFileBytes}-byte limit`, { file });
  // A small table (the usual case) is read in one go; a large one block by block.
  if (source.size <= WHOLE_FILE) source = new BytesSource(await readExact(source, 0, source.size, 'checkpoint table'), file);
  const footerBytes = await source.read(source.size - FOOTER, FOOTER);
  const footer = parseFooter(footerBytes, source.size);
  if (!footer) throw new ModelwiseError('MALFORMED', 'no LevelDB table footer (magic 57 fb 80 8b 24 75 47 db, handles inside the file)', { file, offset: source.size - FOOTER });
  const table: Table = { entries: [], blocks: 0, snappyBlocks: 0, bytesRead: FOOTER, truncated: false };
  const index = await readBlock(source, footer.index, 'index block', o, table);
  const seen = new Set<number>();
  for (const e of index) {
    const h = readHandle(e.value, 0);
    if (!h) throw new ModelwiseError('MALFORMED', 'index entry is not a block handle', { file, offset: footer.index.offset });
    if (h.handle.offset + h.handle.size + TRAILER > source.size) {
      throw new ModelwiseError('MALFORMED', `data block at ${h.handle.offset} (+${h.handle.size}) runs past the end of the ${source.size}-byte file`, { file, offset: footer.index.offset });
    }
    if (seen.has(h.handle.offset)) throw new ModelwiseError('MALFORMED', `index lists the data block at ${h.handle.offset} twice`, { file, offset: footer.index.offset });
    seen.add(h.handle.offset);
    const entries = await readBlock(source, h.handle, 'data block', o, table);
    table.blocks++;
    for (const d of entries) {
      if (table.entries.length >= o.maxEntries) {
        table.truncated = true;
        return table;
      }
      table.entries.push(d);
    }
  }
  return table;
}

async function readBlock(source: ByteSource, h: BlockHandle, what: string, o: typeof DEFAULTS, table: Table): Promise<TableEntry[]> {
  const file = source.name;
  if (h.size > o.maxBlockBytes) throw new ModelwiseError('LIMIT_EXCEEDED', `${what} of ${h.size} bytes is over the ${o.maxBlockBytes}-byte limit`, { file, offset: h.offset });
  if (table.bytesRead + h.size + TRAILER > o.maxFileBytes) throw new ModelwiseError('LIMIT_EXCEEDED', `table blocks add up to more than ${o.maxFileBytes} bytes`, { file, offset: h.offset });
  const raw = await source.read(h.offset, h.size + TRAILER);
  table.bytesRead += raw.length;
  if (raw.length !== h.size + TRAILER) throw new ModelwiseError('UNEXPECTED_EOF', `${what} at ${h.offset} is cut by the end of the file`, { file, offset: h.offset });
  const type = raw[h.size]!;
  let block = raw.subarray(0, h.size);
  if (type === 1) {
    block = snappyDecompress(block, { maxOutput: o.maxBlockBytes, what: `snappy ${what}`, file });
    if (what === 'data block') table.snappyBlocks++;
  } else if (type !== 0) {
    throw new ModelwiseError('UNSUPPORTED', `${what} compression type ${type} (only none and snappy exist in TensorFlow tables)`, { file, offset: h.offset + h.size });
  }
  return parseBlock(block, (msg) => new ModelwiseError('MALFORMED', `${what}: ${msg}`, { file, offset: h.offset }));
}

/** The entries of one (decompressed) block. */
export function parseBlock(block: Uint8Array, error: (msg: string) => Error = (m) => new Error(m)): TableEntry[] {
  if (block.length < 4) throw error(`${block.length} bytes, too short for the restart count`);
  const dv = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const restarts = dv.getUint32(block.length - 4, true);
  if (restarts > (block.length - 4) / 4) throw error(`restart count ${restarts} does not fit the ${block.length}-byte block`);
  const end = block.length - 4 - restarts * 4;
  const out: TableEntry[] = [];
  let key = new Uint8Array(0);
  let p = 0;
  while (p < end) {
    const shared = readVarint(block, p, end);
    if (!shared || shared.value === undefined) throw error(`bad entry header at ${p}`);
    const nonShared = readVarint(block, p + shared.size, end);
    if (!nonShared || nonShared.value === undefined) throw error(`bad entry header at ${p}`);
    const vlen = readVarint(block, p + shared.size + nonShared.size, end);
    if (!vlen || vlen.value === undefined) throw error(`bad entry header at ${p}`);
    const k = p + shared.size + nonShared.size + vlen.size;
    if (shared.value > key.length) throw error(`entry at ${p} shares ${shared.value} bytes of a ${key.length}-byte key`);
    if (k + nonShared.value + vlen.value > end) throw error(`entry at ${p} runs past the block's entries`);
    const next = new Uint8Array(shared.value + nonShared.value);
    next.set(key.subarray(0, shared.value));
    next.set(block.subarray(k, k + nonShared.value), shared.value);
    key = next;
    out.push({ key, value: block.subarray(k + nonShared.value, k + nonShared.value + vlen.value) });
    p = k + nonShared.value + vlen.value;
  }
  return out;
}
