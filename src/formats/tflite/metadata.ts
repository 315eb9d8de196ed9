/**
 * TFLite model metadata: the `Model.metadata` entries whose buffers hold small values —
 * `min_runtime_version` (a NUL-padded version string), `TFLITE_METADATA` (a second flatbuffer, file
 * identifier "M001", root `ModelMetadata` of tensorflow/tflite-support
 * tensorflow_lite_support/metadata/metadata_schema.fbs) — and the zip of associated files the
 * metadata writer appends after the flatbuffer (labels, vocabularies).
 *
 * ModelMetadata is decoded by hand through the same lazy, bounds-checked buffer (a handful of
 * string fields; generating the whole metadata schema for them is not worth its size):
 *   ModelMetadata { name:string (0); description:string (1); version:string (2);
 *     subgraph_metadata:[SubGraphMetadata] (3); author:string (4); license:string (5);
 *     associated_files:[AssociatedFile] (6); min_parser_version:string (7) }
 *   AssociatedFile { name:string (0); description:string (1); type:AssociatedFileType (2);
 *     locale:string (3); version:string (4) }
 */
import { ModelwiseError } from '../../errors.js';
import { decodeUtf8 } from '../../io/bytes.js';
import { SliceSource, type ByteSource } from '../../io/source.js';
import type { Probe } from '../../identify/probe.js';
import type { Diagnostic } from '../../types.js';
import { LazyByteBuffer } from './lazy-buffer.js';
import { bufferRange, readBufferPrefix, type TfliteModel } from './model.js';

const ASSOCIATED_FILE_TYPES = ['UNKNOWN', 'DESCRIPTIONS', 'TENSOR_AXIS_LABELS', 'TENSOR_VALUE_LABELS', 'TENSOR_AXIS_SCORE_CALIBRATION', 'VOCABULARY', 'SCANN_INDEX_FILE'];
/** Associated files listed from the metadata (a model rarely has more than a few). */
const MAX_ASSOCIATED = 1000;
/** Longest metadata string kept (descriptions can be paragraphs; licences whole texts). */
const MAX_STRING = 4096;

export interface TfliteModelMetadata {
  name?: string;
  description?: string;
  version?: string;
  author?: string;
  license?: string;
  minParserVersion?: string;
  subgraphMetadata?: number;
  associatedFiles?: { name: string; type?: string; description?: string }[];
}

export interface TfliteMetadataFacts {
  /** Every metadata entry: name → buffer size in bytes (or the decoded value for small strings). */
  entries: Record<string, unknown>;
  minRuntimeVersion?: string;
  modelMetadata?: TfliteModelMetadata;
  associatedFiles?: { name: string; size: number }[];
  associatedZipOffset?: number;
  diagnostics: Diagnostic[];
}

const clip = (s: string | undefined): string | undefined => (s === undefined ? undefined : s.length > MAX_STRING ? s.slice(0, MAX_STRING) + '…' : s);

/** Decode a TFLITE_METADATA buffer (identifier M001) lying at [offset, offset+length) of the file. */
export async function readModelMetadata(source: ByteSource, offset: number, length: number): Promise<TfliteModelMetadata> {
  const bb = new LazyByteBuffer(new SliceSource(source, offset, length), { maxBytes: 16 * 1024 * 1024 });
  return bb.run(() => {
    const root = bb.readInt32(0);
    if (root < 8 || root >= length) bb.fail(0, `metadata root offset ${root} is outside the ${length}-byte metadata buffer`);
    const field = (i: number): number => bb.__offset(root, 4 + 2 * i);
    const str = (i: number): string | undefined => {
      const o = field(i);
      return o ? clip(bb.__string(root + o) as string) : undefined;
    };
    const out: TfliteModelMetadata = {};
    const set = (k: keyof TfliteModelMetadata, v: string | undefined): void => {
      if (v !== undefined && v !== '') (out as Record<string, unknown>)[k] = v;
    };
    set('name', str(0));
    set('description', str(1));
    set('version', str(2));
    set('author', str(4));
    set('license', str(5));
    set('minParserVersion', str(7));
    const sgo = field(3);
    if (sgo) out.subgraphMetadata = bb.vectorAt(root + sgo, 4, 'subgraph_metadata').length;
    const afo = field(6);
    if (afo) {
      const v = bb.vectorAt(root + afo, 4, 'associated_files');
      out.associatedFiles = [];
      for (let k = 0; k < Math.min(v.length, MAX_ASSOCIATED); k++) {
        const t = bb.__indirect(v.start + 4 * k);
        const f = (i: number): number => bb.__offset(t, 4 + 2 * i);
        const name = f(0) ? (bb.__string(t + f(0)) as string) : '';
        const desc = f(1) ? clip(bb.__string(t + f(1)) as string) : undefined;
        const type = f(2) ? bb.readInt8(t + f(2)) : 0;
        out.associatedFiles.push({ name, type: ASSOCIATED_FILE_TYPES[type] ?? String(type), ...(desc ? { description: desc } : {}) });
      }
    }
    return out;
  });
}

/** The metadata entries of a model, decoded where their format is known. */
export async function readMetadata(probe: Probe, m: TfliteModel): Promise<TfliteMetadataFacts> {
  const source = probe.source;
  const facts: TfliteMetadataFacts = { entries: {}, diagnostics: [] };
  for (const md of m.metadata) {
    const b = m.buffers[md.buffer];
    if (!b) {
      facts.diagnostics.push({ code: 'METADATA_BUFFER_MISSING', message: `metadata '${md.name}' refers to buffer ${md.buffer}, but the model has ${m.buffers.length}` });
      continue;
    }
    const r = bufferRange(b);
    const size = r?.length ?? 0;
    if (r && r.offset + r.length > source.size) {
      facts.diagnostics.push({ code: 'TENSOR_OUT_OF_BOUNDS', message: `metadata '${md.name}' buffer ${md.buffer} (${r.length} bytes at ${r.offset}) runs past the end of the file` });
      continue;
    }
    try {
      if (md.name === 'min_runtime_version') {
        const bytes = await readBufferPrefix(source, b, 64);
        if (bytes) {
          let e = bytes.indexOf(0);
          if (e < 0) e = bytes.length;
          facts.minRuntimeVersion = decodeUtf8(bytes.subarray(0, e));
          facts.entries[md.name] = facts.minRuntimeVersion;
          continue;
        }
      } else if (md.name === 'TFLITE_METADATA' && r && r.length >= 8) {
        const ident = await source.read(r.offset + 4, 4);
        if (String.fromCharCode(...ident) === 'M001') {
          facts.modelMetadata = await readModelMetadata(source, r.offset, r.length);
          facts.entries[md.name] = { bytes: size, ...facts.modelMetadata };
          continue;
        }
        facts.diagnostics.push({ code: 'METADATA_UNREADABLE', message: `TFLITE_METADATA buffer has identifier '${String.fromCharCode(...ident)}', not M001` });
      }
    } catch (e) {
      if (!(e instanceof ModelwiseError) || e.code === 'IO') throw e;
      facts.diagnostics.push({ code: 'METADATA_UNREADABLE', message: `metadata '${md.name}': ${e.message}` });
    }
    facts.entries[md.name] = { bytes: size };
  }
  // Associated files: a zip appended after the flatbuffer (its offsets may be absolute).
  const zip = await probe.zip();
  if (zip) {
    const start = zip.entries.reduce((a, e) => Math.min(a, e.localHeaderOffset), Infinity);
    if (Number.isFinite(start) && start > 0) {
      facts.associatedZipOffset = start;
      facts.associatedFiles = zip.entries.filter((e) => !e.isDirectory).map((e) => ({ name: e.name, size: e.uncompressedSize }));
    }
  }
  return facts;
}
