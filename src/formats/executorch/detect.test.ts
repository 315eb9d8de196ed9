import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BytesSource } from '../../io/source.js';
import { Probe } from '../../identify/probe.js';
import { executorch } from './index.js';

/** A front-to-back byte writer with patching, enough to lay out small flatbuffers by hand. */
class W {
  b: number[] = [];
  get pos(): number {
    return this.b.length;
  }
  align(n: number): void {
    while (this.b.length % n) this.b.push(0);
  }
  u8(...v: number[]): void {
    this.b.push(...v);
  }
  u16(v: number): void {
    this.b.push(v & 0xff, (v >> 8) & 0xff);
  }
  u32(v: number): number {
    const at = this.pos;
    this.b.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
    return at;
  }
  u64(v: number): number {
    const at = this.u32(v % 2 ** 32);
    this.u32(Math.floor(v / 2 ** 32));
    return at;
  }
  ascii(s: string): void {
    for (const c of s) this.b.push(c.charCodeAt(0));
  }
  set32(at: number, v: number): void {
    this.b[at] = v & 0xff;
    this.b[at + 1] = (v >>> 8) & 0xff;
    this.b[at + 2] = (v >>> 16) & 0xff;
    this.b[at + 3] = (v >>> 24) & 0xff;
  }
  set64(at: number, v: number): void {
    this.set32(at, v % 2 ** 32);
    this.set32(at + 4, Math.floor(v / 2 ** 32));
  }
  /** Point the uoffset slot at `slot` to `target`. */
  link(slot: number, target: number): void {
    this.set32(slot, target - slot);
  }
  /** vtable + table with `fields` 4-byte slots (0 = absent); returns the slot positions. */
  table(fields: (number | null)[]): { pos: number; slots: (number | undefined)[] } {
    this.align(2);
    const vt = this.pos;
    const present = fields.filter((f) => f !== null).length;
    this.u16(4 + 2 * fields.length);
    this.u16(4 + 4 * present);
    let k = 0;
    for (const f of fields) this.u16(f === null ? 0 : 4 + 4 * k++);
    this.align(4);
    const pos = this.pos;
    this.u32(pos - vt);
    const slots = fields.map((f) => (f === null ? undefined : this.u32(f)));
    return { pos, slots };
  }
  /** vtable + table of u64 fields. */
  table64(fields: number[]): number {
    this.align(2);
    const vt = this.pos;
    this.u16(4 + 2 * fields.length);
    this.u16(4 + 8 * fields.length);
    fields.forEach((_, k) => this.u16(4 + 8 * k));
    this.align(4);
    const pos = this.pos;
    this.u32(pos - vt);
    for (const f of fields) this.u64(f);
    return pos;
  }
  string(s: string): number {
    this.align(4);
    const at = this.u32(s.length);
    this.ascii(s);
    this.u8(0);
    return at;
  }
  bytes(): Uint8Array {
    return new Uint8Array(this.b);
  }
}

/** A Program flatbuffer: version, execution plans with names, segment count; optional eh00 header + segment data. */
function pte(opts: { ident?: string; eh?: boolean; methods?: string[]; segments?: number; segmentBytes?: number } = {}): Uint8Array {
  const w = new W();
  const rootSlot = w.u32(0);
  w.ascii(opts.ident ?? 'ET12');
  let progSizeAt = -1;
  let segBaseAt = -1;
  if (opts.eh) {
    w.ascii('eh00');
    w.u32(24);
    progSizeAt = w.u64(0);
    segBaseAt = w.u64(0);
  }
  // Program: 0 version, 1 execution_plan, 2 constant_buffer, 3 backend_delegate_data, 4 segments
  const prog = w.table([0, 0, null, null, 0]);
  w.link(rootSlot, prog.pos);
  const methods = opts.methods ?? ['forward'];
  w.align(4);
  const plans = w.pos;
  w.u32(methods.length);
  const planSlots = methods.map(() => w.u32(0));
  w.link(prog.slots[1]!, plans);
  methods.forEach((m, i) => {
    const plan = w.table([0]);
    w.link(planSlots[i]!, plan.pos);
    w.link(plan.slots[0]!, w.string(m));
  });
  w.align(4);
  const segs = w.pos;
  const n = opts.segments ?? 0;
  w.u32(n);
  const segSlots = Array.from({ length: n }, () => w.u32(0));
  w.link(prog.slots[4]!, segs);
  // DataSegment {offset, size}: the segments share the appended bytes equally.
  const each = Math.floor((opts.segmentBytes ?? 0) / Math.max(n, 1));
  segSlots.forEach((slot, i) => w.link(slot, w.table64([i * each, each])));
  if (opts.eh) {
    w.set64(progSizeAt, w.pos);
    w.align(16);
    w.set64(segBaseAt, opts.segmentBytes ? w.pos : 0);
    for (let i = 0; i < (opts.segmentBytes ?? 0); i++) w.u8(i & 0xff);
  }
  return w.bytes();
}

/** A BundledProgram: 0 version, 1 method_test_suites [{method_name}], 2 program [ubyte]. */
function bpte(inner: Uint8Array, suites: string[] = ['forward']): Uint8Array {
  const w = new W();
  const rootSlot = w.u32(0);
  w.ascii('BP08');
  const root = w.table([0, 0, 0]);
  w.link(rootSlot, root.pos);
  w.align(4);
  const vec = w.pos;
  w.u32(suites.length);
  const slots = suites.map(() => w.u32(0));
  w.link(root.slots[1]!, vec);
  suites.forEach((s, i) => {
    const t = w.table([0]);
    w.link(slots[i]!, t.pos);
    w.link(t.slots[0]!, w.string(s));
  });
  // force_align 32 on the program bytes: the data (after the length) starts on 32.
  while ((w.pos + 4) % 32) w.u8(0);
  const prog = w.u32(inner.length);
  w.u8(...inner);
  w.link(root.slots[2]!, prog);
  return w.bytes();
}

const detect = (b: Uint8Array, name = 'model.pte') => executorch.detect!(new Probe(new BytesSource(b, name), name));

describe('executorch detect', () => {
  it('plain ET12 program', async () => {
    const d = await detect(pte({ segments: 1 }));
    assert.equal(d?.format.id, 'executorch');
    assert.equal(d?.format.variant, 'pte');
    assert.equal(d?.format.version, 'ET12');
    assert.equal(d?.confidence, 'high');
    assert.equal(d?.evidence[0], 'ExecuTorch flatbuffer identifier ET12; Program.version 0, 1 execution plan: forward, 1 data segment');
  });

  it('extended header eh00 with segments', async () => {
    const b = pte({ eh: true, methods: ['forward', 'encode'], segments: 1, segmentBytes: 64 });
    const d = await detect(b, 'model.bin');
    assert.equal(d?.format.variant, 'pte');
    assert.equal(d?.confidence, 'high');
    assert.match(d!.evidence[0]!, /^ExecuTorch flatbuffer identifier ET12, extended header eh00 \(program size \d+, segment base \d+\); Program\.version 0, 2 execution plans: forward, encode/);
    assert.equal(d?.details?.extendedHeader, true);
    assert.equal(d?.details?.methods, 'forward,encode');
  });

  it('other schema digits are accepted', async () => {
    assert.equal((await detect(pte({ ident: 'ET11' })))?.format.version, 'ET11');
  });

  it('segments cut off: not high', async () => {
    const b = pte({ eh: true, segments: 1, segmentBytes: 256 });
    const d = await detect(b.subarray(0, b.length - 200));
    assert.notEqual(d?.confidence, 'high');
    assert.match(d!.evidence.join(' '), /truncated/);
  });

  it('bundled program', async () => {
    const d = await detect(bpte(pte({ methods: ['forward'] }), ['forward']), 'model.bpte');
    assert.equal(d?.format.variant, 'bundled-program');
    assert.equal(d?.format.version, 'BP08');
    assert.equal(d?.confidence, 'high');
    assert.match(d!.evidence[0]!, /bundled program, flatbuffer identifier BP08, schema version 0; 1 method test suite \(forward\); embeds a \d+-byte ExecuTorch program \(ET12\)/);
    assert.equal(d?.details?.programIdentifier, 'ET12');
  });

  describe('near misses', () => {
    it('text with ET12 at offset 4', async () => {
      assert.equal(await detect(new TextEncoder().encode('abcdET12 is not a program, just text that happens to match')), undefined);
    });
    it('root offset out of range: nothing, or low for a .pte name', async () => {
      const b = pte();
      new DataView(b.buffer).setUint32(0, 0x00ffff00, true);
      assert.equal(await detect(b, 'x.bin'), undefined);
      assert.equal((await detect(b, 'x.pte'))?.confidence, 'low');
    });
    it('garbage vtable', async () => {
      const b = pte();
      const root = new DataView(b.buffer).getUint32(0, true);
      new DataView(b.buffer).setInt32(root, -100000, true);
      assert.equal(await detect(b), undefined);
    });
    it('random bytes, non-digit identifiers, TFLite', async () => {
      const r = new Uint8Array(1024);
      let x = 3;
      for (let i = 0; i < r.length; i++) r[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
      assert.equal(await detect(r), undefined);
      assert.equal(await detect(pte({ ident: 'ETab' })), undefined);
      assert.equal(await detect(pte({ ident: 'TFL3' })), undefined);
    });
  });
});
