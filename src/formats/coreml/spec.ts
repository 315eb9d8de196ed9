/**
 * The top of Core ML's `Model` message (coremltools mlmodel/format/Model.proto), as far as
 * detection needs it: specificationVersion = 1, description = 2 (ModelDescription), isUpdatable = 10,
 * then exactly one model-type field of the `Type` oneof (200 … 3000).
 */
import { WIRE, fieldString, isPrintable, scanMessage, type ProtoField } from '../../codecs/protobuf.js';

/** The `Type` oneof of Model: field number → name. */
export const MODEL_TYPES: Record<number, string> = {
  200: 'pipelineClassifier',
  201: 'pipelineRegressor',
  202: 'pipeline',
  300: 'glmRegressor',
  301: 'supportVectorRegressor',
  302: 'treeEnsembleRegressor',
  303: 'neuralNetworkRegressor',
  304: 'bayesianProbitRegressor',
  400: 'glmClassifier',
  401: 'supportVectorClassifier',
  402: 'treeEnsembleClassifier',
  403: 'neuralNetworkClassifier',
  404: 'kNearestNeighborsClassifier',
  500: 'neuralNetwork',
  501: 'itemSimilarityRecommender',
  502: 'mlProgram',
  555: 'customModel',
  556: 'linkedModel',
  560: 'classConfidenceThresholding',
  600: 'oneHotEncoder',
  601: 'imputer',
  602: 'featureVectorizer',
  603: 'dictVectorizer',
  604: 'scaler',
  606: 'categoricalMapping',
  607: 'normalizer',
  609: 'arrayFeatureExtractor',
  610: 'nonMaximumSuppression',
  900: 'identity',
  2000: 'textClassifier',
  2001: 'wordTagger',
  2002: 'visionFeaturePrint',
  2003: 'soundAnalysisPreprocessing',
  2004: 'gazetteer',
  2005: 'wordEmbedding',
  2006: 'audioFeaturePrint',
  3000: 'serializedModel',
};

/** ModelDescription fields (all messages or strings). */
const DESCRIPTION_FIELDS = new Set([1, 10, 11, 12, 13, 20, 21, 50, 100]);

/** Highest specificationVersion accepted (9 is Core ML 8, 2024; leave room). */
export const MAX_SPEC_VERSION = 15;

export interface CoreMLHead {
  specificationVersion: number;
  /** Name of the model-type field, when its tag is in the head. */
  modelType?: string;
  inputs: number;
  outputs: number;
  /** Metadata strings from description.metadata, when in the head. */
  metadata: { shortDescription?: string; author?: string; license?: string; versionString?: string; userDefined: Record<string, string> };
  isUpdatable: boolean;
  /** The walk ended inside the description (model type not reached). */
  cut: boolean;
}

/**
 * Check the head of a file against Model. Undefined unless field 1 is a plausible version, field 2
 * a ModelDescription, and the model type (when reached) one of the oneof's fields.
 */
export function parseCoreMLHead(head: Uint8Array, size: number): CoreMLHead | undefined {
  const scan = scanMessage(head, 0, head.length, { declaredEnd: size, maxFields: 16 });
  if (!scan.ok || scan.fields.length < 2) return undefined;
  const [v, d] = scan.fields;
  if (v!.field !== 1 || v!.wire !== WIRE.varint || v!.value === undefined || v!.value < 1 || v!.value > MAX_SPEC_VERSION) return undefined;
  if (d!.field !== 2 || d!.wire !== WIRE.len) return undefined;
  const out: CoreMLHead = { specificationVersion: v!.value, inputs: 0, outputs: 0, metadata: { userDefined: {} }, isUpdatable: false, cut: false };
  if (!description(head, d!, out)) return undefined;
  let types = 0;
  for (const f of scan.fields.slice(2)) {
    if (f.field === 10 && f.wire === WIRE.varint && (f.value === 0 || f.value === 1)) out.isUpdatable = f.value === 1;
    else if (MODEL_TYPES[f.field] && f.wire === WIRE.len) {
      out.modelType = MODEL_TYPES[f.field];
      types++;
    } else return undefined;
  }
  if (types > 1) return undefined; // a oneof
  if (!out.modelType) {
    if (scan.complete) return undefined; // the whole file read and no model type
    out.cut = true;
  }
  return out;
}

function description(buf: Uint8Array, d: ProtoField, out: CoreMLHead): boolean {
  const s = scanMessage(buf, d.at, Math.min(d.end, buf.length), { declaredEnd: d.end, maxFields: 4096 });
  if (!s.ok) return false;
  for (const f of s.fields) {
    if (!DESCRIPTION_FIELDS.has(f.field) || f.wire !== WIRE.len) return false;
    if (f.field === 1) {
      if (!featureDescription(buf, f)) return false;
      out.inputs++;
    } else if (f.field === 10) {
      if (!featureDescription(buf, f)) return false;
      out.outputs++;
    } else if (f.field === 11 || f.field === 12) {
      const n = fieldString(buf, f, 1024);
      if (n === undefined && !f.truncated) return false;
    } else if (f.field === 100 && !f.truncated) metadata(buf, f, out);
  }
  return s.fields.length > 0 || d.length === 0;
}

/** FeatureDescription { name = 1; shortDescription = 2; type = 3 }: a printable name first. */
function featureDescription(buf: Uint8Array, f: ProtoField): boolean {
  const s = scanMessage(buf, f.at, Math.min(f.end, buf.length), { declaredEnd: f.end, maxFields: 8 });
  if (!s.ok) return false;
  for (const g of s.fields) {
    if (g.wire !== WIRE.len || g.field < 1 || g.field > 3) return false;
    if (g.field === 1) {
      const n = fieldString(buf, g, 1024);
      if (n === undefined || !isPrintable(n)) return false;
    }
  }
  return true;
}

/** Metadata { shortDescription = 1; versionString = 2; author = 3; license = 4; userDefined = 100 (map) }. */
function metadata(buf: Uint8Array, f: ProtoField, out: CoreMLHead): void {
  const s = scanMessage(buf, f.at, f.end, { maxFields: 256 });
  if (!s.ok) return;
  const names: Record<number, 'shortDescription' | 'versionString' | 'author' | 'license'> = { 1: 'shortDescription', 2: 'versionString', 3: 'author', 4: 'license' };
  for (const g of s.fields) {
    if (g.wire !== WIRE.len) continue;
    const name = names[g.field];
    if (name) {
      const t = fieldString(buf, g, 512);
      if (t) out.metadata[name] = t;
    } else if (g.field === 100) {
      const e = scanMessage(buf, g.at, g.end, { maxFields: 4 });
      if (!e.ok) continue;
      const k = e.fields.find((x) => x.field === 1 && x.wire === WIRE.len);
      const val = e.fields.find((x) => x.field === 2 && x.wire === WIRE.len);
      const key = k ? fieldString(buf, k, 256) : undefined;
      if (key) out.metadata.userDefined[key] = (val ? fieldString(buf, val, 512) : '') ?? '';
    }
  }
}
