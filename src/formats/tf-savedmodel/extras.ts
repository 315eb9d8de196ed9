/**
 * The small side files of a SavedModel:
 * - `fingerprint.pb`: FingerprintDef (tensorflow/core/protobuf/fingerprint.proto):
 *   saved_model_checksum = 1, graph_def_program_hash = 2, signature_def_hash = 3,
 *   saved_object_graph_hash = 4, checkpoint_hash = 5 (uint64 each), version = 6 (VersionDef), uuid = 7;
 * - `keras_metadata.pb`: SavedMetadata (keras/protobuf/saved_metadata.proto): nodes = 1
 *   (SavedObject { node_id = 2, node_path = 3, identifier = 4, metadata = 5 (JSON), version = 6 }).
 */
import { WIRE, fieldString, scanMessage } from '../../codecs/protobuf.js';
import type { TreeEntry } from '../../io/tree.js';
import type { Diagnostic } from '../../types.js';
import { SourceFieldReader, walkMessage } from '../../codecs/protobuf.js';
import type { ModelFolder } from './folder.js';

/** An unsigned 64-bit value as a decimal string (exact). */
function u64(lo: number, hi: number): string {
  return ((BigInt(hi) << 32n) | BigInt(lo)).toString();
}

const FINGERPRINT_FIELDS: Record<number, string> = { 1: 'savedModelChecksum', 2: 'graphDefProgramHash', 3: 'signatureDefHash', 4: 'savedObjectGraphHash', 5: 'checkpointHash' };

export async function fingerprint(folder: ModelFolder, files: TreeEntry[] | undefined, diagnostics: Diagnostic[]): Promise<{ fingerprint?: Record<string, string | number> }> {
  if (files && !files.some((f) => f.path === 'fingerprint.pb')) return {};
  const s = await folder.open('fingerprint.pb');
  if (!s) return {};
  if (s.size > 64 * 1024) {
    diagnostics.push({ code: 'TF_FINGERPRINT', message: `fingerprint.pb is ${s.size} bytes, too large for a FingerprintDef; not read` });
    return {};
  }
  const b = await s.read(0, s.size);
  const scan = scanMessage(b);
  if (!scan.ok || !scan.complete) {
    diagnostics.push({ code: 'TF_FINGERPRINT', message: 'fingerprint.pb is not a FingerprintDef' });
    return {};
  }
  const out: Record<string, string | number> = {};
  for (const f of scan.fields) {
    const key = FINGERPRINT_FIELDS[f.field];
    if (key && f.wire === WIRE.varint) out[key] = u64(f.lo!, f.hi!);
    else if (f.field === 6 && f.wire === WIRE.len) {
      const v = scanMessage(b, f.at, f.end);
      const p = v.ok ? v.fields.find((x) => x.field === 1 && x.wire === WIRE.varint) : undefined;
      if (p?.value !== undefined) out.version = p.value;
    } else if (f.field === 7 && f.wire === WIRE.len) {
      const u = fieldString(b, f, 256);
      if (u) out.uuid = u;
    }
  }
  return { fingerprint: out };
}

export interface KerasMetadata {
  size: number;
  nodes: number;
  /** The root object's identifier (`_tf_keras_sequential` …) and class from its metadata JSON. */
  rootIdentifier?: string;
  rootClass?: string;
  rootName?: string;
}

/** keras_metadata.pb (Keras SavedModel format): presence, object count and the root model's class. */
export async function kerasMetadata(folder: ModelFolder, files: TreeEntry[] | undefined): Promise<{ kerasMetadata?: KerasMetadata }> {
  if (files && !files.some((f) => f.path === 'keras_metadata.pb')) return {};
  const s = await folder.open('keras_metadata.pb');
  if (!s) return {};
  const out: KerasMetadata = { size: s.size, nodes: 0 };
  const r = new SourceFieldReader(s, { budget: 64 * 1024 * 1024 });
  await walkMessage(r, 0, s.size, async (f) => {
    if (f.field !== 1 || f.wire !== WIRE.len) return;
    out.nodes++;
    if (out.rootIdentifier !== undefined || f.length > 16 * 1024 * 1024) return;
    const b = await r.bytes(f, 16 * 1024 * 1024);
    if (!b) return;
    const m = scanMessage(b);
    if (!m.ok) return;
    const path = m.fields.find((x) => x.field === 3 && x.wire === WIRE.len);
    if (!path || fieldString(b, path) !== 'root') return;
    const id = m.fields.find((x) => x.field === 4 && x.wire === WIRE.len);
    const md = m.fields.find((x) => x.field === 5 && x.wire === WIRE.len);
    out.rootIdentifier = id ? fieldString(b, id) : undefined;
    const text = md ? fieldString(b, md, 16 * 1024 * 1024) : undefined;
    if (text) {
      try {
        const j = JSON.parse(text) as { class_name?: unknown; name?: unknown };
        if (typeof j.class_name === 'string') out.rootClass = j.class_name;
        if (typeof j.name === 'string') out.rootName = j.name;
      } catch {
        /* not JSON: keep the identifier only */
      }
    }
  }, 10_000_000);
  return { kerasMetadata: out };
}
