/** Builds pickle byte streams opcode by opcode, for tests of the walker, the PyTorch reader and the scanner. */
export class PickleBuilder {
  private parts: number[] = [];
  raw(...bytes: number[]): this {
    this.parts.push(...bytes);
    return this;
  }
  text(s: string): this {
    for (const c of Buffer.from(s, 'latin1')) this.parts.push(c);
    return this;
  }
  proto(n = 2): this {
    return this.raw(0x80, n);
  }
  mark(): this {
    return this.raw(0x28);
  }
  stop(): this {
    return this.raw(0x2e);
  }
  none(): this {
    return this.raw(0x4e);
  }
  int(n: number): this {
    if (n >= 0 && n < 256) return this.raw(0x4b, n);
    const b = Buffer.alloc(4);
    b.writeInt32LE(n);
    return this.raw(0x4a, ...b);
  }
  /** SHORT_BINUNICODE / BINUNICODE */
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    if (b.length < 256) return this.raw(0x8c, b.length, ...b);
    const l = Buffer.alloc(4);
    l.writeUInt32LE(b.length);
    return this.raw(0x58, ...l, ...b);
  }
  /** BINUNICODE (protocol 1+ string usable in protocol 2 streams). */
  binunicode(s: string): this {
    const b = Buffer.from(s, 'utf8');
    const l = Buffer.alloc(4);
    l.writeUInt32LE(b.length);
    return this.raw(0x58, ...l, ...b);
  }
  bytes(b: Uint8Array): this {
    const l = Buffer.alloc(4);
    l.writeUInt32LE(b.length);
    return this.raw(0x42, ...l, ...b);
  }
  global(module: string, name: string): this {
    return this.raw(0x63).text(`${module}\n${name}\n`);
  }
  stackGlobal(): this {
    return this.raw(0x93);
  }
  inst(module: string, name: string): this {
    return this.raw(0x69).text(`${module}\n${name}\n`);
  }
  tuple(): this {
    return this.raw(0x74);
  }
  tuple1(): this {
    return this.raw(0x85);
  }
  tuple2(): this {
    return this.raw(0x86);
  }
  tuple3(): this {
    return this.raw(0x87);
  }
  emptyTuple(): this {
    return this.raw(0x29);
  }
  emptyDict(): this {
    return this.raw(0x7d);
  }
  emptyList(): this {
    return this.raw(0x5d);
  }
  setitem(): this {
    return this.raw(0x73);
  }
  setitems(): this {
    return this.raw(0x75);
  }
  append(): this {
    return this.raw(0x61);
  }
  reduce(): this {
    return this.raw(0x52);
  }
  build(): this {
    return this.raw(0x62);
  }
  newobj(): this {
    return this.raw(0x81);
  }
  obj(): this {
    return this.raw(0x6f);
  }
  binput(i: number): this {
    return this.raw(0x71, i);
  }
  binget(i: number): this {
    return this.raw(0x68, i);
  }
  memoize(): this {
    return this.raw(0x94);
  }
  binpersid(): this {
    return this.raw(0x51);
  }
  /** A call `module.name(*args)` where args are pushed by `args`. */
  call(module: string, name: string, args: (b: this) => void): this {
    this.global(module, name).mark();
    args(this);
    return this.tuple().reduce();
  }
  build_(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
  get length(): number {
    return this.parts.length;
  }
}

export const pickle = (): PickleBuilder => new PickleBuilder();
