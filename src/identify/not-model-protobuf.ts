/**
 * Protobuf files that are not models but often sit next to one and get mistaken for it:
 * a SentencePiece `tokenizer.model` (sentencepiece_model.proto: ModelProto { pieces = 1;
 * trainer_spec = 2; normalizer_spec = 3; self_test_data = 4; denormalizer_spec = 5 }), a single
 * ONNX TensorProto (test data `input_0.pb`), or some other protobuf message. Called by
 * sniffNotModel only when no format claimed the file.
 */
import { WIRE, fieldString, isPrintable, scanMessage } from '../codecs/protobuf.js';
import type { NotAModel } from '../types.js';

const SP_MODEL_TYPES: Record<number, string> = { 1: 'unigram', 2: 'bpe', 3: 'word', 4: 'char' };

export function sniffProtobuf(head: Uint8Array, size: number): NotAModel | undefined {
  const scan = scanMessage(head, 0, head.length, { declaredEnd: size, maxFields: 1_000_000 });
  if (!scan.ok || scan.fields.length < 2) return undefined;
  const sp = sentencePiece(head, scan.fields);
  if (sp) return sp;
  // ONNX TensorProto: dims = 1, data_type = 2, name = 8, raw_data = 9 (…typed data 4..7, 10, 11).
  const f = scan.fields;
  const dataType = f.find((x) => x.field === 2 && x.wire === WIRE.varint)?.value;
  if (
    dataType !== undefined && dataType >= 1 && dataType <= 25 &&
    f.every((x) => (x.field === 1 && (x.wire === WIRE.varint || x.wire === WIRE.len)) || (x.field === 2 && x.wire === WIRE.varint) || ([4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 16].includes(x.field) && x.wire === WIRE.len) || (x.field === 14 && x.wire === WIRE.varint)) &&
    f.some((x) => [4, 5, 6, 7, 9, 10, 11, 13].includes(x.field))
  ) {
    const nameField = f.find((x) => x.field === 8);
    const name = nameField ? fieldString(head, nameField, 256) : undefined;
    return { kind: 'onnx-tensor', reason: `an ONNX TensorProto (one serialized tensor${name ? ` "${name}"` : ''}, e.g. backend test data), not a model` };
  }
  // Any other complete message of a few fields.
  if (scan.complete && f.length >= 3 && size >= 16 && f.every((x) => x.field <= 10_000)) {
    const numbers = [...new Set(f.map((x) => x.field))].slice(0, 8);
    return { kind: 'protobuf', reason: `a protobuf message of a schema modelwise does not know (top-level fields ${numbers.join(', ')}), not a model format it recognises` };
  }
  return undefined;
}

function sentencePiece(head: Uint8Array, fields: ReturnType<typeof scanMessage>['fields']): NotAModel | undefined {
  if (!fields.every((f) => f.field >= 1 && f.field <= 5 && f.wire === WIRE.len)) return undefined;
  const pieces = fields.filter((f) => f.field === 1);
  if (pieces.length < 2 && !fields.some((f) => f.field === 2)) return undefined;
  const samples: string[] = [];
  for (const p of pieces.slice(0, 16)) {
    if (p.truncated) break;
    // SentencePiece { piece = 1 (string); score = 2 (float); type = 3 (enum) }
    const s = scanMessage(head, p.at, p.end);
    if (!s.ok || !s.complete) return undefined;
    let text: string | undefined;
    for (const g of s.fields) {
      if (g.field === 1 && g.wire === WIRE.len) text = fieldString(head, g, 1024);
      else if (!((g.field === 2 && g.wire === WIRE.i32) || (g.field === 3 && g.wire === WIRE.varint))) return undefined;
    }
    if (text === undefined || !isPrintable(text)) return undefined;
    if (samples.length < 3) samples.push(text);
  }
  if (samples.length === 0) return undefined;
  let type = '';
  const trainer = fields.find((f) => f.field === 2 && !f.truncated);
  if (trainer) {
    const t = scanMessage(head, trainer.at, trainer.end);
    const mt = t.ok ? t.fields.find((g) => g.field === 3 && g.wire === WIRE.varint)?.value : undefined;
    const vocab = t.ok ? t.fields.find((g) => g.field === 4 && g.wire === WIRE.varint)?.value : undefined;
    if (mt !== undefined && SP_MODEL_TYPES[mt]) type = `${SP_MODEL_TYPES[mt]}${vocab ? `, vocab ${vocab}` : ''}`;
  }
  const count = fields.length === pieces.length ? `${pieces.length}+` : String(pieces.length);
  return {
    kind: 'sentencepiece',
    reason: `a SentencePiece tokenizer model (protobuf ModelProto${type ? `, ${type}` : ''}; ${count} pieces such as ${samples.map((s) => JSON.stringify(s)).join(', ')}), not model weights: it goes with a model's config and weights`,
  };
}
