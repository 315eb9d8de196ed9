/**
 * Conformance: every model of ../shared/corpus (one per expected/*.json) is identified with the
 * format id its framework's reader reports, through every source kind (file, bytes, Blob, HTTP).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CORPUS, SKIP_CORPUS, expectedModels } from './helpers/corpus.js';
import { SOURCE_KINDS, identifyVia } from './helpers/source-kinds.js';
import { serveFolder, type TestServer } from './helpers/http-server.js';

if (SKIP_CORPUS) console.log(`# ${SKIP_CORPUS}`);

describe('identify: shared corpus', { skip: SKIP_CORPUS }, () => {
  let server: TestServer;
  before(async () => {
    server = await serveFolder(CORPUS);
  });
  after(async () => server?.close());

  for (const model of expectedModels()) {
    for (const kind of SOURCE_KINDS) {
      it(`${model.model} via ${kind} → ${model.format}`, async () => {
        const results = await identifyVia(kind, model.path, kind === 'http' ? { url: server.url, root: CORPUS } : undefined);
        if (kind === 'http' && model.isDir) {
          // Over HTTP a folder has no listing: at least one of its files must be identified as the model.
          const ids = results.map((r) => r.format?.id ?? null);
          assert.ok(ids.includes(model.format as never), `${model.model}: got ${JSON.stringify(ids)}`);
          for (const r of results) assert.ok(r.format === null || r.format.id === model.format || r.format.id === 'numpy' || r.format.id === 'keras', `${r.path} misidentified as ${r.format?.id}`);
        } else {
          const r = results[0]!;
          assert.equal(r.format?.id ?? null, model.format, `${model.model}: ${r.reason ?? JSON.stringify(r.evidence)}`);
          assert.ok(r.evidence.length > 0);
        }
      });
    }
  }
});
