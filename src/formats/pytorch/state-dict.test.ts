import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { walkPickle } from '../../codecs/pickle.js';
import { asTensor, collectStateDict, describeValue, foreignGlobals } from './state-dict.js';
import { orderedDict, pickle, tensor } from './inspect-kit.test.js';

const walk = (b: { build_(): Uint8Array }) => walkPickle(b.build_());

describe('state-dict: naming tensors like state_dict() without unpickling', () => {
  it('protocol 0/1 modules made through copy_reg._reconstructor(cls, object, None) + BUILD', () => {
    const b = pickle().global('copy_reg', '_reconstructor').mark().global('__main__', 'Net').global('__builtin__', 'object').none().tuple().reduce();
    b.mark().raw(0x64); // (d: empty dict
    b.str('_parameters');
    orderedDict(b, () => undefined);
    b.setitem().str('_modules');
    orderedDict(b, (m) => {
      m.str('lin').global('copy_reg', '_reconstructor').mark().global('torch.nn.modules.linear', 'Linear').global('__builtin__', 'object').none().tuple().reduce();
      m.mark().raw(0x64).str('_parameters');
      orderedDict(m, (p) => tensor(p.str('w'), { key: '0', shape: [3] }));
      m.setitem().build();
    });
    b.setitem().build().stop();
    const r = walk(b);
    assert.equal(r.error, undefined);
    const sd = collectStateDict(r.value);
    assert.deepEqual(sd.tensors.map((t) => t.name), ['lin.w']);
    assert.deepEqual(sd.moduleClasses, ['__main__.Net', 'torch.nn.modules.linear.Linear']);
    assert.equal(sd.root, '__main__.Net');
  });

  it('dict subclasses filled by SETITEMS are walked like dicts; numpy arrays are described', () => {
    const b = pickle().proto(2).global('lightning.fabric.utilities.data', 'AttributeDict').emptyTuple().newobj().mark();
    tensor(b.str('w'), { key: '0', shape: [2] });
    b.str('arr').global('numpy.core.multiarray', '_reconstruct').mark().global('numpy', 'ndarray').mark().int(0).tuple().str('b').tuple().reduce();
    b.mark().int(1).mark().int(3).int(4).tuple().global('numpy', 'dtype').mark().str('f4').int(0).int(1).tuple().reduce().raw(0x89).str('').tuple().build();
    b.setitems().stop();
    const sd = collectStateDict(walk(b).value);
    assert.deepEqual(sd.tensors.map((t) => t.name), ['w']);
    assert.deepEqual(sd.entries, [{ name: 'arr', description: 'numpy.ndarray f4 [3, 4]' }]);
  });

  it('a bare tensor root is named <root>; budgets stop the walk with truncated', () => {
    const one = collectStateDict(walk(tensor(pickle().proto(2), { key: '0', shape: [1] }).stop()).value);
    assert.deepEqual(one.tensors.map((t) => t.name), ['<root>']);
    const b = pickle().proto(2).emptyList().mark();
    for (let i = 0; i < 50; i++) tensor(b, { key: String(i), shape: [1] });
    const many = collectStateDict(walk(b.raw(0x65).stop()).value, { maxTensors: 10 });
    assert.equal(many.tensors.length, 10);
    assert.equal(many.truncated, true);
  });

  it('anything but the tensor-rebuild globals is "not a tensor", with the reason', () => {
    const v = walk(pickle().proto(2).global('os', 'system').mark().str('id').tuple().reduce().stop()).value;
    assert.deepEqual(asTensor(v), { kind: 'not-tensor', why: 'an object made by os.system' });
    assert.equal(describeValue(v), 'object os.system');
    assert.equal(asTensor(7).kind, 'not-tensor');
  });

  it('foreignGlobals: tensor globals are allowed, the rest judged by the scan policy', () => {
    const b = pickle().proto(2).mark();
    tensor(b, { key: '0', shape: [1] });
    b.global('torch.cuda', 'FloatStorage').global('__main__', 'Net').global('os', 'system').raw(0x82, 7).tuple().stop();
    const g = foreignGlobals(walk(b).events);
    assert.deepEqual(g.map((x) => [x.name, x.dangerous]), [['__main__.Net', false], ['os.system', true], ['copyreg extension 7', true]]);
  });
});
