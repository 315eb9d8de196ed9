/**
 * The universal entry (src/index.ts) must bundle for the browser: no node:* import and no Node
 * builtin anywhere in its import graph (design principle 3). esbuild resolves the whole graph,
 * so a stray `import 'node:fs'` deep in a format fails here.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';

const ENTRY = fileURLToPath(new URL('../src/index.ts', import.meta.url));
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

function isNodeBuiltin(path: string): boolean {
  return path.startsWith('node:') || BUILTINS.has(path) || BUILTINS.has(path.split('/')[0]!);
}

describe('browser bundle of src/index.ts', () => {
  it('bundles for the browser with no Node builtin in the graph', async () => {
    // A Node builtin makes esbuild fail with 'Could not resolve "node:fs"': show those messages.
    const result = await build({
      entryPoints: [ENTRY],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      write: false,
      metafile: true,
      logLevel: 'silent',
    }).catch((e: { errors?: { text: string; location?: { file: string; line: number } | null }[] }) => {
      const why = (e.errors ?? []).map((x) => `${x.location ? `${x.location.file}:${x.location.line}: ` : ''}${x.text}`);
      assert.fail(`browser bundle failed:\n${why.join('\n') || String(e)}`);
    });
    assert.deepEqual(result.errors, []);
    assert.equal(result.outputFiles.length, 1);
    assert.ok(result.outputFiles[0]!.contents.length > 1000);

    const meta: Metafile = result.metafile;
    const inputs = Object.keys(meta.inputs);
    assert.ok(inputs.some((p) => p.endsWith('src/index.ts')));
    assert.ok(inputs.some((p) => p.includes('src/formats/registry.ts')), 'the format registry is bundled');
    const offenders: string[] = [];
    for (const [file, input] of Object.entries(meta.inputs)) {
      if (isNodeBuiltin(file)) offenders.push(file);
      for (const imp of input.imports) {
        if (isNodeBuiltin(imp.path) || imp.external) offenders.push(`${file} imports ${imp.path}${imp.external ? ' (external)' : ''}`);
      }
      if (file.includes('src/node/') || file.includes('src/cli/')) offenders.push(`${file} (Node-only code)`);
    }
    for (const out of Object.values(meta.outputs)) {
      for (const imp of out.imports) offenders.push(`output imports ${imp.path}`);
    }
    assert.deepEqual(offenders, []);
  });

  it('the bundle has no require() or process.* left to Node', async () => {
    const result = await build({ entryPoints: [ENTRY], bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent' });
    const code = result.outputFiles[0]!.text;
    assert.doesNotMatch(code, /\brequire\(["']node:/);
    assert.doesNotMatch(code, /from ["']node:/);
    assert.doesNotMatch(code, /\bprocess\.(env|cwd|argv)\b/);
  });
});
