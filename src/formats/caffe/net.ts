/**
 * A binary `.caffemodel` NetParameter walked over its file with blob payloads skipped
 * (https://github.com/BVLC/caffe/blob/master/src/caffe/proto/caffe.proto):
 * NetParameter { name = 1; layers = 2 (V1); input = 3; input_dim = 4; input_shape = 8; layer = 100 },
 * LayerParameter { name = 1; type = 2; bottom = 3; top = 4; blobs = 7 },
 * V1LayerParameter { layer = 1 (V0); bottom = 2; top = 3; name = 4; type = 5 (enum); blobs = 6 },
 * V0LayerParameter { name = 1; type = 2; blobs = 50 },
 * BlobProto { num = 1; channels = 2; height = 3; width = 4; data = 5 (packed float); diff = 6;
 *   shape = 7 (BlobShape { dim = 1 packed int64 }); double_data = 8; double_diff = 9 }.
 */
import { SourceFieldReader, WIRE, int64, readVarint, type ProtoField } from '../../codecs/protobuf.js';
import { decodeUtf8 } from '../../io/bytes.js';
import type { ByteSource } from '../../io/source.js';
import type { Diagnostic } from '../../types.js';
import { V1_LAYER_TYPES } from './proto.js';

export interface CaffeBlob {
  /** BlobShape dims when `shape` is present, else [num, channels, height, width] (legacy, 0 when unset). */
  shape: number[];
  dtype: 'f32' | 'f64';
  /** Values stored (data or double_data), when counted. */
  count: number;
  /** First value payload (absolute offset) and how the values are stored. */
  at?: number;
  packed: boolean;
  /** The BlobProto message, for re-reading unpacked values. */
  msgAt: number;
  msgEnd: number;
}

export interface CaffeLayer {
  name: string;
  type: string;
  bottoms: string[];
  tops: string[];
  blobs: CaffeBlob[];
  v1: boolean;
}

export interface CaffeNet {
  name?: string;
  inputs: string[];
  inputDims: number[];
  inputShapes: number[][];
  layers: CaffeLayer[];
  diagnostics: Diagnostic[];
  partial: boolean;
}

/** Caps: a net has at most thousands of layers; budgets bound reads of everything but blob payloads. */
export const NET_LIMITS = { budget: 64 * 1024 * 1024, layers: 1_000_000, fieldsPerMessage: 10_000_000 } as const;

class NetWalker {
  readonly r: SourceFieldReader;
  readonly net: CaffeNet = { inputs: [], inputDims: [], inputShapes: [], layers: [], diagnostics: [], partial: false };
  constructor(readonly source: ByteSource) {
    this.r = new SourceFieldReader(source, { minWindow: 512, maxWindow: 1024 * 1024, budget: NET_LIMITS.budget });
  }

  private bad(what: string, at: number): void {
    this.net.partial = true;
    const code = this.r.exhausted ? 'LIMIT_EXCEEDED' : 'MALFORMED';
    if (this.net.diagnostics.length < 20) this.net.diagnostics.push({ code, message: `${this.source.name}: ${what} unreadable at offset ${at}${this.r.exhausted ? ' (read budget spent)' : ''}` });
  }

  private async *walk(at: number, end: number, what: string): AsyncGenerator<ProtoField> {
    let p = at;
    for (let n = 0; p < end; n++) {
      const f = n < NET_LIMITS.fieldsPerMessage ? await this.r.field(p, end) : undefined;
      if (!f) return this.bad(what, p);
      yield f;
      p = f.end;
    }
  }

  private async str(f: ProtoField): Promise<string> {
    const b = f.wire === WIRE.len ? await this.r.bytes(f, 64 * 1024) : undefined;
    return b ? decodeUtf8(b) : '';
  }

  private async ints(f: ProtoField, out: number[]): Promise<void> {
    if (f.wire === WIRE.varint) out.push(int64(f.lo!, f.hi!));
    else if (f.wire === WIRE.len) {
      const b = await this.r.bytes(f, 64 * 1024);
      for (let p = 0; b && p < b.length; ) {
        const v = readVarint(b, p);
        if (!v) break;
        out.push(int64(v.lo, v.hi));
        p += v.size;
      }
    }
  }

  async run(): Promise<CaffeNet> {
    const size = this.source.size;
    for await (const f of this.walk(0, size, 'NetParameter field')) {
      if (f.field === 1) this.net.name = await this.str(f);
      else if (f.field === 3) this.net.inputs.push(await this.str(f));
      else if (f.field === 4) await this.ints(f, this.net.inputDims);
      else if (f.field === 8 && f.wire === WIRE.len) {
        const dims: number[] = [];
        for await (const g of this.walk(f.at, f.end, 'input_shape')) if (g.field === 1) await this.ints(g, dims);
        this.net.inputShapes.push(dims);
      } else if ((f.field === 100 || f.field === 2) && f.wire === WIRE.len) {
        if (this.net.layers.length >= NET_LIMITS.layers) return this.net;
        this.net.layers.push(await this.layer(f, f.field === 2));
      }
    }
    return this.net;
  }

  private async layer(f: ProtoField, v1: boolean): Promise<CaffeLayer> {
    const L: CaffeLayer = { name: '', type: '', bottoms: [], tops: [], blobs: [], v1 };
    const v0Blobs: CaffeBlob[] = [];
    for await (const g of this.walk(f.at, f.end, `layer at offset ${f.tagAt}`)) {
      if (!v1) {
        if (g.field === 1) L.name = await this.str(g);
        else if (g.field === 2) L.type = await this.str(g);
        else if (g.field === 3) L.bottoms.push(await this.str(g));
        else if (g.field === 4) L.tops.push(await this.str(g));
        else if (g.field === 7 && g.wire === WIRE.len) L.blobs.push(await this.blob(g));
      } else {
        if (g.field === 4) L.name = await this.str(g);
        else if (g.field === 5 && g.wire === WIRE.varint) L.type = V1_LAYER_TYPES[g.value ?? -1] ?? `V1Type${g.value}`;
        else if (g.field === 2) L.bottoms.push(await this.str(g));
        else if (g.field === 3) L.tops.push(await this.str(g));
        else if (g.field === 6 && g.wire === WIRE.len) L.blobs.push(await this.blob(g));
        else if (g.field === 1 && g.wire === WIRE.len) {
          // V0LayerParameter (pre-2014): name, type string, blobs = 50
          for await (const h of this.walk(g.at, g.end, `V0 layer at offset ${g.tagAt}`)) {
            if (h.field === 1 && !L.name) L.name = await this.str(h);
            else if (h.field === 2 && !L.type) L.type = await this.str(h);
            else if (h.field === 50 && h.wire === WIRE.len) v0Blobs.push(await this.blob(h));
          }
        }
      }
    }
    // Caffe's UpgradeV0Net moves V0 blobs to the layer; only when the V1 layer has none of its own.
    if (L.blobs.length === 0 && v0Blobs.length > 0) L.blobs = v0Blobs;
    return L;
  }

  private async blob(f: ProtoField): Promise<CaffeBlob> {
    const legacy = [0, 0, 0, 0];
    let shape: number[] | undefined;
    const data = { count: 0, at: undefined as number | undefined, fields: 0 };
    const dbl = { count: 0, at: undefined as number | undefined, fields: 0 };
    for await (const g of this.walk(f.at, f.end, `blob at offset ${f.tagAt}`)) {
      if (g.field >= 1 && g.field <= 4 && g.wire === WIRE.varint) legacy[g.field - 1] = int64(g.lo!, g.hi!) | 0;
      else if (g.field === 7 && g.wire === WIRE.len) {
        shape ??= [];
        for await (const h of this.walk(g.at, g.end, 'blob shape')) if (h.field === 1) await this.ints(h, shape);
      } else if (g.field === 5 || g.field === 8) {
        const d = g.field === 5 ? data : dbl;
        const size = g.field === 5 ? 4 : 8;
        d.at ??= g.at;
        d.fields++;
        d.count += g.wire === WIRE.len ? Math.floor(g.length / size) : 1;
      }
    }
    const f64 = dbl.count > 0;
    const d = f64 ? dbl : data;
    return { shape: shape ?? legacy, dtype: f64 ? 'f64' : 'f32', count: d.count, ...(d.at !== undefined ? { at: d.at } : {}), packed: d.fields <= 1, msgAt: f.at, msgEnd: f.end };
  }
}

/** Walk a binary caffemodel. */
export function readCaffeNet(source: ByteSource): Promise<CaffeNet> {
  return new NetWalker(source).run();
}
