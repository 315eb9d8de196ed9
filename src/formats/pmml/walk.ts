/**
 * One streaming pass over a PMML document (../../codecs/xml.ts) that keeps only bounded facts: the
 * root's version and namespace, the Header, DataDictionary fields, DerivedField types, every model
 * element (an element with a MiningSchema child, PMML 4.4 §"Models") with its size counters and
 * nested segments, the top model's MiningSchema and Output fields. Only elements in the root's
 * namespace count (as the PMML schema defines them); Extension content in other namespaces is
 * skipped. Spec: https://dmg.org/pmml/v4-4-1/GeneralStructure.html
 */
import { parseXml, type XmlDoctype, type XmlResult, type XmlStartTag } from '../../codecs/xml.js';
import { ModelwiseError } from '../../errors.js';
import type { Diagnostic } from '../../types.js';
import type { ByteSource } from '../../io/source.js';

/** Caps on what is kept (counts stay exact beyond them). */
export const PMML_LIMITS = {
  /** DataField / DerivedField types remembered (to type the mining fields). */
  fields: 1_000_000,
  /** Fields, mining fields, output fields and models listed in the report. */
  listed: 10_000,
  /** Text kept from Header children (Timestamp, Annotation). */
  headerText: 1000,
} as const;

/** Elements counted inside a model, by the model kind that gives them meaning. */
const COUNTED = new Set([
  'Node', 'RegressionTable', 'NumericPredictor', 'CategoricalPredictor', 'PredictorTerm', 'PCell', 'Parameter', 'PPCell',
  'NeuralLayer', 'Neuron', 'Con', 'NeuralInput', 'NeuralOutput', 'SupportVectorMachine', 'SupportVector', 'VectorInstance', 'Coefficient',
  'BayesInput', 'TargetValueCount', 'PairCounts', 'Item', 'Itemset', 'AssociationRule', 'Cluster', 'ClusteringField', 'Characteristic',
  'Attribute', 'SimpleRule', 'CompoundRule', 'Segment', 'InstanceField', 'Sequence', 'SequenceRule', 'TimeSeries', 'BayesianNetworkNode',
  'GaussianProcessModel', 'DerivedField', 'MiningField', 'OutputField',
]);

/** Known model element names (PMML 4.4, plus the pre-4 ones): a model context opens at once. */
export const MODEL_ELEMENTS = new Set([
  'AnomalyDetectionModel', 'AssociationModel', 'BayesianNetworkModel', 'BaselineModel', 'ClusteringModel', 'GaussianProcessModel',
  'GeneralRegressionModel', 'MiningModel', 'NaiveBayesModel', 'NearestNeighborModel', 'NeuralNetwork', 'RegressionModel',
  'RuleSetModel', 'SequenceModel', 'Scorecard', 'SupportVectorMachineModel', 'TextModel', 'TimeSeriesModel', 'TreeModel',
]);

export interface PmmlModel {
  kind: string;
  depth: number;
  functionName?: string;
  modelName?: string;
  algorithmName?: string;
  hasMiningSchema: boolean;
  /** Counted elements inside this model (not inside its nested models). */
  counts: Record<string, number>;
  /** Elements inside this model (nested models excluded). */
  elements: number;
  /** Deepest Node nesting (tree models). */
  maxNodeDepth: number;
  activeFields: number;
  targetFields: number;
  segments: PmmlModel[];
  /** Segments beyond PMML_LIMITS.listed (counted, not kept). */
  segmentsOmitted: number;
}

export interface PmmlField {
  name: string;
  optype?: string;
  dataType?: string;
  values: number;
  intervals: number;
}

export interface PmmlFacts {
  rootName: string;
  namespace: string;
  version?: string;
  header?: { attributes: Record<string, string>; children: { name: string; attributes: Record<string, string>; text?: string }[] };
  dataDictionary?: { numberOfFields?: string; fields: number };
  dataFields: PmmlField[];
  dataTypes: Map<string, string | undefined>;
  derivedTypes: Map<string, string | undefined>;
  derivedFields: number;
  models: PmmlModel[];
  kinds: Record<string, number>;
  top?: PmmlModel;
  miningFields: { name: string; usageType: string; optype?: string }[];
  miningFieldsTotal: number;
  outputFields: string[];
  outputFieldsTotal: number;
  /** The tokenizer's result; absent when the walk stopped on an error. */
  xml?: XmlResult;
  xmlDiagnostics: Diagnostic[];
  doctype?: XmlDoctype;
  /** Why the walk stopped early (damaged or cut document): the facts above are partial. */
  error?: { code: string; message: string };
}

interface Frame {
  local: string;
  inNs: boolean;
  model?: PmmlModel;
  /** Node nesting depth (tree models). */
  node?: number;
}

/** Walk a PMML document once and collect its facts. Throws the tokenizer's errors (MALFORMED, …). */
export async function walkPmml(source: ByteSource): Promise<PmmlFacts> {
  const f: PmmlFacts = {
    rootName: '', namespace: '', dataFields: [], dataTypes: new Map(), derivedTypes: new Map(), derivedFields: 0, models: [], kinds: {},
    miningFields: [], miningFieldsTotal: 0, outputFields: [], outputFieldsTotal: 0, xmlDiagnostics: [],
  };
  const frames: Frame[] = [];
  const modelStack: PmmlModel[] = [];
  let headerChild: { name: string; attributes: Record<string, string>; text?: string } | undefined;
  let topMiningSchema = -1; // frame depth of the top model's MiningSchema
  let topOutput = false;
  let topDepth = -1;
  let lastField: PmmlField | undefined;

  const openModel = (frame: Frame, tag: XmlStartTag): PmmlModel => {
    const a = tag.attributes;
    const m: PmmlModel = {
      kind: tag.local, depth: tag.depth, hasMiningSchema: false, counts: {}, elements: 0, maxNodeDepth: 0, activeFields: 0, targetFields: 0, segments: [], segmentsOmitted: 0,
      ...(a.functionName !== undefined ? { functionName: a.functionName } : {}),
      ...(a.modelName !== undefined ? { modelName: a.modelName } : {}),
      ...(a.algorithmName !== undefined ? { algorithmName: a.algorithmName } : {}),
    };
    const parent = modelStack[modelStack.length - 1];
    if (parent) {
      if (parent.segments.length < PMML_LIMITS.listed) parent.segments.push(m);
      else parent.segmentsOmitted++;
    } else if (f.models.length < PMML_LIMITS.listed) f.models.push(m);
    frame.model = m;
    modelStack.push(m);
    return m;
  };

  const handler = {
    doctype(d: XmlDoctype) {
      f.doctype = d;
    },
    startElement(tag: XmlStartTag) {
      const depth = tag.depth;
      if (depth === 0) {
        f.rootName = tag.local;
        f.namespace = tag.uri;
        f.version = tag.attributes.version;
        frames.push({ local: tag.local, inNs: true });
        return;
      }
      const inNs = tag.uri === f.namespace;
      const frame: Frame = { local: tag.local, inNs };
      const parent = frames[frames.length - 1]!;
      frames.push(frame);
      const cur = modelStack[modelStack.length - 1];
      if (cur) cur.elements++;
      if (!inNs) return;
      const a = tag.attributes;
      const local = tag.local;
      // Header (a direct child of the root) and its children.
      if (depth === 1 && local === 'Header') f.header = { attributes: { ...a }, children: [] };
      else if (depth === 2 && parent.local === 'Header' && f.header) {
        headerChild = { name: local, attributes: { ...a } };
        if (f.header.children.length < 1000) f.header.children.push(headerChild);
      }
      if (depth === 1 && local === 'DataDictionary') f.dataDictionary = { fields: 0, ...(a.numberOfFields !== undefined ? { numberOfFields: a.numberOfFields } : {}) };
      switch (local) {
        case 'DataField':
          if (parent.local === 'DataDictionary' && f.dataDictionary) f.dataDictionary.fields++;
          if (f.dataTypes.size < PMML_LIMITS.fields || f.dataTypes.has(a.name ?? '')) f.dataTypes.set(a.name ?? '', a.dataType);
          lastField = { name: a.name ?? '', ...(a.optype !== undefined ? { optype: a.optype } : {}), ...(a.dataType !== undefined ? { dataType: a.dataType } : {}), values: 0, intervals: 0 };
          if (f.dataFields.length < PMML_LIMITS.listed) f.dataFields.push(lastField);
          break;
        case 'Value':
          if (parent.local === 'DataField' && lastField) lastField.values++;
          break;
        case 'Interval':
          if (parent.local === 'DataField' && lastField) lastField.intervals++;
          break;
        case 'DerivedField':
          f.derivedFields++;
          if (f.derivedTypes.size < PMML_LIMITS.fields || f.derivedTypes.has(a.name ?? '')) f.derivedTypes.set(a.name ?? '', a.dataType);
          break;
        case 'MiningSchema': {
          const owner = parent;
          // An element with a MiningSchema child is a model, known by name or not.
          const m = owner.model ?? (owner.inNs && depth >= 2 ? openModel(owner, { ...tag, local: owner.local, depth: depth - 1, attributes: {} }) : undefined);
          if (m && !m.hasMiningSchema) {
            m.hasMiningSchema = true;
            f.kinds[m.kind] = (f.kinds[m.kind] ?? 0) + 1;
            if (!f.top && m.depth === 1) {
              f.top = m;
              topDepth = 1;
              topMiningSchema = depth;
            }
          }
          break;
        }
        case 'MiningField': {
          const usage = a.usageType ?? 'active';
          if (cur && parent.local === 'MiningSchema') {
            if (usage === 'active') cur.activeFields++;
            else if (usage === 'target' || usage === 'predicted') cur.targetFields++;
          }
          if (topMiningSchema >= 0 && depth === topMiningSchema + 1 && parent.local === 'MiningSchema') {
            f.miningFieldsTotal++;
            if (f.miningFields.length < PMML_LIMITS.fields) f.miningFields.push({ name: a.name ?? '', usageType: usage, ...(a.optype !== undefined ? { optype: a.optype } : {}) });
          }
          break;
        }
        case 'Output':
          if (f.top && cur === f.top && depth === topDepth + 1) topOutput = true;
          break;
        case 'OutputField':
          if (topOutput) {
            f.outputFieldsTotal++;
            if (f.outputFields.length < PMML_LIMITS.listed) f.outputFields.push(a.name ?? '');
          }
          break;
        case 'Node':
          frame.node = (parent.node ?? 0) + 1;
          if (cur && frame.node > cur.maxNodeDepth) cur.maxNodeDepth = frame.node;
          break;
      }
      if (MODEL_ELEMENTS.has(local)) {
        if (cur) cur.elements--; // the nested model counts its own elements
        openModel(frame, tag);
      } else if (cur && COUNTED.has(local)) cur.counts[local] = (cur.counts[local] ?? 0) + 1;
    },
    text(t: string) {
      if (headerChild && frames.length === 3 && (headerChild.text ?? '').length < PMML_LIMITS.headerText) {
        headerChild.text = ((headerChild.text ?? '') + t).slice(0, PMML_LIMITS.headerText);
      }
    },
    endElement() {
      const frame = frames.pop();
      if (frames.length === 2 && headerChild) {
        if (headerChild.text !== undefined) headerChild.text = headerChild.text.trim();
        headerChild = undefined;
      }
      if (frame?.model) {
        modelStack.pop();
        if (frame.model === f.top) {
          topMiningSchema = -1;
          topOutput = false;
        }
      }
    },
  };
  try {
    f.xml = await parseXml(source, handler, { diagnostics: f.xmlDiagnostics });
  } catch (e) {
    // A damaged or cut document after the root: keep what was read, say why it stopped.
    if (!(e instanceof ModelwiseError) || !f.rootName || e.code === 'IO') throw e;
    f.error = { code: e.code, message: e.message };
  }
  return f;
}
