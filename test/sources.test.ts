/**
 * Byte sources and trees: the universal ones (src/io) and the Node file/folder ones (src/node).
 * Temp folders live under os.tmpdir() and are removed afterwards.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelwiseError } from '../src/errors.js';
import { BlobSource, BytesSource, CachedSource, CountingSource, SliceSource, readExact, type ByteSource } from '../src/io/source.js';
import { MemoryTree, SubTree, basename, dirname, joinPath, safeRelativePath } from '../src/io/tree.js';
import { FileSource } from '../src/node/file-source.js';
import { DirTree } from '../src/node/dir-tree.js';

/** 0, 1, 2, … 255, 0, 1 … so every byte says where it came from. */
function ramp(n: number, seed = 0): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed + (i >> 8)) & 0xff;
  return b;
}

function isCode(code: string) {
  return (e: unknown) => e instanceof ModelwiseError && e.code === code;
}

/** A source that records every read it serves. */
class LoggingSource implements ByteSource {
  readonly log: [number, number][] = [];
  constructor(private readonly inner: ByteSource) {}
  get size() {
    return this.inner.size;
  }
  get name() {
    return this.inner.name;
  }
  read(offset: number, length: number) {
    this.log.push([offset, length]);
    return this.inner.read(offset, length);
  }
}

describe('BytesSource', () => {
  const data = ramp(1000);
  const s = new BytesSource(data, 'mem.bin');
  it('reads ranges and clamps at the end', async () => {
    assert.equal(s.size, 1000);
    assert.equal(s.name, 'mem.bin');
    assert.deepEqual(await s.read(10, 5), data.subarray(10, 15));
    assert.deepEqual(await s.read(995, 100), data.subarray(995));
    assert.equal((await s.read(1000, 10)).length, 0);
    assert.equal((await s.read(5000, 10)).length, 0);
    assert.equal((await s.read(0, 0)).length, 0);
  });
  it('refuses negative, fractional and unsafe offsets with MALFORMED', async () => {
    await assert.rejects(s.read(-1, 4), isCode('MALFORMED'));
    await assert.rejects(s.read(0, -4), isCode('MALFORMED'));
    await assert.rejects(s.read(1.5, 4), isCode('MALFORMED'));
    await assert.rejects(s.read(2 ** 60, 4), isCode('MALFORMED'));
    await assert.rejects(s.read(0, Number.NaN), isCode('MALFORMED'));
  });
  it('has a default name', () => {
    assert.equal(new BytesSource(new Uint8Array(0)).name, '<bytes>');
  });
});

describe('BlobSource', () => {
  const data = ramp(5000, 3);
  it('reads ranges of a Blob and clamps at the end', async () => {
    const s = new BlobSource(new Blob([data]));
    assert.equal(s.size, 5000);
    assert.equal(s.name, '<blob>');
    assert.deepEqual(await s.read(4000, 50), data.subarray(4000, 4050));
    assert.deepEqual(await s.read(4990, 50), data.subarray(4990));
    assert.equal((await s.read(6000, 1)).length, 0);
    await assert.rejects(s.read(-3, 1), isCode('MALFORMED'));
  });
  it('takes its name from a File, or from the caller', () => {
    assert.equal(new BlobSource(new File([data], 'dropped.gguf')).name, 'dropped.gguf');
    assert.equal(new BlobSource(new File([data], 'dropped.gguf'), 'other').name, 'other');
  });
});

describe('SliceSource', () => {
  const data = ramp(100);
  const parent = new BytesSource(data, 'parent');
  it('reads relative to its start and stops at its own end', async () => {
    const s = new SliceSource(parent, 20, 30);
    assert.equal(s.size, 30);
    assert.equal(s.name, 'parent');
    assert.deepEqual(await s.read(0, 5), data.subarray(20, 25));
    assert.deepEqual(await s.read(25, 100), data.subarray(45, 50));
    assert.equal((await s.read(30, 1)).length, 0);
    assert.equal((await s.read(1000, 1)).length, 0);
  });
  it('allows a slice that ends exactly at the end, and an empty one', async () => {
    assert.deepEqual(await new SliceSource(parent, 90, 10, 'tail').read(0, 100), data.subarray(90));
    assert.equal(new SliceSource(parent, 100, 0).size, 0);
  });
  it('refuses slices that run past the parent or start before it', () => {
    assert.throws(() => new SliceSource(parent, 90, 11), isCode('MALFORMED'));
    assert.throws(() => new SliceSource(parent, -1, 5), isCode('MALFORMED'));
    assert.throws(() => new SliceSource(parent, 0, -1), isCode('MALFORMED'));
    assert.throws(() => new SliceSource(parent, 101, 0), isCode('MALFORMED'));
  });
  it('nests', async () => {
    const inner = new SliceSource(new SliceSource(parent, 10, 80), 5, 10);
    assert.deepEqual(await inner.read(0, 10), data.subarray(15, 25));
  });
});

describe('CountingSource', () => {
  it('counts bytes actually returned and reads', async () => {
    const c = new CountingSource(new BytesSource(ramp(100), 'n'));
    assert.equal(c.size, 100);
    assert.equal(c.name, 'n');
    await c.read(0, 10);
    await c.read(95, 10); // short read: 5 bytes
    await c.read(200, 10); // past the end: 0 bytes
    assert.equal(c.bytesRead, 15);
    assert.equal(c.reads, 3);
  });
});

describe('CachedSource', () => {
  const data = ramp(10_000, 11);
  it('returns the right bytes for reads inside, across and at the end of blocks', async () => {
    const inner = new LoggingSource(new BytesSource(data, 'f'));
    const c = new CachedSource(inner, 64, 1000);
    assert.equal(c.size, 10_000);
    assert.equal(c.name, 'f');
    const cases: [number, number][] = [
      [0, 1],
      [0, 64],
      [63, 2],
      [60, 200],
      [127, 1],
      [128, 64],
      [9990, 100],
      [9999, 1],
      [10_000, 5],
      [12_345, 5],
      [1, 255], // four blocks exactly (still cached)
      [5, 0],
    ];
    for (const [o, l] of cases) {
      const got = await c.read(o, l);
      assert.deepEqual(got, data.subarray(Math.min(o, data.length), Math.min(data.length, o + l)), `read(${o}, ${l})`);
    }
    // Every inner read is block-aligned and block-sized.
    for (const [o, l] of inner.log) {
      assert.equal(o % 64, 0);
      assert.equal(l, 64);
    }
  });
  it('serves repeated reads from the cache', async () => {
    const inner = new CountingSource(new BytesSource(data));
    const c = new CachedSource(inner, 256, 8);
    await c.read(10, 20);
    await c.read(100, 50);
    await c.read(0, 256);
    assert.equal(inner.reads, 1);
    await c.read(250, 10); // crosses into block 1
    assert.equal(inner.reads, 2);
    await c.read(300, 10);
    assert.equal(inner.reads, 2);
  });
  it('shares one inner read between concurrent readers of a block', async () => {
    const inner = new CountingSource(new BytesSource(data));
    const c = new CachedSource(inner, 512, 8);
    const parts = await Promise.all([c.read(0, 10), c.read(20, 10), c.read(500, 10)]);
    assert.equal(inner.reads, 1);
    assert.deepEqual(parts[2], data.subarray(500, 510));
  });
  it('evicts the least recently used block', async () => {
    const inner = new LoggingSource(new BytesSource(data));
    const c = new CachedSource(inner, 100, 2);
    await c.read(0, 1); // block 0
    await c.read(100, 1); // block 1
    await c.read(0, 1); // block 0 again: now most recent
    await c.read(200, 1); // block 2: evicts block 1
    assert.deepEqual(inner.log.map(([o]) => o), [0, 100, 200]);
    await c.read(5, 1); // block 0 still cached
    assert.deepEqual(inner.log.map(([o]) => o), [0, 100, 200]);
    await c.read(150, 1); // block 1 was evicted: read again
    assert.deepEqual(inner.log.map(([o]) => o), [0, 100, 200, 100]);
  });
  it('passes large reads through without caching them', async () => {
    const inner = new LoggingSource(new BytesSource(data));
    const c = new CachedSource(inner, 100, 4);
    const got = await c.read(50, 1000);
    assert.deepEqual(got, data.subarray(50, 1050));
    assert.deepEqual(inner.log, [[50, 1000]]);
  });
  it('forgets a failed block so a later read retries', async () => {
    let fail = true;
    const flaky: ByteSource = {
      size: 1000,
      name: 'flaky',
      async read(o, l) {
        if (fail) throw new ModelwiseError('IO', 'boom', { file: 'flaky', offset: o });
        return data.subarray(o, Math.min(1000, o + l));
      },
    };
    const c = new CachedSource(flaky, 100, 4);
    await assert.rejects(c.read(0, 10), isCode('IO'));
    fail = false;
    assert.deepEqual(await c.read(0, 10), data.subarray(0, 10));
  });
  it('refuses invalid reads like every source', async () => {
    const c = new CachedSource(new BytesSource(data));
    await assert.rejects(c.read(-1, 1), isCode('MALFORMED'));
  });
});

describe('readExact', () => {
  const s = new BytesSource(ramp(100), 'model.bin');
  it('returns exactly the bytes asked for', async () => {
    assert.deepEqual(await readExact(s, 90, 10), ramp(100).subarray(90));
  });
  it('throws UNEXPECTED_EOF naming the file and the offset', async () => {
    await assert.rejects(readExact(s, 95, 10, 'tensor header'), (e: unknown) => {
      assert.ok(e instanceof ModelwiseError);
      assert.equal(e.code, 'UNEXPECTED_EOF');
      assert.equal(e.file, 'model.bin');
      assert.equal(e.offset, 95);
      assert.match(e.message, /model\.bin/);
      assert.match(e.message, /offset 95/);
      assert.match(e.message, /tensor header/);
      assert.deepEqual(e.toJSON(), { code: 'UNEXPECTED_EOF', message: e.message, file: 'model.bin', offset: 95 });
      return true;
    });
    await assert.rejects(readExact(s, 500, 1), isCode('UNEXPECTED_EOF'));
  });
});

describe('tree paths', () => {
  it('safeRelativePath normalises relative paths', () => {
    assert.equal(safeRelativePath('a/b/c.bin'), 'a/b/c.bin');
    assert.equal(safeRelativePath('./a//b/./c'), 'a/b/c');
    assert.equal(safeRelativePath('a\\b\\c'), 'a/b/c');
    assert.equal(safeRelativePath('a/b/'), 'a/b');
    assert.equal(safeRelativePath('..a/b..'), '..a/b..');
  });
  it('safeRelativePath refuses .., absolute paths and drive letters', () => {
    for (const p of ['..', '../x', 'a/../../x', 'a/..', 'a\\..\\b', '/etc/passwd', '\\\\server\\share', '\\x', 'C:\\x', 'c:x', 'C:/x', 'z:']) {
      assert.equal(safeRelativePath(p), undefined, p);
    }
  });
  it('basename, dirname, joinPath', () => {
    assert.equal(basename('a/b/c.onnx'), 'c.onnx');
    assert.equal(basename('c.onnx'), 'c.onnx');
    assert.equal(basename('a/b/'), 'b');
    assert.equal(basename('a\\b.bin'), 'b.bin');
    assert.equal(dirname('a/b/c.onnx'), 'a/b');
    assert.equal(dirname('c.onnx'), '');
    assert.equal(joinPath('', 'x'), 'x');
    assert.equal(joinPath('a/', 'x'), 'a/x');
    assert.equal(joinPath('a', ''), 'a');
  });
});

describe('MemoryTree and SubTree', () => {
  const src = (s: string) => new BytesSource(new TextEncoder().encode(s), s);
  const tree = new MemoryTree('drop', {
    'model.json': src('m'),
    'weights/group1-shard1of2.bin': src('w1'),
    'weights/group1-shard2of2.bin': src('w2'),
    './weights/sub/x.bin': src('x'),
    '../evil.bin': src('evil'),
    '/abs.bin': src('abs'),
    'C:\\win.bin': src('win'),
  });
  it('lists normalised safe paths only', async () => {
    const list = await tree.list();
    assert.deepEqual(
      list.map((e) => e.path).sort(),
      ['model.json', 'weights/group1-shard1of2.bin', 'weights/group1-shard2of2.bin', 'weights/sub/x.bin'],
    );
    assert.equal(list.find((e) => e.path === 'model.json')!.size, 1);
  });
  it('opens files, normalising the path, and refuses unsafe ones', async () => {
    assert.equal((await tree.open('model.json'))!.size, 1);
    assert.equal((await tree.open('./weights//group1-shard1of2.bin'))!.size, 2);
    assert.equal(await tree.open('missing.bin'), undefined);
    assert.equal(await tree.open('../evil.bin'), undefined);
    assert.equal(await tree.open('weights/../model.json'), undefined);
    assert.equal(await tree.open('/abs.bin'), undefined);
  });
  it('accepts a Map', async () => {
    const t = new MemoryTree('m', new Map([['a/b', src('ab')]]));
    assert.deepEqual(await t.list(), [{ path: 'a/b', size: 2 }]);
  });
  it('SubTree sees one folder', async () => {
    const sub = new SubTree(tree, 'weights');
    assert.equal(sub.name, 'drop/weights');
    assert.deepEqual(
      (await sub.list()).map((e) => e.path).sort(),
      ['group1-shard1of2.bin', 'group1-shard2of2.bin', 'sub/x.bin'],
    );
    assert.equal((await sub.open('group1-shard2of2.bin'))!.size, 2);
    assert.equal((await sub.open('sub/x.bin'))!.size, 1);
    assert.equal(await sub.open('../model.json'), undefined, 'cannot climb out of the subtree');
    assert.equal(await sub.open('model.json'), undefined);
    const subsub = new SubTree(sub, 'sub');
    assert.deepEqual(await subsub.list(), [{ path: 'x.bin', size: 1 }]);
  });
  it('SubTree of a name prefix does not leak siblings ("weights" vs "weights2")', async () => {
    const t = new MemoryTree('t', { 'weights/a': src('a'), 'weights2/b': src('b') });
    assert.deepEqual((await new SubTree(t, 'weights').list()).map((e) => e.path), ['a']);
  });
});

describe('FileSource and DirTree (Node)', () => {
  let dir: string;
  const data = ramp(70_000, 5);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'modelwise-sources-'));
    await writeFile(join(dir, 'a.bin'), data);
    await writeFile(join(dir, 'empty.bin'), new Uint8Array(0));
    await mkdir(join(dir, 'sub', 'deeper'), { recursive: true });
    await writeFile(join(dir, 'sub', 'b.txt'), 'hello');
    await writeFile(join(dir, 'sub', 'deeper', 'c.txt'), 'deep');
    await mkdir(join(dir, '.git'));
    await writeFile(join(dir, '.git', 'HEAD'), 'ref: refs/heads/main');
    await mkdir(join(dir, 'node_modules'));
    await writeFile(join(dir, 'node_modules', 'x.js'), '1');
    await symlink(join(dir, 'a.bin'), join(dir, 'link-to-file.bin'));
    await symlink(join(dir, 'sub'), join(dir, 'link-to-dir'));
    await writeFile(join(dir, 'outside.txt'), 'outside');
    await mkdir(join(dir, 'root'));
    await writeFile(join(dir, 'root', 'in.txt'), 'in');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('FileSource reads ranges, clamps at the end, and closes', async () => {
    const f = await FileSource.open(join(dir, 'a.bin'), 'named');
    try {
      assert.equal(f.size, 70_000);
      assert.equal(f.name, 'named');
      assert.deepEqual(await f.read(0, 16), data.subarray(0, 16));
      assert.deepEqual(await f.read(65_530, 100), data.subarray(65_530, 65_630));
      assert.deepEqual(await f.read(69_990, 100), data.subarray(69_990));
      assert.equal((await f.read(70_000, 10)).length, 0);
      assert.equal((await f.read(1e12, 10)).length, 0);
      await assert.rejects(readExact(f, 69_999, 2), isCode('UNEXPECTED_EOF'));
    } finally {
      await f.close();
    }
    const e = await FileSource.open(join(dir, 'empty.bin'));
    assert.equal(e.size, 0);
    assert.equal((await e.read(0, 10)).length, 0);
    await e.close();
  });
  it('FileSource refuses negative, fractional, NaN and unsafe offsets/lengths with MALFORMED naming file + offset', async () => {
    const f = await FileSource.open(join(dir, 'a.bin'), 'checked.bin');
    try {
      for (const [o, l] of [
        [-1, 4],
        [0, -4],
        [1.5, 4],
        [0, 2.5],
        [2 ** 60, 4],
        [0, Number.NaN],
        [Number.NaN, 1],
        [Number.POSITIVE_INFINITY, 1],
        [0, Number.POSITIVE_INFINITY],
      ] as [number, number][]) {
        await assert.rejects(f.read(o, l), (e: unknown) => {
          assert.ok(e instanceof ModelwiseError, `read(${o}, ${l})`);
          assert.equal(e.code, 'MALFORMED');
          assert.equal(e.file, 'checked.bin');
          assert.equal(e.offset, o);
          assert.match(e.message, /checked\.bin/);
          assert.match(e.message, /offset/);
          return true;
        });
      }
      // Same verdicts as the universal sources for the same calls.
      const mem = new BytesSource(data, 'checked.bin');
      for (const [o, l] of [[-1, 1], [3.5, 1], [0, -1], [10, 0], [69_999, 10], [80_000, 1]] as [number, number][]) {
        const a = await f.read(o, l).then((b) => b.length, (e: ModelwiseError) => e.code);
        const b = await mem.read(o, l).then((x) => x.length, (e: ModelwiseError) => e.code);
        assert.equal(a, b, `read(${o}, ${l})`);
      }
    } finally {
      await f.close();
    }
  });
  it('FileSource.open of a missing file is NOT_FOUND', async () => {
    await assert.rejects(FileSource.open(join(dir, 'nope.bin')), isCode('NOT_FOUND'));
  });
  it('FileSource.open of a folder fails with a ModelwiseError, not a crash on read', async () => {
    // Opening a directory for reading succeeds on Linux; reading it must then fail cleanly or
    // the open must fail: either way only ModelwiseError or a Node errno error escapes.
    let f: FileSource | undefined;
    try {
      f = await FileSource.open(join(dir, 'sub'));
    } catch (e) {
      assert.ok(e instanceof ModelwiseError);
      return;
    }
    await f.read(0, 10).then(
      () => undefined,
      (e: unknown) => assert.ok(e instanceof Error),
    );
    await f.close();
  });
  it('DirTree lists files sorted, recursively, skipping .git/node_modules and linked folders', async () => {
    const t = new DirTree(dir, 'models');
    const list = await t.list();
    assert.deepEqual(
      list.map((e) => e.path),
      ['a.bin', 'empty.bin', 'link-to-file.bin', 'outside.txt', 'root/in.txt', 'sub/b.txt', 'sub/deeper/c.txt'],
    );
    assert.equal(list.find((e) => e.path === 'link-to-file.bin')!.size, 70_000);
    assert.equal(await t.list(), await t.list(), 'the walk is memoized');
  });
  it('DirTree opens relative files and refuses escaping paths', async () => {
    const t = new DirTree(join(dir, 'root'), 'root');
    const f = await t.open('in.txt');
    assert.ok(f);
    assert.equal(f.name, 'root/in.txt');
    assert.equal(new TextDecoder().decode(await f.read(0, 10)), 'in');
    assert.equal(await t.open('../outside.txt'), undefined);
    assert.equal(await t.open('/etc/passwd'), undefined);
    assert.equal(await t.open(join(dir, 'outside.txt')), undefined);
    assert.equal(await t.open('missing.txt'), undefined);
  });
  it('DirTree names files under a name with a trailing slash without doubling it', async () => {
    const t = new DirTree(join(dir, 'root'), 'root/');
    assert.equal((await t.open('in.txt'))!.name, 'root/in.txt');
  });
  it('DirTree of a missing folder fails with IO', async () => {
    await assert.rejects(new DirTree(join(dir, 'missing')).list(), isCode('IO'));
  });
  it('SubTree over a DirTree', async () => {
    const sub = new SubTree(new DirTree(dir, 'd'), 'sub');
    assert.deepEqual((await sub.list()).map((e) => e.path), ['b.txt', 'deeper/c.txt']);
    assert.equal((await sub.open('deeper/c.txt'))!.size, 4);
    assert.equal(await sub.open('../a.bin'), undefined);
  });
});
