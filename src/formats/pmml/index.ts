/**
 * PMML (Predictive Model Markup Language, https://dmg.org/pmml/v4-4-1/GeneralStructure.html): an XML
 * document whose root element is `PMML`, namespace `http://www.dmg.org/PMML-4_4` (2.x–4.4), with a
 * `version` attribute. Variant `pmml-xml`. Only the prolog and the root start tag are parsed (by
 * hand, see xml-head.ts); entities are never resolved and DTDs never fetched.
 */
import { detection } from '../detection.js';
import type { FormatModule } from '../types.js';
import type { Probe } from '../../identify/probe.js';
import { attribute, rootElement, xmlHeadText } from './xml-head.js';

const NAME = 'PMML';

/** Model elements of PMML 4.4 (plus a few of 3.x), as they appear under <PMML>. */
const MODEL_ELEMENTS = [
  'AnomalyDetectionModel',
  'AssociationModel',
  'BayesianNetworkModel',
  'BaselineModel',
  'ClusteringModel',
  'GaussianProcessModel',
  'GeneralRegressionModel',
  'MiningModel',
  'NaiveBayesModel',
  'NearestNeighborModel',
  'NeuralNetwork',
  'RegressionModel',
  'RuleSetModel',
  'SequenceModel',
  'Scorecard',
  'SupportVectorMachineModel',
  'TextModel',
  'TimeSeriesModel',
  'TreeModel',
];
const MODEL_RE = new RegExp(`<(?:[A-Za-z_][\\w.-]*:)?(${MODEL_ELEMENTS.join('|')})[\\s/>]`, 'g');

export const pmml: FormatModule = {
  id: 'pmml',
  name: NAME,
  extensions: ['.pmml', '.xml'],
  load: async () => ({ ...(await import('./inspect.js')), scan: (await import('./scan.js')).scan }),
  async detect(probe: Probe) {
    const text = await xmlHeadText(probe);
    if (text === undefined) return undefined;
    const root = rootElement(text);
    if (!root || root.localName !== 'PMML') return undefined;
    const nsAttr = root.prefix ? `xmlns:${root.prefix}` : 'xmlns';
    const ns = attribute(root.attributes, nsAttr);
    const nsVersion = ns ? /^https?:\/\/www\.dmg\.org\/PMML-(\d+)_(\d+)\/?$/i.exec(ns.trim()) : null;
    const versionAttr = attribute(root.attributes, 'version')?.trim();
    const validVersion = versionAttr !== undefined && /^[2-4]\.\d+(\.\d+)?$/.test(versionAttr);
    const evidence: string[] = [];
    const nsText = nsVersion ? `${nsVersion[1]}.${nsVersion[2]}` : undefined;
    evidence.push(
      `XML root element <${root.name}>${ns ? ` in namespace ${ns}` : ' without a namespace'}${versionAttr !== undefined ? `, version="${versionAttr}"` : ', no version attribute'}`,
    );
    if (nsText && validVersion && nsText !== versionAttr) evidence.push(`namespace says PMML ${nsText} but version="${versionAttr}": the version attribute is used`);
    if (ns && !nsVersion) evidence.push(`namespace ${ns} is not a DMG PMML namespace`);
    if (versionAttr !== undefined && !validVersion) evidence.push(`version="${versionAttr}" is not a PMML version (2.0–4.4)`);
    if (root.doctype) evidence.push('has a DOCTYPE (not resolved)');

    const counts = new Map<string, number>();
    for (const m of text.matchAll(MODEL_RE)) counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + 1);
    const truncated = probe.size > text.length;
    if (counts.size) {
      evidence.push(`model element(s)${truncated ? ' in the first 64 KiB' : ''}: ${[...counts].map(([k, n]) => (n > 1 ? `${k} ×${n}` : k)).join(', ')}`);
    } else {
      evidence.push(truncated ? 'no model element in the first 64 KiB' : 'no model element (TreeModel, RegressionModel …): a PMML document without a model');
    }
    const appTag = /<(?:[A-Za-z_][\w.-]*:)?Application\b([^>]*)>/.exec(text)?.[1];
    const appName = appTag ? attribute(appTag, 'name') : undefined;
    const appVersion = appTag ? attribute(appTag, 'version') : undefined;
    if (appName) evidence.push(`Header/Application: ${appName}${appVersion ? ` ${appVersion}` : ''}`);

    const version = validVersion ? versionAttr! : (nsText ?? null);
    const strong = validVersion || nsVersion !== null;
    const first = [...counts.keys()][0];
    return detection('pmml', NAME, 'pmml-xml', version, strong ? 'high' : 'medium', evidence, {
      details: {
        ...(ns ? { namespace: ns } : {}),
        ...(first ? { modelElement: first } : {}),
        ...(appName ? { application: appName } : {}),
        ...(appVersion ? { applicationVersion: appVersion } : {}),
      },
    });
  },
};
