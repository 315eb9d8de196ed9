/**
 * Hugging Face checkpoint folder → GGUF options: architecture, hyper-parameters, tokenizer,
 * tensor-name mapping and fixes. Supported: the llama family (llama, mistral, qwen2); any other
 * `model_type` is refused with the missing mapping named. Without a config.json the converter
 * writes a plain GGUF of the tensors as they are (storage).
 */
import { ModelwiseError } from '../../errors.js';
import { TreeProbe, isObject } from '../../identify/probe.js';
import { SubTree, dirname } from '../../io/tree.js';
import type { OpenedModel } from '../../inspect/inspect.js';
import type { ModelReport } from '../../types.js';
import type { ConvertOptions } from '../convert.js';
import type { GgufKv } from '../writers/gguf.js';
import { SUPPORTED, ggufOrder, hyperParameterKvs, mapName, permuteTransform, type HfConfig } from './llama.js';
import { tokenizerKvs } from './tokenizer.js';

/** The model's folder, for a folder input or a weights file inside one. */
async function folderOf(model: OpenedModel): Promise<TreeProbe | undefined> {
  if (model.input.tree) return model.input.tree;
  const p = model.input.probe;
  if (!p?.tree) return undefined;
  const dir = dirname(p.treePath ?? p.path);
  const tree = dir ? new SubTree(p.tree, dir) : p.tree;
  return new TreeProbe(tree, dirname(p.path), await tree.list());
}

export async function hfGgufOptions(model: OpenedModel, report: ModelReport): Promise<ConvertOptions['gguf'] | undefined> {
  if (report.format.id === 'gguf' || report.format.id === 'ggml') return undefined;
  const root = await folderOf(model);
  if (!root?.has('config.json')) return undefined;
  const cfg = (await root.json('config.json')) as HfConfig | undefined;
  if (!isObject(cfg)) throw new ModelwiseError('MALFORMED', 'config.json is not a JSON object', { file: 'config.json' });
  const type = cfg.model_type ?? '';
  const spec = SUPPORTED[type];
  if (!spec) {
    throw new ModelwiseError('UNSUPPORTED', `architecture "${type || cfg.architectures?.[0] || '?'}" has no GGUF mapping in modelwise yet`, {
      file: 'config.json',
      expected: `model_type one of ${Object.keys(SUPPORTED).join(', ')}`,
    });
  }
  // Tied embeddings: llama.cpp reuses token_embd when output.weight is absent.
  for (const t of report.tensors.items) mapName(t.name); // fail early, naming the first unmappable tensor
  const kvs: [string, GgufKv][] = [
    ['general.architecture', { type: 'string', value: spec.arch }],
    ['general.type', { type: 'string', value: 'model' }],
    ['general.name', { type: 'string', value: root.name || type }],
    ...hyperParameterKvs(cfg, spec.arch),
    ...(await tokenizerKvs(root, cfg.vocab_size)),
  ];
  return { kvs, rename: mapName, order: ggufOrder, ...(spec.permute ? { transform: permuteTransform(cfg) } : {}) };
}
