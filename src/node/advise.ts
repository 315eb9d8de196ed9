/** Node side of advise / inspect --memory: inspect the model (headers only) and read its config.json. */
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { inspectPath } from './index.js';
import { modelFromReport } from '../advise/model.js';
import type { AdviseModel } from '../advise/advise.js';
import type { ModelReport } from '../types.js';

async function hfConfigNear(path: string): Promise<Record<string, unknown> | undefined> {
  const st = await stat(path).catch(() => undefined);
  const dir = st?.isDirectory() ? path : dirname(path);
  try {
    const j = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as unknown;
    return j && typeof j === 'object' && !Array.isArray(j) ? (j as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export async function adviseModelAt(path: string): Promise<{ model: AdviseModel; report: ModelReport }> {
  const report = await inspectPath(path, { maxTensors: 0 });
  const cfg = report.format.id === 'gguf' ? undefined : await hfConfigNear(path);
  const pickle = report.format.id === 'pytorch' || report.format.id === 'torchscript';
  return { model: modelFromReport(report, cfg, pickle), report };
}
