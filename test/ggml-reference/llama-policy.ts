/**
 * llama-quantize's per-tensor type policy, called through FFI from node-llama-cpp's prebuilt
 * libllama (the test hooks of src/llama-ext.h: `llama_quant_model_from_metadata`,
 * `llama_quant_init`, `llama_quant_compute_types`, `llama_quant_tensor_allows_quantization`;
 * C++ symbols, called by their mangled names). The tensors are real `ggml_tensor`s made with
 * ggml_new_tensor in a no_alloc context, so name and shape checks run on the real structs.
 *
 *   const pol = loadLlamaPolicyReference();
 *   if (typeof pol === 'string') t.skip(pol);
 *   pol.computeTypes(15, { arch: 'llama', nLayer: 32, … }, [{ name, ne: [4096, 4096], type: 'f32' }, …])
 */
import { join } from 'node:path';
import { GGML_BY_ID, GGML_BY_NAME } from '../../src/dtypes.js';
import { loadGgmlReference, type KoffiLib } from './index.js';

export interface PolicyModel {
  arch: string;
  nLayer: number;
  nEmbd?: number;
  nFf?: number;
  nHead?: number;
  nHeadKv?: number;
  nExpert?: number;
}

export interface PolicyTensorSpec {
  name: string;
  /** ggml ne order (ne[0] = row length), 1–4 dims. */
  ne: number[];
  /** Current ggml type name (default f32). */
  type?: string;
}

export interface LlamaPolicyReference {
  /** llama_quant_compute_types for every tensor (in the order given): ggml type names. */
  computeTypes(ftype: number, model: PolicyModel, tensors: PolicyTensorSpec[], opts?: { pure?: boolean; quantizeOutputTensor?: boolean }): string[];
  /** llama_quant_tensor_allows_quantization per tensor. */
  allows(model: PolicyModel, tensors: PolicyTensorSpec[]): boolean[];
}

let cached: LlamaPolicyReference | string | undefined;

export function loadLlamaPolicyReference(): LlamaPolicyReference | string {
  if (cached === undefined) cached = load();
  return cached;
}

function load(): LlamaPolicyReference | string {
  const ggml = loadGgmlReference();
  if (typeof ggml === 'string') return ggml;
  const { koffi, lib: base, binDir } = ggml;
  let llama: KoffiLib;
  try {
    llama = koffi.load(join(binDir, 'libllama.v0.4.0.so'));
  } catch (e) {
    return `llama policy reference: cannot load libllama: ${(e as Error).message}`;
  }
  try {
    const InitParams = koffi.struct('mw_ggml_init_params', { mem_size: 'size_t', mem_buffer: 'void *', no_alloc: 'bool' });
    const Desc = koffi.struct('mw_llama_quant_model_desc', {
      architecture: 'const char *', n_embd: 'uint32_t', n_ff: 'uint32_t', n_layer: 'uint32_t', n_head: 'uint32_t',
      n_head_kv: 'uint32_t', n_expert: 'uint32_t', n_embd_head_k: 'uint32_t', n_embd_head_v: 'uint32_t',
    });
    // llama_model_quantize_params (include/llama.h), checked below against the library's defaults
    const Params = koffi.struct('mw_llama_model_quantize_params', {
      nthread: 'int32_t', ftype: 'int', output_tensor_type: 'int', token_embedding_type: 'int',
      allow_requantize: 'bool', quantize_output_tensor: 'bool', only_copy: 'bool', pure: 'bool', keep_split: 'bool', dry_run: 'bool',
      imatrix: 'void *', kv_overrides: 'void *', tt_overrides: 'void *', prune_layers: 'void *',
    });
    const ggmlInit = base.func('ggml_init', 'void *', [InitParams]);
    const ggmlFree = base.func('ggml_free', 'void', ['void *']);
    const newTensor = base.func('ggml_new_tensor', 'void *', ['void *', 'int', 'int', 'int64_t *']);
    const setName = base.func('ggml_set_name', 'void *', ['void *', 'const char *']);
    const defaults = llama.func('llama_model_quantize_default_params', Params, []);
    const modelFromMeta = llama.func('_Z31llama_quant_model_from_metadataPK22llama_quant_model_desc', 'void *', [koffi.pointer(Desc)]);
    const modelFree = llama.func('llama_model_free', 'void', ['void *']);
    const quantInit = llama.func('_Z16llama_quant_initPK11llama_modelPK27llama_model_quantize_params', 'void *', ['void *', 'void *']);
    const quantFree = llama.func('_Z16llama_quant_freeP19quantize_state_impl', 'void', ['void *']);
    const computeTypes = llama.func('_Z25llama_quant_compute_typesP19quantize_state_impl11llama_ftypePP11ggml_tensorP9ggml_typem',
      'void', ['void *', 'int', 'void **', koffi.out(koffi.pointer('int')), 'size_t']);
    const allowsFn = llama.func('_Z38llama_quant_tensor_allows_quantizationPK19quantize_state_implPK11ggml_tensor', 'bool', ['void *', 'void *']);

    const d = defaults();
    if (d.ftype !== 7 || d.output_tensor_type !== 43 || d.token_embedding_type !== 43 || d.quantize_output_tensor !== true || d.pure !== false) {
      return `llama policy reference: llama_model_quantize_params layout differs from the expected one (${JSON.stringify(d)})`;
    }

    const withState = <T>(model: PolicyModel, tensors: PolicyTensorSpec[], params: Record<string, unknown>, fn: (qs: unknown, ptrs: unknown[]) => T): T => {
      const ctx = ggmlInit({ mem_size: 1024 * 1024 + tensors.length * 512, mem_buffer: null, no_alloc: true });
      const desc = {
        architecture: model.arch, n_embd: model.nEmbd ?? 4096, n_ff: model.nFf ?? 11008, n_layer: model.nLayer,
        n_head: model.nHead ?? 32, n_head_kv: model.nHeadKv ?? model.nHead ?? 32, n_expert: model.nExpert ?? 0,
        n_embd_head_k: 128, n_embd_head_v: 128,
      };
      const mdl = modelFromMeta(desc);
      // params must outlive llama_quant_init: the state keeps the pointer
      const p = koffi.alloc(Params, 1);
      koffi.encode(p, Params, { ...d, ...params });
      const qs = quantInit(mdl, p);
      try {
        const ptrs = tensors.map((t) => {
          const type = GGML_BY_NAME.get(t.type ?? 'f32');
          if (!type) throw new Error(`unknown type ${t.type}`);
          const ne = new BigInt64Array(t.ne.map((v) => BigInt(v)));
          const tp = newTensor(ctx, type.id, t.ne.length, ne);
          setName(tp, t.name);
          return tp;
        });
        return fn(qs, ptrs);
      } finally {
        quantFree(qs);
        koffi.free(p);
        modelFree(mdl);
        ggmlFree(ctx);
      }
    };

    return {
      computeTypes(ftype, model, tensors, opts = {}) {
        const params = { ftype, pure: opts.pure ?? false, quantize_output_tensor: opts.quantizeOutputTensor ?? true };
        return withState(model, tensors, params, (qs, ptrs) => {
          const out = new Int32Array(Math.max(1, tensors.length));
          computeTypes(qs, ftype, ptrs, out, tensors.length);
          return [...out.subarray(0, tensors.length)].map((id) => GGML_BY_ID.get(id)?.name ?? `type${id}`);
        });
      },
      allows(model, tensors) {
        return withState(model, tensors, {}, (qs, ptrs) => ptrs.map((tp) => allowsFn(qs, tp) as boolean));
      },
    };
  } catch (e) {
    return `llama policy reference: ${(e as Error).message}`;
  }
}
