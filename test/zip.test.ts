/**
 * src/codecs/zip.ts over archives built in code (test/helpers/zip-writer.ts): listing, stored and
 * deflated members, prefixes, zip64, limits, and corrupt archives that must fail with a code.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'fflate';
import { ModelwiseError } from '../src/errors.js';
import { BytesSource, CountingSource, SliceSource } from '../src/io/source.js';
import { LIMITS } from '../src/limits.js';
import { ZipTree, findEocd, memberDataOffset, openMember, openZip, readMemberPrefix, type ZipArchive } from '../src/codecs/zip.js';
import { Bytes, buildZip, crc32, type ZipMemberSpec } from './helpers/zip-writer.js';
import { rng } from './helpers/random.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

function isCode(code: string) {
  return (e: unknown) => e instanceof ModelwiseError && e.code === code;
}


function randomBytes(n: number, seed: number): Uint8Array {
  const r = rng(seed);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

/** Text that compresses but not absurdly (a few distinct lines). */
function loremBytes(n: number): Uint8Array {
  const words = ['tensor', 'weight', 'bias', 'layer', 'norm', 'attention', 'query', 'key', 'value', 'mlp'];
  const r = rng(42);
  let s = '';
  while (s.length < n) s += words[Math.floor(r() * words.length)] + (r() < 0.1 ? '\n' : ' ');
  return enc.encode(s.slice(0, n));
}

const MEMBERS: ZipMemberSpec[] = [
  { name: 'archive/data.pkl', data: 'PICKLE-BYTES', method: 'store' },
  { name: 'archive/version', data: '3\n', method: 'store' },
  { name: 'archive/data/0', data: randomBytes(5000, 1), method: 'store' },
  { name: 'notes/readme.txt', data: loremBytes(20_000), method: 'deflate' },
  { name: 'dir/', data: '', method: 'store', unixMode: 0o40755 },
  { name: 'link', data: 'archive/version', method: 'store', unixMode: 0o120777 },
  { name: 'ünïcode/名前.bin', data: 'x', method: 'store' },
];

async function open(bytes: Uint8Array, name = 'test.zip'): Promise<ZipArchive> {
  return openZip(new BytesSource(bytes, name));
}

describe('zip: listing', () => {
  it('lists every entry with method, sizes, flags and modes', async () => {
    const built = buildZip(MEMBERS, { comment: 'made by a test' });
    const zip = await open(built.bytes);
    assert.equal(zip.entries.length, MEMBERS.length);
    assert.equal(zip.prefixLength, 0);
    assert.equal(zip.zip64, false);
    assert.equal(zip.truncated, false);
    assert.equal(zip.comment, 'made by a test');
    assert.deepEqual(
      zip.entries.map((e) => e.name),
      MEMBERS.map((m) => m.name),
    );
    const readme = zip.entries[3]!;
    assert.equal(readme.method, 8);
    assert.equal(readme.uncompressedSize, 20_000);
    assert.ok(readme.compressedSize < 20_000);
    assert.equal(readme.crc32, crc32(loremBytes(20_000)));
    assert.equal(readme.localHeaderOffset, built.members[3]!.localHeaderOffset);
    const data0 = zip.entries[2]!;
    assert.equal(data0.method, 0);
    assert.equal(data0.compressedSize, 5000);
    assert.equal(data0.uncompressedSize, 5000);
    assert.equal(data0.encrypted, false);
    assert.equal(data0.unixMode, 0, 'not made on Unix: no mode');
    const dir = zip.entries[4]!;
    assert.equal(dir.isDirectory, true);
    assert.equal(dir.unixMode, 0o40755);
    const link = zip.entries[5]!;
    assert.equal(link.isSymlink, true);
    assert.equal(link.isDirectory, false);
    assert.equal(link.unixMode, 0o120777);
    assert.equal(zip.entries[6]!.name, 'ünïcode/名前.bin');
  });
  it('reads only the end records and the central directory', async () => {
    const built = buildZip([...MEMBERS, { name: 'big', data: new Uint8Array(2_000_000) }]);
    const counting = new CountingSource(new BytesSource(built.bytes));
    await openZip(counting);
    const cdAndEnd = built.bytes.length - built.centralDirectoryOffset;
    assert.ok(counting.bytesRead <= LIMITS.probeTail + cdAndEnd, `read ${counting.bytesRead} bytes`);
  });
  it('reuses a tail that the caller already read', async () => {
    const built = buildZip(MEMBERS);
    const tailLength = Math.min(built.bytes.length, LIMITS.probeTail);
    const counting = new CountingSource(new BytesSource(built.bytes));
    const zip = await openZip(counting, built.bytes.subarray(built.bytes.length - tailLength));
    assert.equal(zip.entries.length, MEMBERS.length);
    assert.equal(counting.reads, 1, 'only the central directory');
  });
  it('finds the end record behind a long comment', async () => {
    const comment = 'c'.repeat(65_535);
    const zip = await open(buildZip(MEMBERS.slice(0, 2), { comment }).bytes);
    assert.equal(zip.comment.length, 65_535);
    assert.equal(zip.entries.length, 2);
  });
  it('lists an empty archive', async () => {
    const zip = await open(buildZip([]).bytes);
    assert.equal(zip.entries.length, 0);
  });
  it('findEocd: -1 without a record, position with one', () => {
    assert.equal(findEocd(new Uint8Array(100)), -1);
    const built = buildZip(MEMBERS.slice(0, 1), { comment: 'hi' });
    assert.equal(findEocd(built.bytes), built.eocdOffset);
  });
  it('marks encrypted members and refuses to open them (UNSUPPORTED)', async () => {
    const zip = await open(buildZip([{ name: 'secret.bin', data: randomBytes(64, 9), encrypted: true }]).bytes);
    assert.equal(zip.entries[0]!.encrypted, true);
    await assert.rejects(openMember(zip, zip.entries[0]!), isCode('UNSUPPORTED'));
    await assert.rejects(readMemberPrefix(zip, zip.entries[0]!, 4), isCode('UNSUPPORTED'));
  });
  it('refuses unknown compression methods (UNSUPPORTED)', async () => {
    const zip = await open(buildZip([{ name: 'x.bz2', data: 'BZh9...', method: 12 }]).bytes);
    await assert.rejects(openMember(zip, zip.entries[0]!), isCode('UNSUPPORTED'));
    await assert.rejects(readMemberPrefix(zip, zip.entries[0]!, 4), isCode('UNSUPPORTED'));
  });
});

describe('zip: members', () => {
  const built = buildZip(MEMBERS);
  it('opens a stored member as a slice without reading its data', async () => {
    const counting = new CountingSource(new BytesSource(built.bytes, 'm.zip'));
    const zip = await openZip(counting);
    const before = counting.bytesRead;
    const m = await openMember(zip, zip.entries[2]!);
    assert.ok(m instanceof SliceSource);
    assert.equal(m.size, 5000);
    assert.equal(m.name, 'm.zip > archive/data/0');
    assert.equal(counting.bytesRead - before, 30, 'only the local header');
    assert.deepEqual(await m.read(0, 5000), randomBytes(5000, 1));
    assert.deepEqual(await m.read(4990, 100), randomBytes(5000, 1).subarray(4990));
    assert.equal(await memberDataOffset(zip, zip.entries[2]!), built.members[2]!.dataOffset);
  });
  it('inflates a deflated member', async () => {
    const zip = await open(built.bytes);
    const m = await openMember(zip, zip.entries[3]!);
    assert.equal(m.size, 20_000);
    assert.deepEqual(await m.read(0, 20_000), loremBytes(20_000));
  });
  it('reads a prefix of stored and deflated members', async () => {
    const zip = await open(built.bytes);
    assert.equal(dec.decode(await readMemberPrefix(zip, zip.entries[0]!, 6)), 'PICKLE');
    assert.equal(dec.decode(await readMemberPrefix(zip, zip.entries[1]!, 100)), '3\n');
    assert.deepEqual(await readMemberPrefix(zip, zip.entries[3]!, 100), loremBytes(100));
    assert.equal((await readMemberPrefix(zip, zip.entries[4]!, 100)).length, 0);
  });
  it('inflates only the start of a large deflated member for a prefix', async () => {
    const big = loremBytes(8 * 1024 * 1024);
    const b = buildZip([{ name: 'big.txt', data: big, method: 'deflate' }]);
    const counting = new CountingSource(new BytesSource(b.bytes));
    const zip = await openZip(counting);
    const before = counting.bytesRead;
    const prefix = await readMemberPrefix(zip, zip.entries[0]!, 1000);
    assert.deepEqual(prefix, big.subarray(0, 1000));
    assert.ok(counting.bytesRead - before <= 1024 * 1024 + 64, `read ${counting.bytesRead - before} bytes for a 1000-byte prefix`);
  });
  it('ZipTree opens members by safe path and skips unsafe names and folders', async () => {
    const zip = await open(
      buildZip([
        ...MEMBERS,
        { name: '../evil.txt', data: 'evil' },
        { name: '/abs.txt', data: 'abs' },
        { name: 'C:/win.txt', data: 'win' },
      ]).bytes,
    );
    const tree = new ZipTree(zip);
    const paths = (await tree.list()).map((e) => e.path);
    assert.ok(paths.includes('archive/data.pkl'));
    assert.ok(!paths.includes('dir'));
    assert.ok(!paths.some((p) => p.includes('evil') || p.includes('abs') || p.includes('win')));
    assert.equal(dec.decode(await (await tree.open('./archive//version'))!.read(0, 10)), '3\n');
    assert.equal(await tree.open('../evil.txt'), undefined);
    assert.equal(await tree.open('missing'), undefined);
    assert.equal(tree.entry('notes/readme.txt')!.method, 8);
  });
});

describe('zip: deflated members inflate to exactly their declared size', () => {
  const data = loremBytes(50_000);
  const member = (declaredSize?: number) => buildZip([{ name: 'sized.txt', data, method: 'deflate', declaredSize }]).bytes;
  const named = (code: string, re: RegExp) => (e: unknown) => {
    assert.ok(e instanceof ModelwiseError, String(e));
    assert.equal(e.code, code);
    assert.equal(e.file, 'test.zip > sized.txt');
    assert.match(e.message, /sized\.txt/);
    assert.match(e.message, re);
    return true;
  };

  it('a member declared smaller than its stream: MALFORMED, inflation stops near the declared size', async () => {
    const zip = await open(member(1000));
    await assert.rejects(openMember(zip, zip.entries[0]!), named('MALFORMED', /inflates past its declared size of 1000 bytes/));
  });
  it('stops reading compressed bytes soon after the declared size is passed', async () => {
    const big = randomBytes(4 * 1024 * 1024, 9); // incompressible: stored deflate blocks
    const b = buildZip([{ name: 'liar.bin', data: big, method: 'deflate', declaredSize: 1000 }]);
    const counting = new CountingSource(new BytesSource(b.bytes));
    const zip = await openZip(counting);
    const before = counting.bytesRead;
    await assert.rejects(openMember(zip, zip.entries[0]!), isCode('MALFORMED'));
    assert.ok(counting.bytesRead - before <= 1024 * 1024 + 64, `read ${counting.bytesRead - before} compressed bytes`);
  });
  it('a member declared larger than its stream: MALFORMED naming the member and both sizes', async () => {
    const zip = await open(member(60_000));
    await assert.rejects(openMember(zip, zip.entries[0]!), named('MALFORMED', /inflates to 50000 bytes, less than its declared size of 60000/));
  });
  it('a stream cut short: UNEXPECTED_EOF naming the member', async () => {
    const b = buildZip([{ name: 'sized.txt', data, method: 'deflate' }]);
    const m = b.members[0]!;
    const bytes = b.bytes.slice();
    // Shrink the declared compressed size in the central directory: the stream now stops half way.
    new DataView(bytes.buffer).setUint32(b.centralDirectoryOffset + 20, m.compressedSize >> 1, true);
    const zip = await open(bytes);
    await assert.rejects(openMember(zip, zip.entries[0]!), named('UNEXPECTED_EOF', /ends early/));
  });
  it('bytes after the end of the deflate stream are ignored, not buffered', async () => {
    const stream = deflateSync(data);
    const padded = new Uint8Array(stream.length + 3 * 1024 * 1024);
    padded.set(stream);
    const b = buildZip([{ name: 'pad.txt', data: 'x', method: 'store' }]);
    const zip0 = await open(b.bytes);
    const head = b.bytes.subarray(0, 30 + 'pad.txt'.length);
    const src = new CountingSource(new BytesSource(new Uint8Array([...head, ...padded])));
    const entry = { ...zip0.entries[0]!, method: 8, compressedSize: padded.length, uncompressedSize: data.length, localHeaderOffset: 0 };
    const fake: ZipArchive = { ...zip0, source: src, entries: [entry] };
    assert.deepEqual(await (await openMember(fake, entry)).read(0, data.length), data);
    assert.ok(src.bytesRead <= 1024 * 1024 + 64, `read ${src.bytesRead} bytes`);
  });
  it('an exact member inflates whole, in one piece or many', async () => {
    const zip = await open(member());
    assert.deepEqual(await (await openMember(zip, zip.entries[0]!)).read(0, 60_000), data);
    const big = loremBytes(3 * 1024 * 1024); // several reads and many pushes
    const z2 = await open(buildZip([{ name: 'big.txt', data: big, method: 'deflate' }]).bytes);
    assert.deepEqual(await (await openMember(z2, z2.entries[0]!)).read(0, big.length), big);
  });
  it('prefixes shorter than the member stop early and never complain about the rest', async () => {
    for (const declared of [1000, 50_000, 60_000]) {
      const zip = await open(member(declared));
      assert.deepEqual(await readMemberPrefix(zip, zip.entries[0]!, 100), data.subarray(0, 100), `declared ${declared}`);
      assert.deepEqual(await readMemberPrefix(zip, zip.entries[0]!, 999), data.subarray(0, 999), `declared ${declared}`);
    }
  });
  it('a prefix never returns more than the declared size, and one covering the member is checked', async () => {
    const exact = await open(member());
    assert.deepEqual(await readMemberPrefix(exact, exact.entries[0]!, 1_000_000), data);
    assert.equal((await readMemberPrefix(exact, exact.entries[0]!, 0)).length, 0);
    const over = await open(member(1000));
    await assert.rejects(readMemberPrefix(over, over.entries[0]!, 64 * 1024), named('MALFORMED', /past its declared size/));
    const under = await open(member(60_000));
    await assert.rejects(readMemberPrefix(under, under.entries[0]!, 55_000), named('MALFORMED', /less than its declared size/));
  });
  it('an empty deflated member', async () => {
    const zip = await open(buildZip([{ name: 'empty.txt', data: '', method: 'deflate' }]).bytes);
    assert.equal((await openMember(zip, zip.entries[0]!)).size, 0);
    assert.equal((await readMemberPrefix(zip, zip.entries[0]!, 10)).length, 0);
  });
  it('refuses a negative or fractional prefix length (MALFORMED)', async () => {
    const zip = await open(member());
    await assert.rejects(readMemberPrefix(zip, zip.entries[0]!, -1), isCode('MALFORMED'));
    await assert.rejects(readMemberPrefix(zip, zip.entries[0]!, 1.5), isCode('MALFORMED'));
  });
});

describe('zip: zip64 and prefixed archives', () => {
  it('reads zip64 end records and extra fields', async () => {
    const built = buildZip(MEMBERS, { zip64: true });
    const zip = await open(built.bytes);
    assert.equal(zip.zip64, true);
    assert.equal(zip.entries.length, MEMBERS.length);
    const e = zip.entries[3]!;
    assert.equal(e.uncompressedSize, 20_000);
    assert.equal(e.localHeaderOffset, built.members[3]!.localHeaderOffset);
    assert.deepEqual(await (await openMember(zip, e)).read(0, 20_000), loremBytes(20_000));
    assert.deepEqual(await (await openMember(zip, zip.entries[2]!)).read(0, 5000), randomBytes(5000, 1));
  });
  it('corrects offsets of an archive with bytes prepended', async () => {
    const prefix = randomBytes(12_345, 77);
    const built = buildZip(MEMBERS, { prefix });
    const zip = await open(built.bytes);
    assert.equal(zip.prefixLength, 12_345);
    assert.equal(zip.entries[2]!.localHeaderOffset, built.members[2]!.localHeaderOffset);
    assert.deepEqual(await (await openMember(zip, zip.entries[2]!)).read(0, 5000), randomBytes(5000, 1));
    assert.deepEqual(await (await openMember(zip, zip.entries[3]!)).read(0, 20_000), loremBytes(20_000));
  });
  it('corrects offsets of a prefixed zip64 archive (locator offset relative to the archive)', async () => {
    const prefix = randomBytes(4096, 78);
    const built = buildZip(MEMBERS, { prefix, zip64: true });
    const zip = await open(built.bytes);
    assert.equal(zip.zip64, true);
    assert.equal(zip.prefixLength, 4096);
    assert.equal(dec.decode(await readMemberPrefix(zip, zip.entries[0]!, 100)), 'PICKLE-BYTES');
    assert.deepEqual(await (await openMember(zip, zip.entries[3]!)).read(0, 20_000), loremBytes(20_000));
  });
});

describe('zip: limits', () => {
  it('refuses to inflate a member declared larger than the cap (LIMIT_EXCEEDED)', async () => {
    const zip = await open(buildZip([{ name: 'a.txt', data: loremBytes(50_000), method: 'deflate' }]).bytes);
    await assert.rejects(openMember(zip, zip.entries[0]!, 10_000), isCode('LIMIT_EXCEEDED'));
  });
  it('stops a member that inflates past its small declared size, whatever the cap (MALFORMED)', async () => {
    const zip = await open(buildZip([{ name: 'liar.txt', data: loremBytes(200_000), method: 'deflate', declaredSize: 10 }]).bytes);
    assert.equal(zip.entries[0]!.uncompressedSize, 10);
    await assert.rejects(openMember(zip, zip.entries[0]!, 50_000), isCode('MALFORMED'));
  });
  it('stops a zip bomb with an honest declared size by its compression ratio (LIMIT_EXCEEDED)', async () => {
    const zeros = new Uint8Array(16 * 1024 * 1024);
    const zip = await open(buildZip([{ name: 'bomb.bin', data: zeros, method: 'deflate' }]).bytes);
    assert.equal(zip.entries[0]!.uncompressedSize, zeros.length);
    await assert.rejects(openMember(zip, zip.entries[0]!), isCode('LIMIT_EXCEEDED'));
  });
  it('stops a zip bomb by its compression ratio (LIMIT_EXCEEDED)', async () => {
    const zeros = new Uint8Array(4 * 1024 * 1024);
    const zip = await open(buildZip([{ name: 'bomb.bin', data: zeros, method: 'deflate', declaredSize: 1000 }]).bytes);
    await assert.rejects(openMember(zip, zip.entries[0]!), isCode('LIMIT_EXCEEDED'));
  });
  it('a prefix read of a bomb stays bounded', async () => {
    const zeros = new Uint8Array(4 * 1024 * 1024);
    const zip = await open(buildZip([{ name: 'bomb.bin', data: zeros, method: 'deflate' }]).bytes);
    const p = await readMemberPrefix(zip, zip.entries[0]!, 100);
    assert.equal(p.length, 100);
  });
  it('refuses a central directory larger than the limit (LIMIT_EXCEEDED)', async () => {
    const size = LIMITS.zipCentralDirectory + 100;
    const bytes = new Uint8Array(size + 22);
    bytes.set(new Bytes().u32(0x06054b50).u16(0).u16(0).u16(1).u16(1).u32(size).u32(0).u16(0).build(), size);
    await assert.rejects(open(bytes), isCode('LIMIT_EXCEEDED'));
  });
});

describe('zip: corrupt archives fail with a code, never a crash', () => {
  const good = buildZip(MEMBERS, { comment: 'x' });

  it('no end record → MALFORMED', async () => {
    await assert.rejects(open(randomBytes(1000, 3)), isCode('MALFORMED'));
    await assert.rejects(open(new Uint8Array(0)), isCode('MALFORMED'));
  });
  it('central directory offset past its end records → MALFORMED', async () => {
    const b = good.bytes.slice();
    new DataView(b.buffer).setUint32(good.eocdOffset + 16, good.eocdOffset + 1000, true);
    await assert.rejects(open(b), isCode('MALFORMED'));
  });
  it('central directory size larger than the file → MALFORMED', async () => {
    const b = good.bytes.slice();
    new DataView(b.buffer).setUint32(good.eocdOffset + 12, b.length * 2, true);
    await assert.rejects(open(b), isCode('MALFORMED'));
  });
  it('central directory without entry signatures → MALFORMED', async () => {
    const b = good.bytes.slice();
    b.fill(0x41, good.centralDirectoryOffset, good.eocdOffset);
    await assert.rejects(open(b), isCode('MALFORMED'));
  });
  it('a local header offset pointing at garbage → MALFORMED on open', async () => {
    const b = good.bytes.slice();
    // Point entry 0's local header offset into member 2's random data.
    new DataView(b.buffer).setUint32(good.centralDirectoryOffset + 42, good.members[2]!.dataOffset, true);
    const zip = await open(b);
    await assert.rejects(openMember(zip, zip.entries[0]!), isCode('MALFORMED'));
  });
  it('a member running past the end of the file → UNEXPECTED_EOF', async () => {
    const b = good.bytes.slice();
    new DataView(b.buffer).setUint32(good.centralDirectoryOffset + 20, 0x7fffffff, true);
    const zip = await open(b);
    await assert.rejects(openMember(zip, zip.entries[0]!), isCode('UNEXPECTED_EOF'));
  });
  it('invalid deflate data → MALFORMED', async () => {
    const junk = randomBytes(3000, 5);
    junk[0] = 0xff; // BTYPE 11: reserved, always invalid
    const b = buildZip([{ name: 'bad.txt', data: 'hello', method: 'deflate' }]);
    // Replace the deflate stream by junk of the same length.
    const m = b.members[0]!;
    const bytes = b.bytes.slice();
    bytes.set(junk.subarray(0, m.compressedSize), m.dataOffset);
    const zip = await open(bytes);
    await assert.rejects(openMember(zip, zip.entries[0]!), isCode('MALFORMED'));
  });
  it('a truncated deflate stream is not returned as if complete', async () => {
    const data = loremBytes(100_000);
    const full = deflateSync(data);
    // A member whose compressed bytes stop half way (headers consistent with the cut).
    const b = buildZip([{ name: 'cut.txt', data: 'x', method: 'store' }]);
    const zip = await open(b.bytes);
    const cut = full.subarray(0, full.length >> 1);
    const src = new BytesSource(new Uint8Array([...b.bytes.subarray(0, 30 + 7), ...cut]));
    const entry = { ...zip.entries[0]!, method: 8, compressedSize: cut.length, uncompressedSize: data.length, localHeaderOffset: 0 };
    const fake: ZipArchive = { ...zip, source: src, entries: [entry] };
    await assert.rejects(openMember(fake, entry), (e: unknown) => e instanceof ModelwiseError && (e.code === 'MALFORMED' || e.code === 'UNEXPECTED_EOF'));
  });
  it('fuzz: random damage to the end of archives only ever yields ModelwiseError', async () => {
    const r = rng(2024);
    const bases = [good, buildZip(MEMBERS, { zip64: true }), buildZip(MEMBERS, { prefix: randomBytes(100, 8) })];
    let opened = 0;
    for (let iter = 0; iter < 1000; iter++) {
      const base = bases[iter % bases.length]!;
      const b = base.bytes.slice();
      // Mostly the central directory and end records; sometimes anywhere (local headers, deflate data).
      const from = r() < 0.7 ? base.centralDirectoryOffset : 0;
      const flips = 1 + Math.floor(r() * 8);
      for (let k = 0; k < flips; k++) {
        const at = from + Math.floor(r() * (b.length - from));
        b[at] = r() < 0.3 ? 0xff : Math.floor(r() * 256);
      }
      const bytes = r() < 0.1 ? b.subarray(0, Math.floor(r() * b.length)) : b;
      let zip: ZipArchive;
      try {
        zip = await open(bytes, `fuzz-${iter}`);
      } catch (e) {
        assert.ok(e instanceof ModelwiseError, `iteration ${iter}: openZip threw ${String(e)}`);
        continue;
      }
      opened++;
      for (const entry of zip.entries.slice(0, 10)) {
        for (const op of [() => openMember(zip, entry, 1024 * 1024), () => readMemberPrefix(zip, entry, 64)]) {
          try {
            const out = await op();
            if (!(out instanceof Uint8Array)) await out.read(0, 64);
          } catch (e) {
            assert.ok(e instanceof ModelwiseError, `iteration ${iter}, ${entry.name}: threw ${String(e)}`);
          }
        }
      }
    }
    assert.ok(opened > 0);
  });
});
