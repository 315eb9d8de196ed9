/** TF.js scan hook (TFJS-001): weight paths that leave the folder or point at other servers. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { scan } from './scan.js';
import { directScan, has } from '../../../test/helpers/scan-kit.js';

const model = (paths: string[]) => JSON.stringify({ format: 'graph-model', modelTopology: { node: [] }, weightsManifest: [{ paths, weights: [{ name: 'w', shape: [1], dtype: 'float32' }] }] });
const run = (json: string) => directScan(scan, { 'model.json': json }, 'model.json', 'tfjs', 'tfjs-graph');

describe('TF.js scan hook', () => {
  it('paths leaving the folder are high, remote ones medium; near-miss: shard names', async () => {
    for (const p of ['../../../etc/passwd', '/etc/passwd', 'C:\\secrets.bin']) {
      const r = await run(model([p]));
      assert.equal(r.verdict, 'malicious', p);
      assert.ok(has(r.all, 'TFJS-001', 'high'), p);
    }
    const remote = await run(model(['https://evil.example/w.bin']));
    assert.equal(remote.verdict, 'suspicious');
    const ok = await run(model(['group1-shard1of2.bin', 'sub/group1-shard2of2.bin']));
    assert.equal(ok.verdict, 'benign');
    assert.deepEqual(ok.all, []);
  });

  it('layers models: the Keras topology is checked too', async () => {
    const json = JSON.stringify({ format: 'layers-model', modelTopology: { class_name: 'Sequential', config: { layers: [{ class_name: 'Dense', config: { name: 'd', units: 1, trainable: true, dtype: 'float32', kernel_initializer: { module: 'os', class_name: 'function', config: 'system' } } }] } }, weightsManifest: [{ paths: ['w.bin'], weights: [] }] });
    assert.equal((await run(json)).verdict, 'malicious');
  });
});
