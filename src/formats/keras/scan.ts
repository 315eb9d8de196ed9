/**
 * Keras security rules (KER-001 … KER-004, see ../../scan/keras-config.ts) over the three Keras
 * layouts: the `.keras` zip (config.json), the legacy `.h5` (root attributes model_config and
 * training_config: the `.h5` path ignores safe_mode before Keras 3.11.3) and JSON architectures
 * (+ the weights HDF5 next to them, whose root attributes may carry a model_config too).
 */
import { Hdf5File, type AttributeValue } from '../../codecs/hdf5.js';
import { objectAttributes } from '../../codecs/hdf5-group.js';
import { openMember } from '../../codecs/zip.js';
import { ModelwiseError } from '../../errors.js';
import type { Probe } from '../../identify/probe.js';
import { decodeUtf8 } from '../../io/bytes.js';
import { readExact, type ByteSource } from '../../io/source.js';
import { dirname } from '../../io/tree.js';
import { LIMITS } from '../../limits.js';
import { scanKerasConfig } from '../../scan/keras-config.js';
import type { ScanState } from '../../scan/scan.js';
import type { Finding } from '../../scan/types.js';
import type { InspectInput } from '../types.js';

function parse(text: string, where: string, out: Finding[]): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    out.push({ rule: 'HDR-001', severity: 'low', location: where, evidence: `not valid JSON: ${(e as Error).message}`, message: 'the Keras config cannot be parsed: Keras refuses the model', malformed: true });
    return undefined;
  }
}

/** The string root attributes that hold Keras JSON (model_config, training_config). */
async function h5Configs(source: ByteSource): Promise<Record<string, string>> {
  const h5 = await Hdf5File.open(source);
  const oh = await h5.objectHeader(h5.superblock.rootObjectHeader);
  const out: Record<string, string> = {};
  for (const a of await objectAttributes(h5, oh)) {
    if (a.name !== 'model_config' && a.name !== 'training_config') continue;
    let v: AttributeValue;
    try {
      v = await h5.attributeValue(a, LIMITS.jsonFile);
    } catch {
      continue;
    }
    if (typeof v === 'string') out[a.name] = v;
  }
  return out;
}

async function scanH5(source: ByteSource, where: string, state: ScanState, out: Finding[]): Promise<void> {
  let attrs: Record<string, string>;
  try {
    attrs = await h5Configs(source);
  } catch (e) {
    if (!(e instanceof ModelwiseError) || e.code === 'LIMIT_EXCEEDED') throw e;
    out.push({ rule: 'HDR-001', severity: 'low', location: where, evidence: e.message, message: 'the HDF5 root attributes cannot be read', malformed: true });
    return;
  }
  for (const [k, text] of Object.entries(attrs)) {
    const loc = `${where} > ${k}`;
    const cfg = parse(text, loc, out);
    if (cfg !== undefined) {
      out.push(...(await scanKerasConfig(cfg, { location: loc, state })));
      state.scanned.push(`${loc} (Keras config)`);
    }
  }
}

async function scanV3(probe: Probe, state: ScanState, out: Finding[]): Promise<void> {
  const zip = await probe.zip();
  if (!zip) return;
  for (const e of zip.entries) {
    if (e.name !== 'config.json' || e.isDirectory) continue;
    const where = `${probe.path} > ${e.name}`;
    if (e.uncompressedSize > LIMITS.jsonFile) throw new ModelwiseError('LIMIT_EXCEEDED', `config.json of ${e.uncompressedSize} bytes exceeds the ${LIMITS.jsonFile}-byte JSON limit`, { file: where });
    const m = await openMember(zip, e, LIMITS.jsonFile, { ignoreEncryption: true });
    const cfg = parse(decodeUtf8(await readExact(m, 0, m.size, 'config.json')), where, out);
    if (cfg === undefined) continue;
    out.push(...(await scanKerasConfig(cfg, { location: where, state })));
    state.scanned.push(`${where} (Keras config)`);
  }
}

async function scanJson(input: InspectInput, probe: Probe, state: ScanState, out: Finding[]): Promise<void> {
  let cfg = await probe.json();
  if (cfg === undefined) {
    if (probe.size > LIMITS.jsonFile) throw new ModelwiseError('LIMIT_EXCEEDED', `model JSON of ${probe.size} bytes exceeds the ${LIMITS.jsonFile}-byte limit`, { file: probe.path });
    cfg = parse(decodeUtf8(await readExact(probe.source, 0, probe.size, 'model JSON')), probe.path, out);
  }
  if (cfg !== undefined) {
    out.push(...(await scanKerasConfig(cfg, { location: probe.path, state })));
    state.scanned.push(`${probe.path} (Keras config)`);
  }
  const weights = input.id.files?.find((f) => f.role === 'weights')?.path;
  if (!weights) return;
  const dir = dirname(probe.path);
  const rel = dir && weights.startsWith(dir + '/') ? weights.slice(dir.length + 1) : weights;
  const src = await probe.sibling(rel);
  if (src) await scanH5(src, `${dirname(probe.path) ? dirname(probe.path) + '/' : ''}${rel}`, state, out);
}

export async function scan(input: InspectInput, state: ScanState): Promise<Finding[]> {
  const probe = input.probe;
  if (!probe) return [];
  const out: Finding[] = [];
  const variant = input.id.format?.variant;
  if (variant === 'keras-v3') await scanV3(probe, state, out);
  else if (variant === 'keras-h5') await scanH5(probe.source, probe.path, state, out);
  else await scanJson(input, probe, state, out);
  return out;
}
