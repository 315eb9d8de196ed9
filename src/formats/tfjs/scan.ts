/**
 * TF.js security rule TFJS-001: `weightsManifest[].paths` are joined to the URL or folder of
 * model.json by the loaders (tf.loadLayersModel / loadGraphModel, tfjs-node's file:// handler).
 * A path that is absolute, carries a drive letter or a `..` that leaves the folder makes the loader
 * read any file of the host into the weights (high); a URL makes it fetch from another server
 * (medium: tracking, SSRF from servers that load user models). The layers topology (Keras JSON) is
 * also checked with the Keras rules (custom classes, Lambda-like configs).
 */
import { isObject } from '../../identify/probe.js';
import { scanKerasConfig } from '../../scan/keras-config.js';
import { registerRules } from '../../scan/rules.js';
import type { ScanState } from '../../scan/scan.js';
import type { Finding } from '../../scan/types.js';
import type { InspectInput } from '../types.js';
import { unsafeLocation } from '../../scan/paths.js';

registerRules({
  'TFJS-001': 'TF.js weight shard path leaves the model folder (absolute, drive letter, ..) or is remote (URL)',
});

export function tfjsPathFindings(manifest: unknown, where: string): Finding[] {
  const out: Finding[] = [];
  if (!Array.isArray(manifest)) return out;
  const seen = new Set<string>();
  manifest.forEach((group, gi) => {
    if (!isObject(group) || !Array.isArray(group.paths)) return;
    for (const p of group.paths) {
      if (typeof p !== 'string' || seen.has(p)) continue;
      seen.add(p);
      const bad = unsafeLocation(p);
      if (!bad) continue;
      const remote = bad === 'a URL' || bad === 'a UNC / network path';
      out.push({
        rule: 'TFJS-001',
        severity: remote ? 'medium' : 'high',
        location: `${where} > weightsManifest[${gi}].paths`,
        evidence: `weight shard path ${JSON.stringify(p.length > 200 ? `${p.slice(0, 200)}…` : p)} is ${bad}`,
        message: remote
          ? 'the loader fetches this shard from another server: the model is not self-contained and the fetch can be used for tracking or SSRF'
          : 'the loader reads this path relative to model.json: it leaves the model folder and pulls a host file into the weights',
      });
    }
  });
  return out;
}

export async function scan(input: InspectInput, state: ScanState): Promise<Finding[]> {
  const probe = input.probe;
  if (!probe) return [];
  const json = await probe.json();
  if (!isObject(json) && !Array.isArray(json)) return [];
  const out: Finding[] = [];
  const manifest = Array.isArray(json) ? json : json.weightsManifest;
  out.push(...tfjsPathFindings(manifest, probe.path));
  if (isObject(json) && isObject(json.modelTopology) && (json.format === 'layers-model' || 'model_config' in json.modelTopology || 'class_name' in json.modelTopology)) {
    out.push(...(await scanKerasConfig(json.modelTopology, { location: `${probe.path} > modelTopology`, state })));
  }
  state.scanned.push(`${probe.path} (TF.js manifest)`);
  return out;
}
