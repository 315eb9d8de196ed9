/**
 * TensorFlow Lite: a FlatBuffer whose file identifier is "TFL3" (bytes 4–8), root table `Model`
 * (https://github.com/tensorflow/tensorflow/blob/master/tensorflow/compiler/mlir/lite/schema/schema.fbs).
 * Variant `tflite-flatbuffer`. Reads Model.version, description and the vector lengths by hand.
 */
import { startsWith } from '../../io/bytes.js';
import { detection } from '../detection.js';
import type { FormatModule } from '../types.js';
import type { Probe } from '../../identify/probe.js';
import { FlatbufferReader } from './flatbuffer.js';

const NAME = 'TensorFlow Lite';

/** Model table field ids (schema.fbs). */
const F = { version: 0, operatorCodes: 1, subgraphs: 2, description: 3, buffers: 4, metadata: 6, signatureDefs: 7 } as const;

interface ModelFacts {
  version: number;
  description?: string;
  subgraphs?: number;
  buffers?: number;
  operatorCodes?: number;
  signatureDefs?: number;
  metadata?: string[];
}

async function readModel(probe: Probe, head: Uint8Array): Promise<ModelFacts | undefined> {
  try {
    const r = new FlatbufferReader(probe, head);
    const root = await r.u32(0);
    if (root < 8 || root >= probe.size) return undefined;
    const t = await r.table(root);
    const facts: ModelFacts = { version: await t.u32(F.version) };
    const desc = await t.string(F.description, 200);
    if (desc !== undefined) facts.description = desc;
    const count = async (i: number): Promise<number | undefined> => (await t.vector(i))?.length;
    facts.subgraphs = await count(F.subgraphs);
    facts.buffers = await count(F.buffers);
    facts.operatorCodes = await count(F.operatorCodes);
    facts.signatureDefs = await count(F.signatureDefs);
    try {
      const md = await t.vector(F.metadata);
      if (md && md.length > 0) {
        const names: string[] = [];
        for (let k = 0; k < Math.min(md.length, 16); k++) {
          const n = await (await t.tableAt(md, k)).string(0, 100);
          if (n !== undefined) names.push(n);
        }
        facts.metadata = names;
      }
    } catch {
      /* metadata names are a bonus */
    }
    return facts;
  } catch {
    return undefined;
  }
}

export const tflite: FormatModule = {
  id: 'tflite',
  name: NAME,
  extensions: ['.tflite', '.lite'],
  load: () => import('./inspect.js'),
  async detect(probe: Probe) {
    const head = await probe.head();
    if (head.length < 16) return undefined;
    const identified = startsWith(head, 'TFL3', 4);
    // Files from before the identifier was written: accept by extension when the root table reads as a Model.
    if (!identified && probe.ext !== '.tflite' && probe.ext !== '.lite') return undefined;
    const m = await readModel(probe, head);
    if (!identified && (!m || m.version < 1 || m.version > 3 || !m.subgraphs)) return undefined;
    const evidence: string[] = [];
    const first = identified ? 'TFLite flatbuffer identifier TFL3' : `no file identifier, but the root table reads as a TFLite Model (extension ${probe.ext})`;
    if (!m) {
      evidence.push(`${first}, but the root Model table could not be read (truncated or damaged file?)`);
      return detection('tflite', NAME, 'tflite-flatbuffer', null, 'medium', evidence);
    }
    evidence.push(`${first}, schema version ${m.version}${m.description !== undefined ? `, description '${m.description}'` : ''}`);
    const parts: string[] = [];
    const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;
    if (m.subgraphs !== undefined) parts.push(plural(m.subgraphs, 'subgraph'));
    if (m.operatorCodes !== undefined) parts.push(plural(m.operatorCodes, 'operator code'));
    if (m.buffers !== undefined) parts.push(plural(m.buffers, 'buffer'));
    if (m.signatureDefs) parts.push(plural(m.signatureDefs, 'signature def'));
    if (parts.length) evidence.push(parts.join(', '));
    if (m.metadata?.length) evidence.push(`metadata: ${m.metadata.join(', ')}`);
    if (!m.subgraphs) evidence.push('no subgraphs: not a runnable model');
    const zip = await probe.zip();
    let associated: string[] | undefined;
    // The metadata writer appends a zip whose offsets may be absolute (prefixLength 0): the zip starts
    // at its first local header, after the flatbuffer.
    const zipStart = zip ? zip.entries.reduce((m, e) => Math.min(m, e.localHeaderOffset), Infinity) : undefined;
    if (zip && zipStart !== undefined && zipStart > 0 && Number.isFinite(zipStart)) {
      associated = zip.entries.filter((e) => !e.isDirectory).map((e) => e.name);
      evidence.push(
        `a zip archive of ${associated.length} associated file(s) is appended at byte ${zipStart}, after the flatbuffer (TFLite Metadata): ${associated.slice(0, 8).join(', ')}${associated.length > 8 ? ', …' : ''}`,
      );
    }
    const known = m.version >= 0 && m.version <= 3;
    if (!known) evidence.push(`schema version ${m.version} is unknown (expected 0–3)`);
    return detection('tflite', NAME, 'tflite-flatbuffer', m.version, identified && known && m.subgraphs ? 'high' : 'medium', evidence, {
      details: {
        schemaVersion: m.version,
        ...(m.description !== undefined ? { description: m.description } : {}),
        ...(m.subgraphs !== undefined ? { subgraphs: m.subgraphs } : {}),
        ...(m.operatorCodes !== undefined ? { operatorCodes: m.operatorCodes } : {}),
        ...(m.buffers !== undefined ? { buffers: m.buffers } : {}),
        ...(associated ? { associatedFiles: associated.length } : {}),
      },
    });
  },
};
