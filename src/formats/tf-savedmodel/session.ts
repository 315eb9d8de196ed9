/**
 * Session Bundle signatures (TF Serving's deprecated export; tensorflow_serving/session_bundle/
 * manifest.proto), stored as collection `serving_signatures` of export.meta:
 * - CollectionDef (meta_graph.proto): any_list = 5 (AnyList { value = 1 (google.protobuf.Any
 *   { type_url = 1, value = 2 }) });
 * - Signatures: default_signature = 1, named_signatures = 2 (map<string, Signature>);
 * - Signature oneof: regression_signature = 1 (input = 1, output = 2), classification_signature = 2
 *   (input = 1, classes = 2, scores = 3), generic_signature = 3 (map<string, TensorBinding> map = 1);
 * - TensorBinding: tensor_name = 1.
 */
import { WIRE, fieldString, scanMessage, type ProtoField } from '../../codecs/protobuf.js';

export interface SessionSignature {
  name: string;
  kind: 'regression' | 'classification' | 'generic' | 'unknown';
  tensors: Record<string, string>;
}

const fieldsOf = (b: Uint8Array, f?: ProtoField) => {
  const s = f ? scanMessage(b, f.at, f.end) : scanMessage(b);
  return s.ok ? s.fields : [];
};
const lenField = (fs: ProtoField[], n: number) => fs.find((f) => f.field === n && f.wire === WIRE.len);
const str = (b: Uint8Array, f: ProtoField | undefined) => (f ? (fieldString(b, f, 1 << 20) ?? '') : '');
const binding = (b: Uint8Array, f: ProtoField | undefined) => (f ? str(b, lenField(fieldsOf(b, f), 1)) : '');

function signature(b: Uint8Array, f: ProtoField, name: string): SessionSignature {
  const fs = fieldsOf(b, f);
  const one = fs.filter((x) => x.wire === WIRE.len && x.field >= 1 && x.field <= 3).pop();
  if (!one) return { name, kind: 'unknown', tensors: {} };
  const inner = fieldsOf(b, one);
  if (one.field === 1) return { name, kind: 'regression', tensors: { input: binding(b, lenField(inner, 1)), output: binding(b, lenField(inner, 2)) } };
  if (one.field === 2) return { name, kind: 'classification', tensors: { input: binding(b, lenField(inner, 1)), classes: binding(b, lenField(inner, 2)), scores: binding(b, lenField(inner, 3)) } };
  const tensors: Record<string, string> = {};
  for (const e of inner.filter((x) => x.field === 1 && x.wire === WIRE.len)) {
    const kv = fieldsOf(b, e);
    tensors[str(b, lenField(kv, 1))] = binding(b, lenField(kv, 2));
  }
  return { name, kind: 'generic', tensors };
}

/** The signatures of a Session Bundle from its `serving_signatures` collection entry (map entry bytes). */
export function sessionSignatures(entry: Uint8Array): SessionSignature[] {
  const out: SessionSignature[] = [];
  const coll = lenField(fieldsOf(entry), 2);
  const anyList = coll ? lenField(fieldsOf(entry, coll), 5) : undefined;
  if (!anyList) return out;
  for (const any of fieldsOf(entry, anyList).filter((x) => x.field === 1 && x.wire === WIRE.len)) {
    const value = lenField(fieldsOf(entry, any), 2);
    if (!value) continue;
    for (const f of fieldsOf(entry, value)) {
      if (f.wire !== WIRE.len) continue;
      if (f.field === 1) out.push(signature(entry, f, 'default'));
      else if (f.field === 2) {
        const kv = fieldsOf(entry, f);
        const v = lenField(kv, 2);
        if (v) out.push(signature(entry, v, str(entry, lenField(kv, 1))));
      }
    }
  }
  return out;
}
