/** `modelwise scan <path...>` */
import type { Command } from 'commander';
import { readdir, stat, writeFile, rename } from 'node:fs/promises';
import { join, dirname, basename } from 'node:path';
import { scanPath } from '../node/index.js';
import { renderScan, toSarif } from '../render/scan.js';
import { asModelwiseError } from '../errors.js';
import { reaches, type ScanReport } from '../scan/types.js';
import type { CliIO } from './main.js';
import { toJson } from './json.js';
import { positiveInt } from './options.js';
import { globToRegExp } from './glob.js';

interface ScanOpts {
  recursive?: boolean;
  json?: boolean;
  sarif?: string;
  failOn: 'suspicious' | 'malicious';
  include?: string[];
  exclude?: string[];
  concurrency: number;
}

async function walk(dir: string, out: string[], depth = 0): Promise<void> {
  if (depth > 32) return;
  for (const d of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    if (d.name === '.git' || d.name === 'node_modules') continue;
    const p = join(dir, d.name);
    if (d.isDirectory()) await walk(p, out, depth + 1);
    else if (d.isFile()) out.push(p);
  }
}

export function scanCommand(program: Command, io: CliIO, setExit: (code: number) => void, version: string): void {
  program
    .command('scan')
    .description('static security scan: is it safe to load? (never executes anything in the model)')
    .argument('<paths...>', 'model files or folders')
    .option('-r, --recursive', 'scan every file under the given folders separately (in parallel)')
    .option('--json', 'print JSON: an object for one input, an array for several')
    .option('--sarif <file>', 'also write SARIF 2.1.0 for code-scanning tools')
    .option('--fail-on <level>', 'exit 1 when a verdict reaches this level: suspicious | malicious', 'malicious')
    .option('--include <glob...>', 'with -r: only files matching a glob (e.g. "*.pt")')
    .option('--exclude <glob...>', 'with -r: skip files matching a glob')
    .option('--concurrency <n>', 'files scanned at once with -r', positiveInt, 4)
    .addHelpText(
      'after',
      `
Examples:
  $ modelwise scan pytorch_model.bin
  $ modelwise scan -r ./models --fail-on suspicious --sarif scan.sarif
  $ modelwise scan model.gguf --json

Verdicts: malicious, suspicious, malformed, benign, unscanned (an incomplete scan is never clean).
Exit codes: 0 nothing at or above --fail-on, 1 something at or above it, 2 an error or an unscanned model.`,
    )
    .action(async (paths: string[], opts: ScanOpts) => {
      if (opts.failOn !== 'suspicious' && opts.failOn !== 'malicious') {
        io.stderr(`modelwise: --fail-on must be suspicious or malicious\n`);
        setExit(2);
        return;
      }
      const targets: string[] = [];
      for (const p of paths) {
        const st = await stat(p).catch(() => undefined);
        if (st?.isDirectory() && opts.recursive) {
          const files: string[] = [];
          await walk(p, files);
          const inc = opts.include?.map(globToRegExp);
          const exc = opts.exclude?.map(globToRegExp);
          for (const f of files) {
            const rel = f.slice(p.length).replace(/^\/+/, '');
            if (inc && !inc.some((r) => r.test(rel))) continue;
            if (exc && exc.some((r) => r.test(rel))) continue;
            targets.push(f);
          }
        } else targets.push(p);
      }
      const results: ScanReport[] = new Array(targets.length);
      let next = 0;
      let done = 0;
      const progress = opts.recursive && process.stderr.isTTY;
      const worker = async () => {
        while (next < targets.length) {
          const i = next++;
          const t = targets[i]!;
          try {
            results[i] = await scanPath(t);
          } catch (e) {
            const err = asModelwiseError(e, t);
            results[i] = { path: t, format: null, verdict: 'unscanned', findings: [], imports: [], scanned: [], error: { code: err.code, message: err.message } };
          }
          done++;
          if (progress) process.stderr.write(`\rscanning ${done}/${targets.length} ${basename(t).slice(0, 40).padEnd(40)}`);
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency || 1, targets.length)) }, worker));
      if (progress) process.stderr.write('\r' + ' '.repeat(70) + '\r');
      if (opts.json) io.stdout(toJson(results.length === 1 ? results[0] : results) + '\n');
      else io.stdout(results.map(renderScan).join('\n') + '\n');
      if (opts.sarif) {
        const tmp = join(dirname(opts.sarif), `.${basename(opts.sarif)}.${process.pid}.tmp`);
        try {
          await writeFile(tmp, toJson(toSarif(results, version)) + '\n');
          await rename(tmp, opts.sarif);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          io.stderr(`modelwise: cannot write SARIF to ${opts.sarif}: ${code === 'ENOENT' ? 'no such folder' : (e as Error).message}\n`);
          setExit(2);
        }
      }
      for (const r of results) {
        if (r.error) {
          io.stderr(`modelwise: ${r.error.message}\n`);
          setExit(2);
        } else if (reaches(r.verdict, opts.failOn)) setExit(1);
        else if (r.verdict === 'unscanned') setExit(2);
      }
    });
}
