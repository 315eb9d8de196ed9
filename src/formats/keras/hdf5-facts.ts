/**
 * What makes an HDF5 file a Keras file: the root group attributes that Keras writes
 * (keras/src/legacy/saving/legacy_h5_format.py, tf_keras/src/saving/legacy/hdf5_format.py):
 *   - full model (`model.save('m.h5')`): keras_version, backend, model_config [, training_config]
 *   - weights only (`model.save_weights('w.h5')`): layer_names (or layer_names0, layer_names1 … when
 *     chunked past 64 KiB), backend, keras_version
 *   - Keras 0.x weights (`save_weights`): nb_layers
 * An HDF5 file without any of these is not Keras (the not-a-model fallback describes it).
 */
import { Hdf5File, readRootAttributes, scanAttributeMessages, type AttributeValue } from '../../codecs/hdf5.js';
import { objectAttributes } from '../../codecs/hdf5-group.js';
import { indexOfAscii } from '../../io/bytes.js';
import type { ByteSource } from '../../io/source.js';

export interface KerasHdf5Facts {
  kind: 'model' | 'weights' | 'keras0-weights';
  superblockVersion?: number;
  kerasVersion?: string;
  backend?: string;
  /** class_name of model_config (Sequential, Functional, Model …). */
  modelClass?: string;
  /** Root attribute names as found. */
  attributes: string[];
  /** layer_names of a weights-only file (first LAYER_NAMES_KEPT). */
  layerNames?: string[];
  layerCount?: number;
  trainingConfig: boolean;
  /** Set when the attributes were found by a byte search rather than read (dense attribute storage, odd file). */
  byteSearch: boolean;
}

/** Bytes of root object header read: real Keras root headers are a few KiB plus ≤ 64 KiB model_config and training_config. */
const HEADER_BUDGET = 256 * 1024;
/** Bytes of a string value kept (model_config is only peeked for its class_name). */
const VALUE_BYTES = 2048;
/** Bytes searched for attribute names when the header cannot be read attribute by attribute. */
const SEARCH_BYTES = 256 * 1024;
const LAYER_NAMES_KEPT = 4096;
/** Bytes of one densely stored attribute message read (name, type and the start of the value). */
const DENSE_BYTES = 64 * 1024;

const str = (v: AttributeValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

/** Keras facts of an HDF5 source, or undefined when it is not HDF5 or carries no Keras attributes. Never throws. */
export async function kerasHdf5Facts(source: ByteSource, head: Uint8Array): Promise<KerasHdf5Facts | undefined> {
  let file: Hdf5File;
  try {
    file = await Hdf5File.open(source, head);
  } catch {
    return undefined;
  }
  const superblockVersion = file.superblock.version;
  try {
    const wanted = (n: string): boolean => n === 'keras_version' || n === 'backend' || n === 'model_config' || /^layer_names\d*$/.test(n) || n === 'nb_layers';
    let root = await readRootAttributes(file, { maxHeaderBytes: HEADER_BUDGET, maxValueBytes: VALUE_BYTES, values: wanted });
    if (root.dense) root = (await denseRootAttributes(file, wanted).catch(() => undefined)) ?? root;
    const names = root.names;
    const has = (n: string): boolean => names.includes(n);
    const layerKeys = names.filter((n) => /^layer_names\d*$/.test(n)).sort((a, b) => Number(a.slice(11) || -1) - Number(b.slice(11) || -1));
    const isModel = has('model_config');
    const isWeights = layerKeys.length > 0;
    const isKeras0 = has('nb_layers');
    if (isModel || isWeights || isKeras0 || has('keras_version')) {
      const facts: KerasHdf5Facts = {
        kind: isModel ? 'model' : isWeights ? 'weights' : isKeras0 ? 'keras0-weights' : 'weights',
        superblockVersion,
        attributes: names,
        trainingConfig: has('training_config'),
        byteSearch: false,
      };
      const kv = str(root.values.keras_version);
      if (kv) facts.kerasVersion = kv;
      const be = str(root.values.backend);
      if (be) facts.backend = be;
      const mc = str(root.values.model_config);
      const cls = mc ? /"class_name"\s*:\s*"([^"]{1,200})"/.exec(mc)?.[1] : undefined;
      if (cls) facts.modelClass = cls;
      if (isWeights) {
        const all: string[] = [];
        for (const k of layerKeys) {
          const v = root.values[k];
          if (Array.isArray(v)) for (const x of v) if (typeof x === 'string') all.push(x);
        }
        facts.layerCount = all.length;
        facts.layerNames = all.slice(0, LAYER_NAMES_KEPT);
      }
      return facts;
    }
    if (!root.dense && !root.truncated) return undefined;
  } catch {
    /* fall through to the byte search */
  }
  return byteSearch(file, head);
}

/** Root attributes including densely stored ones (fractal heap), each message read up to DENSE_BYTES. */
async function denseRootAttributes(file: Hdf5File, wanted: (n: string) => boolean): Promise<Awaited<ReturnType<typeof readRootAttributes>>> {
  const oh = await file.objectHeader(file.superblock.rootObjectHeader, HEADER_BUDGET);
  const attrs = await objectAttributes(file, oh, DENSE_BYTES);
  const values: Record<string, AttributeValue> = {};
  for (const a of attrs) if (wanted(a.name)) values[a.name] = await file.attributeValue(a, VALUE_BYTES).catch(() => null);
  return { names: attrs.map((a) => a.name), values, dense: false, truncated: oh.truncated };
}

/**
 * Fallback when the root attributes cannot be read (a damaged header or dense storage) or the header
 * could not be decoded: look for Keras attribute names in the first SEARCH_BYTES of the file, and
 * recover the messages found there to read keras_version and backend when possible.
 */
async function byteSearch(file: Hdf5File, head: Uint8Array): Promise<KerasHdf5Facts | undefined> {
  const source = file.source;
  let b = head;
  if (b.length < Math.min(source.size, SEARCH_BYTES)) {
    try {
      b = await source.read(0, Math.min(source.size, SEARCH_BYTES));
    } catch {
      b = head;
    }
  }
  const found = ['keras_version', 'model_config', 'layer_names', 'backend', 'training_config'].filter((n) => indexOfAscii(b, n) >= 0);
  if (!found.includes('keras_version') && !found.includes('model_config') && !found.includes('layer_names')) return undefined;
  const facts: KerasHdf5Facts = {
    kind: found.includes('model_config') ? 'model' : 'weights',
    superblockVersion: file.superblock.version,
    attributes: found,
    trainingConfig: found.includes('training_config'),
    byteSearch: true,
  };
  // Addresses in the messages are relative to the superblock: scan the bytes from there.
  const base = file.superblock.base;
  for (const a of scanAttributeMessages(b.subarray(base), ['keras_version', 'backend'], file.superblock)) {
    try {
      const v = await file.attributeValue(a, 256);
      if (typeof v === 'string' && a.name === 'keras_version') facts.kerasVersion = v;
      if (typeof v === 'string' && a.name === 'backend') facts.backend = v;
    } catch {
      /* a value we cannot read: names only */
    }
  }
  return facts;
}
