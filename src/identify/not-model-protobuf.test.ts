import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pb } from '../codecs/protobuf.js';
import { BytesSource } from '../io/source.js';
import { identifySource } from './identify.js';
import { sniffProtobuf } from './not-model-protobuf.js';

const piece = (s: string, score: number, type?: number) => pb.message(1, pb.string(1, s), pb.float(2, score), ...(type ? [pb.varint(3, type)] : []));

describe('not-model: protobuf files that are not models', () => {
  it('names a SentencePiece tokenizer.model, whole or cut by the probe head', async () => {
    const sp = pb.concat(piece('<unk>', 0, 2), piece('<s>', 0, 3), piece('</s>', 0, 3), piece('▁the', -3.5), pb.message(2, pb.string(1, 'c.txt'), pb.string(2, 'm'), pb.varint(3, 2), pb.varint(4, 32000)), pb.message(3, pb.string(1, 'nmt_nfkc')));
    const r = await identifySource(new BytesSource(sp, 'tokenizer.model'), { path: 'tokenizer.model' });
    assert.equal(r.format, null);
    assert.equal(r.notModel, 'sentencepiece');
    assert.match(r.reason!, /SentencePiece tokenizer model \(protobuf ModelProto, bpe, vocab 32000; 4 pieces such as "<unk>", "<s>", "<\/s>"\)/);
    const many: Uint8Array[] = [];
    for (let i = 0; i < 20000; i++) many.push(piece(`tok${i}`, -i));
    const big = pb.concat(...many, pb.message(2, pb.string(1, 'c.txt')));
    assert.equal(sniffProtobuf(big.subarray(0, 65536), big.length)?.kind, 'sentencepiece');
  });

  it('names an ONNX TensorProto and other protobuf messages, and leaves binary noise alone', () => {
    const t = pb.concat(pb.varint(1, 2), pb.varint(1, 3), pb.varint(2, 1), pb.string(8, 'x'), pb.bytes(9, new Uint8Array(24)));
    assert.equal(sniffProtobuf(t, t.length)?.kind, 'onnx-tensor');
    const other = pb.concat(pb.string(1, 'a'), pb.varint(2, 3), pb.message(3, pb.varint(1, 1)), pb.string(4, 'padding'));
    assert.equal(sniffProtobuf(other, other.length)?.kind, 'protobuf');
    assert.equal(sniffProtobuf(new Uint8Array([0, 0, 0, 0x3f, 0, 0, 0, 0x40]), 8), undefined);
  });
});
