/**
 * Conformance of `inspect` with what the frameworks' own readers report (../shared/corpus/expected):
 * tensor count, parameter total, the set of (name, dtype, shape), and graph inputs/outputs where the
 * expected file lists them. Formats whose inspector is not written yet are skipped with a reason.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SKIP_CORPUS, expectedModels } from './helpers/corpus.js';
import { inspectPath, formatById } from '../src/node/index.js';

if (SKIP_CORPUS) console.log(`# ${SKIP_CORPUS}`);

const key = (t: { name: string; dtype: string; shape: unknown }) => `${t.name}|${t.dtype}|${JSON.stringify(t.shape)}`;

/** Graph inputs/outputs compared on the keys the expected entry states (the oracle omits dtype/shape it cannot know). */
const project = (got: Record<string, unknown>[], want: Record<string, unknown>[]) =>
  got.map((g, i) => Object.fromEntries((want[i] ? Object.keys(want[i]!) : ['name', 'dtype', 'shape']).map((k) => [k, g[k]])));

describe('inspect: shared corpus', { skip: SKIP_CORPUS }, () => {
  for (const model of expectedModels()) {
    const mod = formatById(model.format);
    const skip = mod?.load ? false : `no ${model.format} inspector yet`;
    it(`${model.model}`, { skip }, async () => {
      const r = await inspectPath(model.path);
      assert.equal(r.format.id, model.format);
      if (model.tensor_count !== undefined) assert.equal(r.tensors.count, model.tensor_count, 'tensor count');
      if (model.parameter_count !== undefined) assert.equal(Number(r.parameters.total), model.parameter_count, 'parameter total');
      if (model.tensors && !model.tensors_truncated) {
        const got = new Set(r.tensors.items.map(key));
        const want = new Set(model.tensors.map(key));
        const missing = [...want].filter((k) => !got.has(k));
        const extra = [...got].filter((k) => !want.has(k));
        assert.deepEqual({ missing: missing.slice(0, 10), extra: extra.slice(0, 10) }, { missing: [], extra: [] }, 'tensor (name, dtype, shape) set');
      }
      if (model.inputs && r.graph) {
        assert.deepEqual(project(r.graph.inputs, model.inputs), model.inputs, 'graph inputs');
      }
      if (model.outputs && r.graph) {
        assert.deepEqual(project(r.graph.outputs, model.outputs), model.outputs, 'graph outputs');
      }
      if (model.inputs || model.outputs) assert.ok(r.graph, 'graph expected');
    });
  }
});
