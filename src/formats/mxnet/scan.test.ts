/** MXNet scan hook (MXNET-001): Python custom operators in symbol graphs, with a near-miss. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { scan } from './scan.js';
import { directScan, has } from '../../../test/helpers/scan-kit.js';

const sym = (nodes: object[]) => JSON.stringify({ nodes: [{ op: 'null', name: 'data', inputs: [] }, ...nodes], arg_nodes: [0], heads: [[1, 0, 0]], attrs: { mxnet_version: ['int', 10600] } });
const run = (json: string) => directScan(scan, { 'm-symbol.json': json }, 'm-symbol.json', 'mxnet', 'symbol-json');

describe('MXNet scan hook', () => {
  it('Custom op_type and _Native nodes are medium; near-miss: standard operators', async () => {
    const r = await run(sym([{ op: 'Custom', name: 'proposal', attrs: { op_type: 'proposal_target' }, inputs: [[0, 0, 0]] }]));
    assert.equal(r.verdict, 'suspicious');
    assert.ok(r.all.some((f) => f.rule === 'MXNET-001' && f.evidence.includes('proposal_target')));
    const legacy = await run(sym([{ op: '_Native', name: 'n', param: { info: '140234' }, inputs: [[0, 0]] }]));
    assert.ok(has(legacy.all, 'MXNET-001', 'medium'));
    const ok = await run(sym([{ op: 'Convolution', name: 'conv', attrs: { kernel: '(3, 3)', num_filter: '8' }, inputs: [[0, 0, 0]] }]));
    assert.equal(ok.verdict, 'benign');
    assert.deepEqual(ok.all, []);
  });
});
