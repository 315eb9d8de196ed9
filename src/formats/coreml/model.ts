/**
 * A Core ML `Model` message (coremltools mlmodel/format/Model.proto) walked lazily over its file:
 * specificationVersion = 1, description = 2, isUpdatable = 10, one model-type field (./spec.ts
 * MODEL_TYPES). Pipelines (Pipeline { models = 1, names = 2 }; PipelineClassifier/Regressor
 * { pipeline = 1 }) recurse; neural networks give layers and WeightParams (./nn.ts); ML programs
 * give MIL ops and blob-file constants (./mil.ts). Inline weights are located, never read.
 */
import { SourceFieldReader, WIRE, walkMessage, type ProtoField } from '../../codecs/protobuf.js';
import { LIMITS } from '../../limits.js';
import type { ByteSource } from '../../io/source.js';
import type { Diagnostic, TensorInfo, TensorQuantization } from '../../types.js';
import { parseFeature, parseMetadata, type Feature, type Metadata } from './features.js';
import { MilReader, type BlobConst, type ProgramFacts } from './mil.js';
import { LAYER_KINDS, LAYER_PARAMS, WEIGHT_FIELDS } from './nn.js';
import { MODEL_TYPES } from './spec.js';

const NN_KINDS = new Set(['neuralNetwork', 'neuralNetworkClassifier', 'neuralNetworkRegressor']);
const PIPELINE_KINDS = new Set(['pipeline', 'pipelineClassifier', 'pipelineRegressor']);
const SMALL = 16 * 1024 * 1024;

export interface CoreMLModel {
  specificationVersion?: number;
  isUpdatable: boolean;
  kind?: string;
  inputs: Feature[];
  outputs: Feature[];
  predictedFeatureName?: string;
  predictedProbabilitiesName?: string;
  metadata: Metadata;
  ops: Record<string, number>;
  /** WeightParams of neural networks (offsets in the model file). */
  tensors: TensorInfo[];
  /** Blob-file constants of ML programs (resolved against weight.bin by the inspector). */
  blobs: BlobConst[];
  /** The oracle-style outline: "neuralNetwork (12 layers)", "models[0]=featureVectorizer" … */
  outline: string[];
  functions: string[];
  layers: number;
  diagnostics: Diagnostic[];
}

export async function readModel(source: ByteSource, budget = 1024 * 1024 * 1024): Promise<CoreMLModel> {
  const r = new SourceFieldReader(source, { minWindow: 4096, maxWindow: 1024 * 1024, budget });
  const m: CoreMLModel = { isUpdatable: false, inputs: [], outputs: [], metadata: { userDefined: {} }, ops: {}, tensors: [], blobs: [], outline: [], functions: [], layers: 0, diagnostics: [] };
  const walker = new Walker(r, m);
  let typeField: ProtoField | undefined;
  const w = await walkMessage(r, 0, source.size, async (f) => {
    if (f.field === 1 && f.wire === WIRE.varint) m.specificationVersion = f.value;
    else if (f.field === 2 && f.wire === WIRE.len) await walker.description(f);
    else if (f.field === 10 && f.wire === WIRE.varint) m.isUpdatable = f.value === 1;
    else if (MODEL_TYPES[f.field] && f.wire === WIRE.len) typeField = f; // a oneof: the last one wins
  });
  if (!w.ok) m.diagnostics.push({ code: 'MALFORMED', message: `${source.name}: Model read partially (${r.exhausted ? 'read budget spent' : `bad field at byte ${w.errorAt}`})` });
  if (typeField) {
    m.kind = MODEL_TYPES[typeField.field];
    await walker.model(m.kind!, typeField, '', 0);
  }
  return m;
}

class Walker {
  private readonly mil: MilReader;
  private damage = 0;
  constructor(private readonly r: SourceFieldReader, private readonly m: CoreMLModel) {
    this.mil = new MilReader(r, m.diagnostics);
  }

  /** walkMessage, recording a diagnostic (the first few) when a message does not parse to its end. */
  private async walk(f: ProtoField, what: string, visit: (g: ProtoField) => Promise<boolean | void> | boolean | void): Promise<void> {
    const w = await walkMessage(this.r, f.at, f.end, visit);
    if (w.ok) return;
    if (this.damage++ < 10) {
      const why = this.r.exhausted ? 'read budget spent' : `bad protobuf field at byte ${w.errorAt}`;
      this.m.diagnostics.push({ code: 'MALFORMED', message: `${what} read partially (${why})` });
    }
  }

  async description(d: ProtoField): Promise<void> {
    await this.walk(d, 'ModelDescription', async (f) => {
      if (f.wire !== WIRE.len) return;
      if (f.field === 1 || f.field === 10) {
        const b = await this.r.bytes(f, SMALL);
        if (b) (f.field === 1 ? this.m.inputs : this.m.outputs).push(parseFeature(b));
      } else if (f.field === 11) this.m.predictedFeatureName = await this.r.string(f, 1 << 16);
      else if (f.field === 12) this.m.predictedProbabilitiesName = await this.r.string(f, 1 << 16);
      else if (f.field === 100) {
        const b = await this.r.bytes(f, SMALL);
        if (b) this.m.metadata = parseMetadata(b);
      }
    });
  }

  /** One model of kind `kind` in field `f` (the top model, or a pipeline's sub-model). */
  async model(kind: string, f: ProtoField, prefix: string, depth: number): Promise<void> {
    if (depth > 32) {
      this.m.diagnostics.push({ code: 'LIMIT_EXCEEDED', message: 'pipelines nested too deep; inner models not read' });
      return;
    }
    if (NN_KINDS.has(kind)) {
      const before = this.m.layers;
      await this.network(f, prefix, 0);
      this.m.outline.push(`${prefix}${kind} (${this.m.layers - before} layers)`);
    } else if (PIPELINE_KINDS.has(kind)) {
      const models = await this.pipelineModels(kind, f);
      this.m.outline.push(`${prefix}${kind} of ${models.length} models`);
      for (const [i, sub] of models.entries()) {
        const sk = await this.subModelKind(sub);
        const p = `${prefix}models[${i}]/`;
        if (sk && (NN_KINDS.has(sk.kind) || PIPELINE_KINDS.has(sk.kind) || sk.kind === 'mlProgram')) await this.model(sk.kind, sk.field, p, depth + 1);
        else {
          const k = sk?.kind ?? 'None';
          this.m.ops[k] = (this.m.ops[k] ?? 0) + 1;
          this.m.outline.push(`${p.slice(0, -1)}=${k}`);
        }
      }
    } else if (kind === 'mlProgram') {
      const facts: ProgramFacts = { functions: [], ops: this.m.ops, blobs: [], opCount: 0 };
      await this.mil.program(f.at, f.end, facts);
      for (const b of facts.blobs) this.m.blobs.push({ ...b, name: prefix + b.name });
      this.m.functions.push(...facts.functions);
      this.m.outline.push(`${prefix}mlProgram (functions: ${facts.functions.join(', ')})`);
    } else {
      this.m.ops[kind] = (this.m.ops[kind] ?? 0) + 1;
      this.m.outline.push(`${prefix}${kind}`);
    }
  }

  private async pipelineModels(kind: string, f: ProtoField): Promise<ProtoField[]> {
    let pipe: ProtoField | undefined = kind === 'pipeline' ? f : undefined;
    if (!pipe) {
      await this.walk(f, kind, (g) => {
        if (g.field === 1 && g.wire === WIRE.len) pipe = g;
      });
    }
    const models: ProtoField[] = [];
    if (pipe) {
      await this.walk(pipe, 'Pipeline', (g) => {
        if (g.field === 1 && g.wire === WIRE.len) models.push(g);
      });
    }
    return models;
  }

  /** The model-type field of a sub-model (a nested Model message). */
  private async subModelKind(sub: ProtoField): Promise<{ kind: string; field: ProtoField } | undefined> {
    let out: { kind: string; field: ProtoField } | undefined;
    await this.walk(sub, 'pipeline sub-model', (g) => {
      if (MODEL_TYPES[g.field] && g.wire === WIRE.len) out = { kind: MODEL_TYPES[g.field]!, field: g };
    });
    return out;
  }

  /** NeuralNetwork(Classifier|Regressor) in `f`: layers = 1. */
  private async network(f: ProtoField, prefix: string, depth: number): Promise<void> {
    if (depth > LIMITS.protobufDepth) {
      this.m.diagnostics.push({ code: 'LIMIT_EXCEEDED', message: 'neural networks nested too deep; inner layers not read' });
      return;
    }
    await this.walk(f, 'NeuralNetwork', async (g) => {
      if (g.field === 1 && g.wire === WIRE.len) await this.layer(g, prefix, depth);
    });
  }

  private async layer(f: ProtoField, prefix: string, depth: number): Promise<void> {
    let name = '';
    let params: ProtoField | undefined;
    await this.walk(f, 'NeuralNetworkLayer', async (g) => {
      if (g.field === 1 && g.wire === WIRE.len) name = (await this.r.string(g, 1 << 20)) ?? '';
      else if (g.field >= 100 && g.wire === WIRE.len) params = g; // the `layer` oneof
    });
    this.m.layers++;
    const p = params as ProtoField | undefined;
    const kind = p ? (LAYER_KINDS[p.field] ?? `layer_${p.field}`) : 'None';
    this.m.ops[kind] = (this.m.ops[kind] ?? 0) + 1;
    const message = LAYER_PARAMS[kind];
    if (p && message) await this.weights(p, message, prefix + name, prefix + name, depth);
  }

  /** Every populated WeightParams inside `f` (a message of type `message`), named `<path>.<field>`. */
  private async weights(f: ProtoField, message: string, path: string, layerPath: string, depth: number): Promise<void> {
    const spec = WEIGHT_FIELDS[message];
    if (!spec || depth > LIMITS.protobufDepth) return;
    const counts: Record<number, number> = {};
    const items: { g: ProtoField; s: (typeof spec)[number]; i: number }[] = [];
    await this.walk(f, message, (g) => {
      const s = spec[g.field];
      if (!s || g.wire !== WIRE.len) return;
      const i = counts[g.field] ?? 0;
      counts[g.field] = i + 1;
      items.push({ g, s, i });
    });
    for (const { g, s, i } of items) {
      const nm = `${path}.${s.name}${s.repeated ? `[${i}]` : ''}`;
      if (s.kind === 'weights') {
        const t = await this.weightParams(g, nm);
        if (t) this.m.tensors.push(t);
      } else if (s.kind === 'network') await this.network(g, `${layerPath}.${s.name}/`, depth + 1);
      else await this.weights(g, s.kind, nm, layerPath, depth + 1);
    }
  }

  /** WeightParams → a tensor: floatValue, float16Value, int8RawValue, rawValue (in the oracle's order). */
  private async weightParams(f: ProtoField, name: string): Promise<TensorInfo | undefined> {
    let floats = 0;
    let runs = 0;
    let loose = 0;
    let packed: ProtoField | undefined;
    let f16: ProtoField | undefined;
    let raw: ProtoField | undefined;
    let i8: ProtoField | undefined;
    let quant: ProtoField | undefined;
    await this.walk(f, `WeightParams ${name}`, (g) => {
      if (g.field === 1 && g.wire === WIRE.len) {
        floats += Math.floor(g.length / 4);
        runs++;
        packed = g;
      } else if (g.field === 1 && g.wire === WIRE.i32) {
        floats++;
        loose++;
      } else if (g.field === 2 && g.wire === WIRE.len) f16 = g;
      else if (g.field === 30 && g.wire === WIRE.len) raw = g;
      else if (g.field === 31 && g.wire === WIRE.len) i8 = g;
      else if (g.field === 40 && g.wire === WIRE.len) quant = g;
    });
    const at = (x: ProtoField) => ({ byteLength: x.length, offset: x.at });
    if (floats > 0) {
      // One packed run is one contiguous little-endian f32 range; anything else has no single range.
      const p = packed as ProtoField | undefined;
      return { name, dtype: 'f32', shape: [floats], ...(p && runs === 1 && loose === 0 ? at(p) : { byteLength: floats * 4, offset: null, storage: 'scattered-floats' }) };
    }
    const h = f16 as ProtoField | undefined;
    if (h && h.length > 0) return { name, dtype: 'f16', shape: [Math.floor(h.length / 2)], ...at(h) };
    const q8 = i8 as ProtoField | undefined;
    const q = quant ? await this.quantization(quant) : undefined;
    if (q8 && q8.length > 0) return { name, dtype: 'i8', shape: [q8.length], ...at(q8), ...(q ? { quantization: q } : {}) };
    const rw = raw as ProtoField | undefined;
    if (rw && rw.length > 0) {
      if (q) {
        const bits = (q.bits as number) || 8;
        return { name, dtype: `q${bits}`, shape: [Math.floor((rw.length * 8) / bits)], ...at(rw), quantization: { ...q, bits } };
      }
      return { name, dtype: 'raw_bytes', shape: [rw.length], ...at(rw) };
    }
    return undefined;
  }

  /** QuantizationParams: numberOfBits = 1, linearQuantization = 101, lookupTableQuantization = 102. */
  private async quantization(f: ProtoField): Promise<TensorQuantization> {
    const q: TensorQuantization = { bits: 0 };
    await walkMessage(this.r, f.at, f.end, async (g) => {
      if (g.field === 1 && g.wire === WIRE.varint) q.bits = g.value ?? 0;
      else if (g.field === 101 && g.wire === WIRE.len) {
        q.scheme = 'linear';
        await walkMessage(this.r, g.at, g.end, async (x) => {
          const n = x.wire === WIRE.len ? Math.floor(x.length / 4) : 1;
          if (x.field === 1) q.scaleCount = ((q.scaleCount as number) ?? 0) + n;
          else if (x.field === 2) q.biasCount = ((q.biasCount as number) ?? 0) + n;
        });
      } else if (g.field === 102 && g.wire === WIRE.len) {
        q.scheme = 'lookup-table';
        q.palettized = true;
        await walkMessage(this.r, g.at, g.end, (x) => {
          if (x.field === 1) q.lutSize = ((q.lutSize as number) ?? 0) + (x.wire === WIRE.len ? Math.floor(x.length / 4) : 1);
        });
      }
    });
    return q;
  }
}
