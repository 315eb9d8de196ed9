/**
 * Core ML security rule COREML-001: parts of a model that are not in the file.
 * - custom layers (NeuralNetworkLayer.custom = 500, CustomLayerParams.className = 10) and custom
 *   models (Model.customModel = 555, CustomModel.className = 10): Core ML instantiates the named
 *   Objective-C / Swift class from the app — native code outside the model (medium);
 * - linked models (Model.linkedModel = 556: LinkedModelFile { linkedModelFileName = 1,
 *   linkedModelSearchPath = 2 }, StringParameter.defaultValue = 1): another model file is loaded
 *   from the host at run time (medium; high when the name or search path leaves the bundle);
 * - an `.mlpackage` Manifest.json whose item paths leave the package (medium).
 * Pipelines (200/201/202: Pipeline.models = 1) and branch / loop layers (605: ifBranch = 1,
 * elseBranch = 2; 615: conditionNetwork = 3, bodyNetwork = 4) are walked recursively.
 */
import { SourceFieldReader, WIRE, walkMessage, type ProtoField } from '../../codecs/protobuf.js';
import { isObject } from '../../identify/probe.js';
import type { ByteSource } from '../../io/source.js';
import { registerRules } from '../../scan/rules.js';
import type { ScanState } from '../../scan/scan.js';
import type { Finding } from '../../scan/types.js';
import type { InspectInput } from '../types.js';
import { unsafeLocation } from '../../scan/paths.js';

registerRules({
  'COREML-001': 'Core ML custom layers / custom models (native classes from the app) or linked model files',
});

const MAX_DEPTH = 32;
const MAX_LAYERS = 5_000_000;

interface Facts {
  customLayers: Map<string, string[]>;
  customModels: string[];
  linked: { name?: string; search?: string; path: string }[];
  serialized: string[];
  layers: number;
  partial: boolean;
}

class ModelWalker {
  readonly r: SourceFieldReader;
  readonly f: Facts = { customLayers: new Map(), customModels: [], linked: [], serialized: [], layers: 0, partial: false };
  constructor(source: ByteSource) {
    this.r = new SourceFieldReader(source, { minWindow: 4096, maxWindow: 1024 * 1024, budget: 512 * 1024 * 1024 });
  }

  private async walk(at: number, end: number, visit: (g: ProtoField) => Promise<boolean | void> | boolean | void): Promise<void> {
    const w = await walkMessage(this.r, at, end, visit);
    if (!w.ok) this.f.partial = true;
  }

  private async str(g: ProtoField): Promise<string | undefined> {
    return g.wire === WIRE.len ? this.r.string(g, 4096) : undefined;
  }

  /** A message's string field `n` (first occurrence). */
  private async stringField(at: number, end: number, n: number): Promise<string | undefined> {
    let s: string | undefined;
    await this.walk(at, end, async (g) => {
      if (g.field === n && g.wire === WIRE.len) {
        s = await this.str(g);
        return false;
      }
    });
    return s;
  }

  async model(at: number, end: number, path: string, depth: number): Promise<void> {
    if (depth > MAX_DEPTH) {
      this.f.partial = true;
      return;
    }
    await this.walk(at, end, async (g) => {
      if (g.wire !== WIRE.len) return;
      switch (g.field) {
        case 200:
        case 201:
          await this.walk(g.at, g.end, async (h) => {
            if (h.field === 1 && h.wire === WIRE.len) await this.pipeline(h.at, h.end, path, depth);
          });
          break;
        case 202:
          await this.pipeline(g.at, g.end, path, depth);
          break;
        case 303:
        case 403:
        case 500:
          await this.network(g.at, g.end, path, depth);
          break;
        case 555:
          this.f.customModels.push(`${path}${(await this.stringField(g.at, g.end, 10)) ?? '?'}`);
          break;
        case 556:
          await this.linked(g, path);
          break;
        case 3000:
          this.f.serialized.push(`${path}${(await this.stringField(g.at, g.end, 1)) ?? '?'}`);
          break;
      }
    });
  }

  private async pipeline(at: number, end: number, path: string, depth: number): Promise<void> {
    let i = 0;
    await this.walk(at, end, async (h) => {
      if (h.field === 1 && h.wire === WIRE.len) await this.model(h.at, h.end, `${path}models[${i++}] > `, depth + 1);
    });
  }

  private async network(at: number, end: number, path: string, depth: number): Promise<void> {
    if (depth > MAX_DEPTH) {
      this.f.partial = true;
      return;
    }
    await this.walk(at, end, async (g) => {
      if (g.field !== 1 || g.wire !== WIRE.len) return;
      if (++this.f.layers > MAX_LAYERS) return false;
      let name = '';
      await this.walk(g.at, g.end, async (h) => {
        if (h.wire !== WIRE.len) return;
        if (h.field === 1) name = (await this.str(h)) ?? '';
        else if (h.field === 500) {
          const cls = (await this.stringField(h.at, h.end, 10)) ?? '?';
          const list = this.f.customLayers.get(cls) ?? [];
          if (list.length < 5) list.push(`${path}${name || '?'}`);
          this.f.customLayers.set(cls, list);
        } else if (h.field === 605 || h.field === 615) {
          await this.walk(h.at, h.end, async (k) => {
            if (k.wire !== WIRE.len) return;
            if ((h.field === 605 && (k.field === 1 || k.field === 2)) || (h.field === 615 && (k.field === 3 || k.field === 4))) {
              await this.network(k.at, k.end, `${path}${name || 'layer'} > `, depth + 1);
            }
          });
        }
      });
    });
  }

  private async linked(g: ProtoField, path: string): Promise<void> {
    const entry: { name?: string; search?: string; path: string } = { path };
    await this.walk(g.at, g.end, async (h) => {
      if (h.field !== 1 || h.wire !== WIRE.len) return;
      await this.walk(h.at, h.end, async (k) => {
        if (k.wire !== WIRE.len || (k.field !== 1 && k.field !== 2)) return;
        const v = await this.stringField(k.at, k.end, 1);
        if (k.field === 1) entry.name = v;
        else entry.search = v;
      });
    });
    this.f.linked.push(entry);
  }
}

export function coremlFindings(f: Facts, where: string): Finding[] {
  const out: Finding[] = [];
  for (const [cls, layers] of f.customLayers) {
    out.push({ rule: 'COREML-001', severity: 'medium', location: `${where} > ${layers[0]}`, evidence: `custom layer class ${JSON.stringify(cls)} (layers ${layers.map((l) => JSON.stringify(l)).join(', ')})`, message: 'Core ML runs a custom layer with a class the app provides (MLCustomLayer): native code outside the model' });
  }
  for (const m of f.customModels) {
    out.push({ rule: 'COREML-001', severity: 'medium', location: where, evidence: `custom model class ${JSON.stringify(m)}`, message: 'a custom model is implemented by a class the app provides (MLCustomModel): native code outside the model' });
  }
  for (const l of f.linked) {
    const bad = [l.name, l.search].map((p) => (p ? unsafeLocation(p) : undefined)).find(Boolean);
    out.push({
      rule: 'COREML-001',
      severity: bad ? 'high' : 'medium',
      location: where,
      evidence: `linked model file ${JSON.stringify(l.name ?? '?')}${l.search ? `, search path ${JSON.stringify(l.search)}` : ''}${bad ? ` (${bad})` : ''}`,
      message: bad ? 'the linked model is loaded from outside the model bundle: another file of the host runs as part of this model' : 'another model file is loaded at run time: it is not part of this file and is not scanned with it',
    });
  }
  for (const s of f.serialized) {
    out.push({ rule: 'COREML-001', severity: 'info', location: where, evidence: `serialized model for identifier ${JSON.stringify(s)}`, message: 'an opaque model blob handled by a system framework' });
  }
  if (f.partial) out.push({ rule: 'HDR-001', severity: 'low', location: where, evidence: `model protobuf read partially (${f.layers} layers)`, message: 'the Core ML protobuf is damaged or nested too deep: parts were not checked', malformed: true });
  return out;
}

function manifestFindings(json: unknown, where: string): Finding[] {
  const out: Finding[] = [];
  if (!isObject(json) || !isObject(json.itemInfoEntries)) return out;
  for (const [id, item] of Object.entries(json.itemInfoEntries)) {
    if (!isObject(item) || typeof item.path !== 'string') continue;
    const bad = unsafeLocation(item.path);
    if (bad) out.push({ rule: 'COREML-001', severity: 'medium', location: `${where} > itemInfoEntries.${id}`, evidence: `item path ${JSON.stringify(item.path)} is ${bad}`, message: 'a package item that points outside the .mlpackage: Core ML would read a host file as part of the model' });
  }
  return out;
}

export async function scan(input: InspectInput, state: ScanState): Promise<Finding[]> {
  const out: Finding[] = [];
  const probe = input.probe;
  const variant = input.id.format?.variant;
  // .mlpackage: the manifest (at the package root) may name paths outside it.
  if (input.tree?.has('Manifest.json')) out.push(...manifestFindings(await input.tree.json('Manifest.json'), `${input.tree.path}/Manifest.json`));
  else if (probe?.name === 'Manifest.json') out.push(...manifestFindings(await probe.json(), probe.path));
  let spec: { source: ByteSource; path: string } | undefined;
  if (probe && (variant === 'mlmodel' || probe.name.endsWith('.mlmodel'))) spec = { source: probe.source, path: probe.path };
  else if (variant === 'mlpackage') {
    const rel = 'Data/com.apple.CoreML/model.mlmodel';
    const s = input.tree ? await input.tree.tree.open(rel) : probe ? await probe.sibling(rel) : undefined;
    if (s) spec = { source: s, path: `${input.tree?.path ?? probe!.path.replace(/\/?[^/]*$/, '')}/${rel}` };
  }
  if (spec) {
    const w = new ModelWalker(spec.source);
    await w.model(0, spec.source.size, '', 0);
    out.push(...coremlFindings(w.f, spec.path));
    state.scanned.push(`${spec.path} (Core ML spec, ${w.f.layers} layers)`);
  }
  return out;
}
