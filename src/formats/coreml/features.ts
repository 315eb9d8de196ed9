/**
 * Model descriptions (coremltools mlmodel/format/Model.proto, FeatureTypes.proto), decoded from the
 * small messages they are:
 * - ModelDescription: input = 1, output = 10, predictedFeatureName = 11, predictedProbabilitiesName = 12,
 *   state = 13, functions = 20, defaultFunctionName = 21, trainingInput = 50, metadata = 100;
 * - Metadata: shortDescription = 1, versionString = 2, author = 3, license = 4, userDefined = 100 (map);
 * - FeatureDescription: name = 1, shortDescription = 2, type = 3;
 * - FeatureType oneof: int64Type = 1, doubleType = 2, stringType = 3, imageType = 4,
 *   multiArrayType = 5, dictionaryType = 6, sequenceType = 7, stateType = 8; isOptional = 1000;
 * - ImageFeatureType: width = 1, height = 2, colorSpace = 3 (GRAYSCALE 10, RGB 20, BGR 30,
 *   GRAYSCALE_FLOAT16 40), enumeratedSizes = 21, imageSizeRange = 31;
 * - ArrayFeatureType: shape = 1, dataType = 2 (FLOAT32 65568, DOUBLE 65600, INT32 131104,
 *   INT8 131080, FLOAT16 65552), enumeratedShapes = 21, shapeRange = 31;
 * - DictionaryFeatureType: int64KeyType = 1, stringKeyType = 2; SequenceFeatureType: int64Type = 1,
 *   stringType = 3; StateFeatureType: arrayType = 1.
 */
import { WIRE, fieldString, int64, packedVarints, scanMessage, type ProtoField } from '../../codecs/protobuf.js';
import type { Dim } from '../../types.js';

export const ARRAY_DTYPES: Record<number, string> = { 65568: 'f32', 65600: 'f64', 131104: 'i32', 131080: 'i8', 65552: 'f16' };
export const COLOR_SPACES: Record<number, string> = { 10: 'GRAYSCALE', 20: 'RGB', 30: 'BGR', 40: 'GRAYSCALE_FLOAT16' };
const FEATURE_KINDS: Record<number, string> = { 1: 'int64Type', 2: 'doubleType', 3: 'stringType', 4: 'imageType', 5: 'multiArrayType', 6: 'dictionaryType', 7: 'sequenceType', 8: 'stateType' };

export interface Feature {
  name: string;
  dtype: string | null;
  shape: Dim[] | null;
  kind?: string;
  description?: string;
  optional?: boolean;
  /** Flexible shapes or image sizes, in words. */
  flexible?: string;
}

const fieldsOf = (b: Uint8Array, f?: ProtoField) => {
  const s = f ? scanMessage(b, f.at, f.end) : scanMessage(b);
  return s.ok ? s.fields : [];
};
const find = (fs: ProtoField[], n: number, wire: number = WIRE.len) => fs.find((f) => f.field === n && f.wire === wire);

/** A repeated int64 (packed or not). */
function int64s(b: Uint8Array, fs: ProtoField[], n: number): number[] {
  const out: number[] = [];
  for (const f of fs) {
    if (f.field !== n) continue;
    if (f.wire === WIRE.len) out.push(...(packedVarints(b, f, 1 << 16) ?? []));
    else if (f.wire === WIRE.varint) out.push(int64(f.lo!, f.hi!));
  }
  return out;
}

function arrayType(b: Uint8Array, f: ProtoField | undefined): { dtype: string; shape: Dim[]; flexible?: string } {
  const fs = f ? fieldsOf(b, f) : [];
  const dt = find(fs, 2, WIRE.varint)?.value ?? 0;
  const shape = int64s(b, fs, 1);
  let flexible: string | undefined;
  const en = find(fs, 21);
  const range = find(fs, 31);
  if (en) flexible = `enumeratedShapes ${JSON.stringify(fieldsOf(b, en).filter((x) => x.field === 1 && x.wire === WIRE.len).map((x) => int64s(b, fieldsOf(b, x), 1)))}`;
  else if (range) {
    const r = fieldsOf(b, range).filter((x) => x.field === 1 && x.wire === WIRE.len).map((x) => {
      const s = fieldsOf(b, x);
      return [int64s(b, s, 1)[0] ?? 0, int64s(b, s, 2)[0] ?? 0];
    });
    flexible = `shapeRange ${JSON.stringify(r)}`;
  }
  return { dtype: ARRAY_DTYPES[dt] ?? String(dt), shape, ...(flexible ? { flexible } : {}) };
}

/** FeatureDescription → a graph input/output in the oracle's vocabulary (see README). */
export function parseFeature(b: Uint8Array): Feature {
  const fs = fieldsOf(b);
  const nameF = find(fs, 1);
  const descF = find(fs, 2);
  const out: Feature = { name: nameF ? (fieldString(b, nameF, 1 << 20) ?? '') : '', dtype: null, shape: null };
  const desc = descF ? fieldString(b, descF, 1 << 20) : undefined;
  if (desc) out.description = desc;
  const typeF = find(fs, 3);
  if (!typeF) return out;
  const tf = fieldsOf(b, typeF);
  if (tf.some((x) => x.field === 1000 && x.wire === WIRE.varint && x.value === 1)) out.optional = true;
  const k = tf.filter((x) => FEATURE_KINDS[x.field] && x.wire === WIRE.len).pop();
  if (!k) return out;
  out.kind = FEATURE_KINDS[k.field];
  switch (k.field) {
    case 1: return { ...out, dtype: 'i64', shape: [] };
    case 2: return { ...out, dtype: 'f64', shape: [] };
    case 3: return { ...out, dtype: 'string', shape: [] };
    case 4: {
      const im = fieldsOf(b, k);
      const w = int64s(b, im, 1)[0] ?? 0;
      const h = int64s(b, im, 2)[0] ?? 0;
      const cs = find(im, 3, WIRE.varint)?.value ?? 0;
      const flexible = find(im, 21) ? 'enumeratedSizes' : find(im, 31) ? 'imageSizeRange' : undefined;
      return { ...out, dtype: `image:${COLOR_SPACES[cs] ?? cs}`, shape: [h, w], ...(flexible ? { flexible } : {}) };
    }
    case 5: {
      const a = arrayType(b, k);
      return { ...out, dtype: a.dtype, shape: a.shape.length ? a.shape : null, ...(a.flexible ? { flexible: a.flexible } : {}) };
    }
    case 6: {
      const d = fieldsOf(b, k);
      const key = d.filter((x) => (x.field === 1 || x.field === 2) && x.wire === WIRE.len).pop();
      return { ...out, dtype: `dict(${key?.field === 1 ? 'i64' : 'string'},f64)`, shape: null };
    }
    case 7: {
      const s = fieldsOf(b, k);
      const t = s.filter((x) => (x.field === 1 || x.field === 3) && x.wire === WIRE.len).pop();
      return { ...out, dtype: `seq(${t ? (t.field === 1 ? 'int64Type' : 'stringType') : 'None'})`, shape: null };
    }
    case 8: {
      const s = fieldsOf(b, k);
      const a = arrayType(b, find(s, 1));
      return { ...out, dtype: `state(${a.dtype})`, shape: a.shape };
    }
  }
  return out;
}

export interface Metadata {
  shortDescription?: string;
  versionString?: string;
  author?: string;
  license?: string;
  userDefined: Record<string, string>;
}

const META_NAMES: Record<number, 'shortDescription' | 'versionString' | 'author' | 'license'> = { 1: 'shortDescription', 2: 'versionString', 3: 'author', 4: 'license' };

export function parseMetadata(b: Uint8Array): Metadata {
  const out: Metadata = { userDefined: {} };
  for (const f of fieldsOf(b)) {
    if (f.wire !== WIRE.len) continue;
    const n = META_NAMES[f.field];
    if (n) {
      const t = fieldString(b, f, 1 << 24);
      if (t) out[n] = t;
    } else if (f.field === 100) {
      const e = fieldsOf(b, f);
      const k = find(e, 1);
      const v = find(e, 2);
      const key = k ? fieldString(b, k, 1 << 20) : '';
      if (key !== undefined) out.userDefined[key] = (v ? fieldString(b, v, 1 << 24) : '') ?? '';
    }
  }
  return out;
}
