/**
 * 7z reader and LZMA/LZMA2/BCJ decoders: vectors made by Python's lzma module (liblzma), archives
 * built in code (test/helpers/sevenzip-writer.ts), and the 7z rules of the scanner (ARC-006: a
 * pickle hidden in a 7z archive, the nullifAI trick), with near-misses.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BytesSource } from '../io/source.js';
import { lzma2Decode, lzmaDecode } from './lzma.js';
import { decodeFolder, openSevenZip } from './sevenzip.js';
import { build7z, num } from '../../test/helpers/sevenzip-writer.js';
import { pickle } from '../../test/helpers/pickle-builder.js';
import { buildZip } from '../../test/helpers/zip-writer.js';
import { scanSource } from '../scan/scan.js';

const hex = (h: string) => Uint8Array.from(h.match(/../g)!.map((x) => parseInt(x, 16)));
const cat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

// The text Python compressed: a code line ×6, 40 random bytes, and x86 CALL/JMP patterns ×3.
const LINE = new TextEncoder().encode('def forward(self, x):\n    return torch.relu(self.fc(x)) + 0.5 * x\n');
const RAW = cat(...Array(6).fill(LINE), hex('a54dca182530bb1d6d132cded6237b2ed91e3f721fcb1971174494d6493c9d5c3460be31201e69fe'), ...Array(3).fill(hex('e810000000616263e8f0ffffff')));
const LZMA1 = hex('00321948ff4f0119adfb38f50362ef2752b72361e4c6fd223d7cbf31a555af064fd4350549b4fd7d3aa828629bba34a697da72d5be2dcf528e452eb8e785f03dc31b3cd3d4fc32ceb883c3dcc5e6eabf868380a5ed33e2368be8d126c79550d4ce517459f42c547aacf6ce092b092deffbea1902049492953bca0473bab15f8ffffb682800');
const LZMA2 = hex('e001da007f5d00321948ff4f0119adfb38f50362ef2752b72361e4c6fd223d7cbf31a555af064fd4350549b4fd7d3aa828629bba34a697da72d5be2dcf528e452eb8e785f03dc31b3cd3d4fc32ceb883c3dcc5e6eabf868380a5ed33e2368be8d126c79550d4ce517459f42c547aacf6ce092b092deffbea1902049492953bca0473b0e2b00000');
const X86_LZMA2 = hex('e001da00875d00321948ff4f0119adfb38f50362ef2752b72361e4c6fd223d7cbf31a555af064fd4350549b4fd7d3aa828629bba34a697da72d5be2dcf528e452eb8e785f03dc31b3cd3d4fc32ceb883c3dcc5e6eabf868380a5ed33e2368be8d126c79550d4ce517459f42c547aacf6ce092b092e063b7bd3869e2a37327880af5cde4e58c18116f8e20085900000');
/** LZMA properties: lc=3 lp=0 pb=2 (0x5d), dictionary 64 KiB. */
const LZMA_PROPS = Uint8Array.from([0x5d, 0, 0, 1, 0]);

const evil = pickle().proto(2).call('os', 'system', (x) => x.str('id')).stop().build_();
const benign = pickle().proto(2).global('collections', 'OrderedDict').emptyTuple().reduce().stop().build_();
const open7z = (b: Uint8Array) => openSevenZip(new BytesSource(b, 'a.7z'));
const scan7z = (b: Uint8Array, name = 'model.7z') => scanSource(new BytesSource(b, name), { path: name });

describe('LZMA decoders (liblzma vectors)', () => {
  it('decodes raw LZMA, LZMA2 and BCJ x86 + LZMA2', async () => {
    assert.equal(RAW.length, 475);
    assert.deepEqual(lzmaDecode(LZMA1, { lc: 3, lp: 0, pb: 2, dictSize: 1 << 16 }, RAW.length), RAW);
    assert.deepEqual(lzma2Decode(LZMA2, RAW.length), RAW);
    const a = await open7z(build7z([{ files: [{ name: 'f', data: RAW }], coder: '21', props: Uint8Array.from([16]), packed: X86_LZMA2, filter: '03030103' }]));
    assert.deepEqual(await decodeFolder(a, 0), RAW);
  });

  it('rejects damage instead of reading out of bounds', () => {
    assert.throws(() => lzmaDecode(LZMA1.subarray(0, 40), { lc: 3, lp: 0, pb: 2, dictSize: 1 << 16 }, RAW.length), /ends early|LZMA/);
    const bad = LZMA1.slice();
    bad[0] = 1; // the range coder's first byte must be 0
    assert.throws(() => lzmaDecode(bad, { lc: 3, lp: 0, pb: 2, dictSize: 1 << 16 }, RAW.length), /bad first bytes/);
    assert.throws(() => lzma2Decode(LZMA2, 100), /declared size/);
    assert.throws(() => lzma2Decode(Uint8Array.from([0x02, 0, 3, 1, 2, 3, 4, 0]), 10), /dictionary reset/);
  });
});

describe('7z reader', () => {
  it('lists files of solid folders, empty files, encoded headers, and decodes LZMA folders', async () => {
    for (const encodeHeader of [false, true]) {
      const b = build7z([
        { files: [{ name: 'a/data.pkl', data: benign }, { name: 'a/version', data: '3\n' }] },
        { files: [{ name: 'code.py', data: RAW }], coder: '030101', props: LZMA_PROPS, packed: LZMA1 },
      ], { emptyFiles: ['empty.txt'], encodeHeader });
      const a = await open7z(b);
      assert.equal(a.encodedHeader, encodeHeader);
      assert.deepEqual(a.files.map((f) => [f.name, f.size, f.folder, f.offset]), [['a/data.pkl', benign.length, 0, 0], ['a/version', 2, 0, benign.length], ['code.py', RAW.length, 1, 0], ['empty.txt', 0, -1, 0]]);
      assert.deepEqual(await decodeFolder(a, 1), RAW);
    }
  });

  it('7z numbers round-trip through the writer', async () => {
    for (const v of [0, 1, 0x7f, 0x80, 0x3fff, 0x4000, 123456789, 2 ** 40 + 5]) assert.ok(num(v).length >= 1);
    const a = await open7z(build7z([{ files: [{ name: 'x'.repeat(300), data: new Uint8Array(70000) }] }]));
    assert.equal(a.files[0]!.size, 70000);
  });

  it('refuses broken headers and caps sizes before decoding', async () => {
    await assert.rejects(open7z(build7z([{ files: [{ name: 'a', data: 'x' }] }], { badHeaderCrc: true })), /CRC/);
    const big = await open7z(build7z([{ files: [{ name: 'a', data: 'xy' }], unpackSize: 2 ** 40 }]));
    await assert.rejects(decodeFolder(big, 0, 1 << 20), /LIMIT|limit/);
  });
});

describe('scan: 7z containers (ARC-006)', () => {
  it('a pickle inside a 7z archive is scanned (nullifAI); near-miss: a benign pickle', async () => {
    const r = await scan7z(build7z([{ files: [{ name: 'archive/data.pkl', data: evil }] }]));
    assert.equal(r.verdict, 'malicious');
    assert.ok(r.findings.some((f) => f.rule === 'PKL-001' && f.location.includes('archive/data.pkl')));
    assert.ok(r.findings.some((f) => f.rule === 'ARC-006'));
    const ok = await scan7z(build7z([{ files: [{ name: 'archive/data.pkl', data: benign }] }], { encodeHeader: true }));
    assert.equal(ok.verdict, 'benign');
  });

  it('a PyTorch zip recompressed in a 7z folder with LZMA is found; sniffed by content, not name', async () => {
    const z = buildZip([{ name: 'm/data.pkl', data: evil }]).bytes;
    const r = await scan7z(build7z([{ files: [{ name: 'notes.txt', data: 'hello' }, { name: 'weights.bin', data: z }] }]));
    assert.equal(r.verdict, 'malicious');
    assert.ok(r.findings.some((f) => f.rule === 'PKL-001' && f.location.includes('weights.bin > m/data.pkl')));
  });

  it('ARC-005: encrypted (AES) or unsupported coders make the scan incomplete', async () => {
    const r = await scan7z(build7z([{ files: [{ name: 'data.pkl', data: evil }], coder: '06f10701', props: Uint8Array.from([1, 2]) }]));
    assert.equal(r.verdict, 'unscanned');
    assert.ok(r.findings.some((f) => f.rule === 'ARC-005' && f.evidence.includes('AES')));
    const bz = await scan7z(build7z([{ files: [{ name: 'data.pkl', data: evil }], coder: '040202' }]));
    assert.equal(bz.verdict, 'unscanned');
  });

  it('ARC-001 names, ARC-002 links, ARC-003 bombs, ARC-004 damage', async () => {
    const t = await scan7z(build7z([{ files: [{ name: '../../evil.pkl', data: benign }, { name: 'l', data: '/etc/passwd', unixMode: 0o120777 }] }]));
    assert.ok(t.findings.some((f) => f.rule === 'ARC-001'));
    assert.ok(t.findings.some((f) => f.rule === 'ARC-002'));
    const bomb = await scan7z(build7z([{ files: [{ name: 'a', data: 'xy' }], unpackSize: 2 ** 33 }]));
    assert.ok(bomb.findings.some((f) => f.rule === 'ARC-003' && f.incomplete));
    const broken = await scan7z(build7z([{ files: [{ name: 'a', data: 'x' }] }], { badHeaderCrc: true }));
    assert.equal(broken.verdict, 'malformed');
  });
});
