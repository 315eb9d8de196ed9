/**
 * Test-only: a ByteSource that synthesizes a large PMML document (a MiningModel of `segments` tree
 * segments) on the fly, so memory tests need no file and no buffer of the document's size.
 */
import type { ByteSource } from '../../io/source.js';

const enc = new TextEncoder();

export class SyntheticPmml implements ByteSource {
  readonly size: number;
  readonly name = 'synthetic.pmml';
  private readonly head: Uint8Array;
  private readonly unit: Uint8Array;
  private readonly tail: Uint8Array;
  bytesRead = 0;
  onRead?: (offset: number) => void;

  constructor(readonly segments: number) {
    this.head = enc.encode(
      '<?xml version="1.0" encoding="UTF-8"?>\n<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">\n' +
        '<Header copyright="x"><Application name="synth" version="1.0"/></Header>\n' +
        '<DataDictionary numberOfFields="3"><DataField name="a" optype="continuous" dataType="double"/>' +
        '<DataField name="b" optype="continuous" dataType="float"/><DataField name="y" optype="categorical" dataType="string"><Value value="0"/><Value value="1"/></DataField></DataDictionary>\n' +
        '<MiningModel functionName="classification"><MiningSchema><MiningField name="a"/><MiningField name="b"/><MiningField name="y" usageType="target"/></MiningSchema>\n<Segmentation multipleModelMethod="majorityVote">\n',
    );
    const leaf = (s: string) => `<Node score="${s}"><SimplePredicate field="b" operator="lessThan" value="0.25"/></Node>`;
    const array = Array.from({ length: 400 }, (_, i) => (i * 0.001).toFixed(3)).join(' ');
    this.unit = enc.encode(
      `<Segment><True/><TreeModel functionName="classification"><Extension name="weights"><Array n="400" type="real">${array}</Array></Extension><MiningSchema><MiningField name="a"/><MiningField name="b"/><MiningField name="y" usageType="target"/></MiningSchema>` +
        `<Node score="0"><True/><Node score="1"><SimplePredicate field="a" operator="lessThan" value="1.5"/>${leaf('0')}${leaf('1')}</Node>${leaf('1')}</Node></TreeModel></Segment>\n`,
    );
    this.tail = enc.encode('</Segmentation></MiningModel>\n</PMML>\n');
    this.size = this.head.length + segments * this.unit.length + this.tail.length;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    this.onRead?.(offset);
    const end = Math.min(this.size, offset + length);
    const out = new Uint8Array(Math.max(0, end - offset));
    let p = offset;
    while (p < end) {
      let src: Uint8Array;
      let at: number;
      if (p < this.head.length) (src = this.head), (at = p);
      else if (p < this.size - this.tail.length) (src = this.unit), (at = (p - this.head.length) % this.unit.length);
      else (src = this.tail), (at = p - (this.size - this.tail.length));
      const n = Math.min(src.length - at, end - p);
      out.set(src.subarray(at, at + n), p - offset);
      p += n;
    }
    this.bytesRead += out.length;
    return out;
  }
}
