/**
 * The Node entry point: everything the universal API has, plus local paths (files and folders)
 * and the file-backed sources. `import { identify } from 'modelwise'` resolves here under Node.
 */
import { stat } from 'node:fs/promises';
import { dirname, basename } from 'node:path';
import { identify as identifyUniversal, identifySource, identifyTree, type ModelInput } from '../identify/identify.js';
import { inspect as inspectUniversal, inspectSource, inspectTree } from '../inspect/inspect.js';
import type { InspectOptions } from '../formats/types.js';
import type { ModelReport } from '../types.js';
import { ModelwiseError } from '../errors.js';
import { scanSource, scanTree } from '../scan/scan.js';
import type { ScanReport } from '../scan/types.js';
import { isRemote, type HttpOptions } from '../io/http.js';
import type { Identification } from '../types.js';
import { DirTree } from './dir-tree.js';
import { FileSource } from './file-source.js';
import { asModelwiseError } from '../errors.js';

export * from '../index.js';
export { FileSource } from './file-source.js';
export { DirTree } from './dir-tree.js';

/** Options a Node caller may pass; HF_ENDPOINT / HF_TOKEN are read from the environment by default. */
export function httpOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): HttpOptions {
  return {
    ...(env.HF_ENDPOINT ? { hfEndpoint: env.HF_ENDPOINT } : {}),
    ...(env.HF_TOKEN ?? env.HUGGING_FACE_HUB_TOKEN ? { hfToken: env.HF_TOKEN ?? env.HUGGING_FACE_HUB_TOKEN } : {}),
  };
}

/** Identify a local file or folder, a URL, or anything the universal API takes. */
export async function identify(input: ModelInput, opts: HttpOptions & { name?: string } = {}): Promise<Identification> {
  if (typeof input !== 'string' || isRemote(input)) return identifyUniversal(input, { ...httpOptionsFromEnv(), ...opts });
  return identifyPath(input);
}

export async function identifyPath(path: string): Promise<Identification> {
  try {
    const st = await stat(path).catch((e: NodeJS.ErrnoException) => {
      throw e.code === 'ENOENT' ? new ModelwiseError('NOT_FOUND', 'no such file or folder', { file: path }) : asModelwiseError(e, path);
    });
    if (st.isDirectory()) return await identifyTree(new DirTree(path), path.replace(/\/+$/, '') || '/');
    const source = await FileSource.open(path);
    try {
      // The file's folder is its context: sibling shards, weights of a model.json, variables/ of a SavedModel.
      const dir = dirname(path);
      return await identifySource(source, { path, kind: 'file', tree: new DirTree(dir), treePath: basename(path) });
    } finally {
      await source.close();
    }
  } catch (e) {
    const err = asModelwiseError(e, path);
    const code = (e as NodeJS.ErrnoException)?.code === 'ENOENT' ? 'NOT_FOUND' : err.code;
    return { path, source: 'file', size: null, format: null, confidence: null, evidence: [], reason: code === 'NOT_FOUND' ? `${path}: no such file or folder` : err.message, error: { code, message: code === 'NOT_FOUND' ? `${path}: no such file or folder` : err.message } };
  }
}

/** Inspect a local file or folder, a URL, or anything the universal API takes. */
export async function inspect(input: ModelInput, opts: HttpOptions & { name?: string; options?: InspectOptions } = {}): Promise<ModelReport> {
  if (typeof input !== 'string' || isRemote(input)) return inspectUniversal(input, { ...httpOptionsFromEnv(), ...opts });
  return inspectPath(input, opts.options);
}

export async function inspectPath(path: string, options: InspectOptions = {}): Promise<ModelReport> {
  const st = await stat(path).catch((e: NodeJS.ErrnoException) => {
    throw new ModelwiseError(e.code === 'ENOENT' ? 'NOT_FOUND' : 'IO', e.code === 'ENOENT' ? 'no such file or folder' : e.message, { file: path });
  });
  if (st.isDirectory()) return inspectTree(new DirTree(path), path.replace(/\/+$/, '') || '/', options);
  const source = await FileSource.open(path);
  try {
    return await inspectSource(source, { path, kind: 'file', tree: new DirTree(dirname(path)), treePath: basename(path), options });
  } finally {
    await source.close();
  }
}

/** Scan a local file or folder (a folder is one model: SavedModel, TF.js …). */
export async function scanPath(path: string): Promise<ScanReport> {
  const st = await stat(path).catch((e: NodeJS.ErrnoException) => {
    throw new ModelwiseError(e.code === 'ENOENT' ? 'NOT_FOUND' : 'IO', e.code === 'ENOENT' ? 'no such file or folder' : e.message, { file: path });
  });
  if (st.isDirectory()) return scanTree(new DirTree(path), path.replace(/\/+$/, '') || '/');
  const source = await FileSource.open(path);
  try {
    return await scanSource(source, { path, tree: new DirTree(dirname(path)), treePath: basename(path) });
  } finally {
    await source.close();
  }
}
