/**
 * Keras models whose weights are multi-GB HDF5 datasets (test/helpers/hdf5-tree-writer.ts writes
 * the HDF5 structure; dataset data is claimed at addresses that are holes in the sparse file):
 *
 * - `.h5` (legacy `model.save('m.h5')`, h5py's default libver: superblock 0, symbol-table groups):
 *   root attributes `keras_version`, `backend`, `model_config` (a Sequential of Dense layers as
 *   JSON) and `training_config`; group `model_weights` with `layer_names`, each layer group with
 *   `weight_names` and the datasets `<layer>/<layer>/kernel:0`, `bias:0`; contiguous f32 data.
 *   The superblock's end-of-file address is the real file size.
 * - `.keras` (Keras 3 `model.save('m.keras')`): a stored zip of `metadata.json`, `config.json` and
 *   `model.weights.h5` (groups `layers/<layer>/vars/0,1`), the h5 member zip64 and multi-GB; its
 *   CRC-32 is computed over the holes without reading them (lib/zip64.ts).
 */
import { buildHdf5Tree, type H5Group } from '../../test/helpers/hdf5-tree-writer.js';
import type { Piece } from './sparse.js';
import { storedZip64 } from './zip64.js';

const HIDDEN = 8192;
const enc = new TextEncoder();

function plan(targetSize: number, tensors: number) {
  const layers = Math.floor(tensors / 2);
  const ffn = Math.max(1, Math.floor(targetSize / layers / 4 / HIDDEN));
  return Array.from({ length: layers }, (_, i) => ({ name: `dense_${i}`, kernel: i % 2 === 0 ? [HIDDEN, ffn] : [ffn, HIDDEN], units: i % 2 === 0 ? ffn : HIDDEN }));
}

function modelConfig(layers: ReturnType<typeof plan>) {
  return {
    class_name: 'Sequential',
    config: {
      name: 'sequential',
      layers: [
        { class_name: 'InputLayer', config: { batch_input_shape: [null, HIDDEN], dtype: 'float32', sparse: false, ragged: false, name: 'input_1' } },
        ...layers.map((l) => ({ class_name: 'Dense', config: { name: l.name, trainable: true, dtype: 'float32', units: l.units, activation: 'relu', use_bias: true, kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } }, bias_initializer: { class_name: 'Zeros', config: {} } } })),
      ],
    },
  };
}

const align = (n: number, a: number) => Math.ceil(n / a) * a;

/** Lay the datasets out from `base`: returns their addresses and the end. */
function addresses(layers: ReturnType<typeof plan>, base: number) {
  let p = base;
  return {
    at: layers.map((l) => {
      const k = p;
      p += l.kernel[0]! * l.kernel[1]! * 4;
      const b = p;
      p += l.units * 4;
      return { kernel: k, bias: b };
    }),
    end: () => p,
  };
}

/**
 * Make the test writer's superblock-0 output readable by libhdf5 (checked with h5py 3.7 /
 * libhdf5 1.10): libhdf5 writes "no free block" in a local heap as offset 1 (H5HL_FREE_NULL) and
 * rejects anything past the heap ("bad heap free list") where the writer puts the undefined
 * address, and it sizes symbol-table nodes from the superblock's group leaf node K.
 */
function forLibhdf5(b: Uint8Array): void {
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  // The writer puts a group's links in one symbol-table node; libhdf5 sizes that node from the
  // superblock's group leaf node K (2K entries): raise K (offset 16) so 150 layers fit in one node.
  dv.setUint16(16, 256, true);
  for (let i = 0; i + 32 <= b.length; i += 8) {
    if (b[i] === 0x48 && b[i + 1] === 0x45 && b[i + 2] === 0x41 && b[i + 3] === 0x50 && b[i + 4] === 0 && dv.getBigUint64(i + 16, true) === 0xffff_ffff_ffff_ffffn) {
      dv.setBigUint64(i + 16, 1n, true);
    }
  }
}

/** Symbol-table nodes hold links sorted by name (libhdf5 binary-searches them): sort every group. */
function sorted(g: H5Group): H5Group {
  const keys = Object.keys(g.members).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { ...g, members: Object.fromEntries(keys.map((k) => { const m = g.members[k]!; return [k, 'members' in m ? sorted(m) : m]; })) };
}

/** Build the tree twice: addresses do not change the metadata length, so the second build fits. */
function h5Fixed(group: (at: { kernel: number; bias: number }[]) => H5Group, layers: ReturnType<typeof plan>): { bytes: Uint8Array; end: number } {
  const first = buildHdf5Tree(sorted(group(addresses(layers, 2 ** 40).at))).bytes;
  const base = align(first.length, 4096);
  const a = addresses(layers, base);
  const bytes = buildHdf5Tree(sorted(group(a.at))).bytes;
  if (bytes.length !== first.length) throw new Error('HDF5 metadata length changed');
  forLibhdf5(bytes);
  return { bytes, end: a.end() };
}

export function kerasH5Layout(targetSize: number, tensors = 300): { size: number; pieces: Piece[] } {
  const layers = plan(targetSize, tensors);
  const cfg = JSON.stringify(modelConfig(layers));
  const training = JSON.stringify({ loss: 'mse', metrics: null, weighted_metrics: null, loss_weights: null, optimizer_config: { class_name: 'Adam', config: { name: 'Adam', learning_rate: 0.001, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7, amsgrad: false } } });
  const { bytes, end } = h5Fixed(
    (at) => ({
      attrs: { keras_version: '2.15.0', backend: 'tensorflow', model_config: cfg, training_config: training },
      members: {
        model_weights: {
          attrs: { layer_names: layers.map((l) => l.name), backend: 'tensorflow', keras_version: '2.15.0' },
          members: Object.fromEntries(
            layers.map((l, i) => [
              l.name,
              {
                attrs: { weight_names: [`${l.name}/kernel:0`, `${l.name}/bias:0`] },
                members: { [l.name]: { members: { 'kernel:0': { dtype: 'f32', shape: l.kernel, at: at[i]!.kernel }, 'bias:0': { dtype: 'f32', shape: [l.units], at: at[i]!.bias } } } },
              },
            ]),
          ),
        },
      },
    }),
    layers,
  );
  // superblock 0: the end-of-file address (offset 40) is the real file size
  new DataView(bytes.buffer, bytes.byteOffset).setBigUint64(40, BigInt(end), true);
  return { size: end, pieces: [{ offset: 0, bytes }] };
}

export function kerasV3Layout(targetSize: number, tensors = 300): { size: number; pieces: Piece[] } {
  const layers = plan(targetSize, tensors);
  const { bytes: h5, end } = h5Fixed(
    (at) => ({
      members: {
        layers: { members: Object.fromEntries(layers.map((l, i) => [l.name, { members: { vars: { members: { '0': { dtype: 'f32', shape: l.kernel, at: at[i]!.kernel }, '1': { dtype: 'f32', shape: [l.units], at: at[i]!.bias } } } } }])) },
        optimizer: { members: { vars: { members: { '0': { dtype: 'i64', shape: [] } } } } },
      },
    }),
    layers,
  );
  new DataView(h5.buffer, h5.byteOffset).setBigUint64(40, BigInt(end), true);
  const cfg = modelConfig(layers);
  const config = {
    module: 'keras',
    class_name: 'Sequential',
    config: { name: 'sequential', trainable: true, dtype: 'float32', layers: [
        { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, HIDDEN], dtype: 'float32', sparse: false, name: 'input_layer' }, registered_name: null },
        ...cfg.config.layers.slice(1).map((l) => ({ module: 'keras.layers', class_name: l.class_name, config: l.config, registered_name: null, build_config: { input_shape: [null, HIDDEN] } })),
      ],
    },
    registered_name: null,
    build_config: { input_shape: [null, HIDDEN] },
    compile_config: { optimizer: 'adam', loss: 'mse', metrics: null },
  };
  const meta = { keras_version: '3.7.0', date_saved: '2025-01-15@10:31:07' };
  const z = storedZip64([
    { name: 'metadata.json', head: enc.encode(JSON.stringify(meta)) },
    { name: 'config.json', head: enc.encode(JSON.stringify(config)) },
    { name: 'model.weights.h5', head: h5, size: end },
  ]);
  return { size: z.size, pieces: z.pieces };
}
