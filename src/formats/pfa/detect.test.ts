import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pfa } from './index.js';
import { jsonTopLevelKeys, yamlTopLevelKeys } from './keys.js';
import { Probe } from '../../identify/probe.js';
import { BytesSource } from '../../io/source.js';

const probeOf = (text: string, name = 'model.pfa'): Probe => new Probe(new BytesSource(new TextEncoder().encode(text), name), name);

describe('pfa detect', () => {
  it('minimal JSON engine', async () => {
    const d = await pfa.detect!(probeOf('{"input": "double", "output": "double", "action": [{"+": ["input", 10]}]}'));
    assert.equal(d?.format.variant, 'pfa-json');
    assert.equal(d?.confidence, 'high');
    assert.equal(d?.format.version, null);
  });

  it('record schemas, cells, fcns, method', async () => {
    const doc = {
      name: 'iris',
      method: 'emit',
      input: { type: 'record', name: 'Input', fields: [{ name: 'x', type: 'double' }] },
      output: ['null', 'string'],
      cells: { model: { type: 'double', init: 1 } },
      fcns: { f: { params: [{ x: 'double' }], ret: 'double', do: 'x' } },
      action: [{ emit: ['input'] }],
      '@': 'comment',
    };
    const d = await pfa.detect!(probeOf(JSON.stringify(doc), 'iris.json'));
    assert.equal(d?.format.variant, 'pfa-json');
    assert.equal(d?.details?.method, 'emit');
    assert.ok(d?.evidence.some((e) => e.includes('input record Input, output union')));
  });

  it('YAML engine', async () => {
    const y = '# a PFA document\n---\ninput: double\noutput: double\ncells:\n  count: {type: int, init: 0}\naction:\n  - {+: [input, 10]}\n';
    const d = await pfa.detect!(probeOf(y, 'model.yaml'));
    assert.equal(d?.format.variant, 'pfa-yaml');
    assert.equal(d?.confidence, 'high');
  });

  it('a JSON document too large to parse: top-level keys from the head', async () => {
    const big = `{"input": "double", "output": "double", "cells": {"tree": {"type": "double", "init": [${'1.0,'.repeat(5_000_000)}1.0]}}, "action": ["input"]}`;
    const d = await pfa.detect!(probeOf(big));
    assert.equal(d?.format.variant, 'pfa-json');
    assert.equal(d?.confidence, 'medium');
  });

  it('near misses: plain JSON, package.json, missing action, foreign keys, bad method, YAML configs', async () => {
    for (const t of [
      '{"a": 1}',
      '{"name": "pkg", "version": "1.0.0", "dependencies": {}}',
      '{"input": "double", "output": "double"}',
      '{"input": "double", "output": "double", "action": "input", "model_type": "bert"}',
      '{"input": "double", "output": "double", "action": "input", "method": "run"}',
      '{"input": 3, "output": "double", "action": "input"}',
      'name: ci\non: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n',
      'input: a\noutput: b\naction: c\nsteps: 3\n',
      '- input: a\n- output: b\n',
      'just some text\ninput: a\n',
    ]) {
      assert.equal(await pfa.detect!(probeOf(t, 'x.json')), undefined, t);
    }
  });
});

describe('pfa key sniffers', () => {
  it('yaml: keys at column 0 only, quoted keys, one document', () => {
    assert.deepEqual(yamlTopLevelKeys('a: 1\n  b: 2\n"c d": 3\n---\ne: 4\n'), ['a', 'c d']);
    assert.equal(yamlTopLevelKeys('[1, 2]\n'), undefined);
    assert.equal(yamlTopLevelKeys('plain scalar\n'), undefined);
  });
  it('json: depth-1 keys, tolerant of a cut', () => {
    assert.deepEqual(jsonTopLevelKeys('{"a": {"x": 1}, "b": [1, {"y": 2}], "c": "s\\"}", "d": 1}'), ['a', 'b', 'c', 'd']);
    assert.deepEqual(jsonTopLevelKeys('{"a": 1, "b": {"deep": [1, 2'), ['a', 'b']);
    assert.equal(jsonTopLevelKeys('[1]'), undefined);
  });
});
