/**
 * PMML inspection: one streaming pass (./walk.ts over ../../codecs/xml.ts) mapped to the common
 * report. PMML stores no tensors; the graph is the top model's MiningSchema (active fields in,
 * target/predicted fields out, typed from the DataDictionary or a DerivedField, scalar so no
 * shape) and there are no operators. Every model element is listed with its size, segments
 * recursed. External entities are never resolved (the tokenizer expands none).
 */
import { ModelwiseError } from '../../errors.js';
import type { Diagnostic, GraphIO } from '../../types.js';
import type { InspectInput, Inspection } from '../types.js';
import { walkPmml, type PmmlFacts, type PmmlModel } from './walk.js';

/** PMML dataType → canonical dtype (as the oracle maps them); other types pass through. */
const PMML_TYPES: Record<string, string> = {
  double: 'f64', float: 'f32', integer: 'i64', string: 'string', boolean: 'bool', date: 'date', time: 'time', dateTime: 'datetime',
};

const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;

/** The size of a model in its own terms: nodes of a tree, coefficients of a regression … */
export function modelSize(m: PmmlModel): string {
  const c = (k: string): number => m.counts[k] ?? 0;
  switch (m.kind) {
    case 'TreeModel':
      return `${plural(c('Node'), 'node')}, depth ${m.maxNodeDepth}`;
    case 'RegressionModel':
      return `${plural(c('RegressionTable'), 'regression table')}, ${plural(c('NumericPredictor') + c('CategoricalPredictor') + c('PredictorTerm'), 'coefficient')}`;
    case 'GeneralRegressionModel':
      return `${plural(c('Parameter'), 'parameter')}, ${plural(c('PCell'), 'parameter matrix cell')}`;
    case 'MiningModel':
      return plural(c('Segment'), 'segment');
    case 'NeuralNetwork':
      return `${plural(c('NeuralLayer'), 'layer')}, ${plural(c('Neuron'), 'neuron')}, ${plural(c('Con'), 'connection')}`;
    case 'SupportVectorMachineModel':
      return `${plural(c('SupportVectorMachine'), 'machine')}, ${plural(c('VectorInstance'), 'vector')}, ${plural(c('Coefficient'), 'coefficient')}`;
    case 'NaiveBayesModel':
      return `${plural(c('BayesInput'), 'input')}, ${plural(c('TargetValueCount'), 'count')}`;
    case 'AssociationModel':
      return `${plural(c('Item'), 'item')}, ${plural(c('Itemset'), 'itemset')}, ${plural(c('AssociationRule'), 'rule')}`;
    case 'ClusteringModel':
      return `${plural(c('Cluster'), 'cluster')}, ${plural(c('ClusteringField'), 'field')}`;
    case 'Scorecard':
      return `${plural(c('Characteristic'), 'characteristic')}, ${plural(c('Attribute'), 'attribute')}`;
    case 'RuleSetModel':
      return plural(c('SimpleRule') + c('CompoundRule'), 'rule');
    case 'NearestNeighborModel':
      return plural(c('InstanceField'), 'instance field');
    default:
      return plural(m.elements, 'element');
  }
}

interface ModelOut {
  kind: string;
  size: string;
  functionName?: string;
  modelName?: string;
  algorithmName?: string;
  counts: Record<string, number>;
  activeFields: number;
  targetFields: number;
  segments?: ModelOut[];
  segmentsOmitted?: number;
}

function modelOut(m: PmmlModel, budget: { left: number }): ModelOut {
  budget.left--;
  const segs: ModelOut[] = [];
  let omitted = m.segmentsOmitted;
  for (const s of m.segments) {
    if (budget.left > 0) segs.push(modelOut(s, budget));
    else omitted++;
  }
  return {
    kind: m.kind,
    size: modelSize(m),
    ...(m.functionName !== undefined ? { functionName: m.functionName } : {}),
    ...(m.modelName !== undefined ? { modelName: m.modelName } : {}),
    ...(m.algorithmName !== undefined ? { algorithmName: m.algorithmName } : {}),
    counts: m.counts,
    activeFields: m.activeFields,
    targetFields: m.targetFields,
    ...(segs.length ? { segments: segs } : {}),
    ...(omitted ? { segmentsOmitted: omitted } : {}),
  };
}

function graphOf(f: PmmlFacts, diagnostics: Diagnostic[]): Inspection['graph'] {
  const inputs: GraphIO[] = [];
  const outputs: GraphIO[] = [];
  const undeclared: string[] = [];
  for (const mf of f.miningFields) {
    const declared = f.dataTypes.has(mf.name) ? f.dataTypes.get(mf.name) : f.derivedTypes.has(mf.name) ? f.derivedTypes.get(mf.name) : null;
    if (declared === null) undeclared.push(mf.name);
    const dtype = declared ? (PMML_TYPES[declared] ?? declared) : null;
    const e: GraphIO = { name: mf.name, dtype, shape: null, ...(mf.optype ? { optype: mf.optype } : {}) };
    if (mf.usageType === 'active') inputs.push(e);
    else if (mf.usageType === 'target' || mf.usageType === 'predicted') outputs.push({ ...e, usageType: mf.usageType });
  }
  if (undeclared.length) diagnostics.push({ code: 'FIELD_UNDECLARED', message: `mining field(s) declared in neither the DataDictionary nor a DerivedField: ${undeclared.slice(0, 20).join(', ')}` });
  return { inputs, outputs, ops: {} };
}

export async function inspect(input: InspectInput): Promise<Inspection> {
  const probe = input.probe;
  if (!probe) throw new ModelwiseError('USAGE', 'PMML inspection needs the file');
  const f = await walkPmml(probe.source);
  const diagnostics: Diagnostic[] = [...f.xmlDiagnostics];
  if (f.error) diagnostics.push({ code: f.error.code === 'UNEXPECTED_EOF' ? 'TRUNCATED' : f.error.code, message: `the document could not be read to its end; the report is partial: ${f.error.message}` });
  if (f.rootName !== 'PMML') throw new ModelwiseError('MALFORMED', `root element is <${f.rootName}>, not <PMML>`, { file: probe.path, offset: 0 });
  if (!f.top) diagnostics.push({ code: 'NO_MODEL', message: 'no model element with a MiningSchema under <PMML>' });
  const dd = f.dataDictionary;
  if (dd?.numberOfFields !== undefined && Number(dd.numberOfFields) !== dd.fields) {
    diagnostics.push({ code: 'FIELD_COUNT_MISMATCH', message: `DataDictionary numberOfFields=${dd.numberOfFields} but it holds ${dd.fields} DataField elements` });
  }
  const graph = graphOf(f, diagnostics);
  const metadata: Record<string, unknown> = {};
  const app = f.header?.children.find((c) => c.name === 'Application');
  if (f.header) {
    Object.assign(metadata, f.header.attributes);
    for (const c of f.header.children) {
      const v = Object.keys(c.attributes).length ? { ...c.attributes, ...(c.text ? { text: c.text } : {}) } : (c.text ?? '');
      const prev = metadata[c.name];
      metadata[c.name] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
  }
  const producer = app ? `${app.attributes.name ?? ''} ${app.attributes.version ?? ''}`.trim() : null;
  const budget = { left: 1000 };
  const top = f.top;
  const kinds = Object.entries(f.kinds).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}${n > 1 ? ` ×${n}` : ''}`);
  return {
    format: { version: f.version ?? null },
    producer: producer || null,
    architecture: top ? `${top.kind}${top.functionName ? ` (${top.functionName})` : ''}` : null,
    tensors: [],
    graph,
    details: {
      namespace: f.namespace,
      ...(f.version !== undefined ? { version: f.version } : {}),
      ...(f.xml ? { encoding: f.xml.encoding } : {}),
      ...(f.header ? { header: { ...f.header.attributes, ...(app ? { application: app.attributes } : {}) } } : {}),
      dataDictionary: { fields: dd?.fields ?? 0, list: f.dataFields },
      derivedFields: f.derivedFields,
      modelKinds: f.kinds,
      ...(kinds.length ? { modelSummary: kinds.join(', ') } : {}),
      models: f.models.map((m) => modelOut(m, budget)),
      ...(top
        ? {
            miningSchema: {
              fields: f.miningFieldsTotal,
              active: graph!.inputs.length,
              target: graph!.outputs.length,
              other: f.miningFields.filter((m) => !['active', 'target', 'predicted'].includes(m.usageType)).slice(0, 1000).map((m) => ({ name: m.name, usageType: m.usageType })),
            },
            outputFields: { count: f.outputFieldsTotal, names: f.outputFields },
          }
        : {}),
      ...(f.doctype ? { doctype: f.doctype } : {}),
    },
    metadata,
    diagnostics,
  };
}
