/**
 * A large PMML 4.4 document as sklearn2pmml / JPMML-SkLearn writes a random forest: Header with
 * Application, a DataDictionary of `features` continuous fields and a categorical target, then a
 * MiningModel (majorityVote Segmentation) whose segments are TreeModels of nested Nodes with
 * SimplePredicates and ScoreDistributions, up to `targetSize` bytes. Written to a real file in
 * 8 MiB chunks (text cannot be sparse); 64 distinct seeded trees are cycled with fresh ids.
 */
import { open } from 'node:fs/promises';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function tree(r: () => number, features: number, depth: number, indent: string): string {
  if (depth === 0) {
    const p = r();
    const n = 10 + Math.floor(r() * 200);
    const a = Math.round(n * p);
    return `${indent}<ScoreDistribution value="0" recordCount="${n - a}"/>\n${indent}<ScoreDistribution value="1" recordCount="${a}"/>\n`;
  }
  const f = Math.floor(r() * features);
  const v = (r() * 10 - 5).toFixed(6);
  return (
    `${indent}<Node score="${r() < 0.5 ? 0 : 1}">\n${indent} <SimplePredicate field="x${f}" operator="lessOrEqual" value="${v}"/>\n${tree(r, features, depth - 1, indent + ' ')}${indent}</Node>\n` +
    `${indent}<Node score="${r() < 0.5 ? 0 : 1}">\n${indent} <SimplePredicate field="x${f}" operator="greaterThan" value="${v}"/>\n${tree(r, features, depth - 1, indent + ' ')}${indent}</Node>\n`
  );
}

export interface PmmlFile {
  size: number;
  segments: number;
  features: number;
}

export async function writePmml(path: string, targetSize: number, features = 50, depth = 7): Promise<PmmlFile> {
  const enc = new TextEncoder();
  const fields = Array.from({ length: features }, (_, i) => `  <DataField name="x${i}" optype="continuous" dataType="double"/>\n`).join('');
  const schema = Array.from({ length: features }, (_, i) => `     <MiningField name="x${i}"/>\n`).join('');
  const head = enc.encode(
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<PMML xmlns="http://www.dmg.org/PMML-4_4" xmlns:data="http://jpmml.org/jpmml-model/InlineTable" version="4.4">\n` +
      ` <Header>\n  <Application name="SkLearn2PMML package" version="0.104.1"/>\n  <Timestamp>2025-01-15T10:31:07Z</Timestamp>\n </Header>\n` +
      ` <DataDictionary>\n  <DataField name="y" optype="categorical" dataType="integer">\n   <Value value="0"/>\n   <Value value="1"/>\n  </DataField>\n${fields} </DataDictionary>\n` +
      ` <MiningModel functionName="classification" algorithmName="sklearn.ensemble._forest.RandomForestClassifier">\n  <MiningSchema>\n   <MiningField name="y" usageType="target"/>\n${schema.replace(/^ {5}/gm, '   ')}  </MiningSchema>\n` +
      `  <Output>\n   <OutputField name="probability(0)" optype="continuous" dataType="double" feature="probability" value="0"/>\n   <OutputField name="probability(1)" optype="continuous" dataType="double" feature="probability" value="1"/>\n  </Output>\n` +
      `  <Segmentation multipleModelMethod="average" missingPredictionTreatment="returnMissing">\n`,
  );
  const tail = enc.encode(`  </Segmentation>\n </MiningModel>\n</PMML>\n`);
  const r = rng(42);
  const trees = Array.from({ length: 64 }, () => tree(r, features, depth, '      '));
  const bodies = trees.map((t) =>
    enc.encode(
      `">\n    <True/>\n    <TreeModel functionName="classification" missingValueStrategy="nullPrediction" noTrueChildStrategy="returnLastPrediction">\n     <MiningSchema>\n${schema}     </MiningSchema>\n     <Node>\n      <True/>\n${t}     </Node>\n    </TreeModel>\n   </Segment>\n`,
    ),
  );
  const segmentHead = (i: number) => enc.encode(`   <Segment id="${i + 1}`);
  const fh = await open(path, 'w');
  let size = 0;
  let segments = 0;
  try {
    const chunk = new Uint8Array(8 << 20);
    let n = 0;
    const flush = async () => {
      let done = 0;
      while (done < n) done += (await fh.write(chunk, done, n - done)).bytesWritten;
      n = 0;
    };
    const push = async (b: Uint8Array) => {
      if (n + b.length > chunk.length) await flush();
      chunk.set(b, n);
      n += b.length;
      size += b.length;
    };
    await push(head);
    while (true) {
      const h = segmentHead(segments);
      const body = bodies[segments % 64]!;
      if (size + h.length + body.length + tail.length > targetSize && segments > 0) break;
      await push(h);
      await push(body);
      segments++;
    }
    await push(tail);
    await flush();
  } finally {
    await fh.close();
  }
  return { size, segments, features };
}
