/**
 * modelwise — the universal API (browser and Node). No node:* imports here or below, except in
 * src/node and src/cli (a test bundles this entry for the browser to keep it so).
 */
export { identify, identifySource, identifyTree, detectFile, type ModelInput } from './identify/identify.js';
export { Probe, TreeProbe } from './identify/probe.js';
export { inspect, inspectSource, inspectTree, finalize } from './inspect/inspect.js';
export { describeQuantization, elementCount } from './inspect/summary.js';
export type { InspectOptions, Inspection, InspectInput, FormatImpl } from './formats/types.js';
export { FORMATS, formatById } from './formats/registry.js';
export type { FormatModule } from './formats/types.js';
export * from './types.js';
export { ModelwiseError, isModelwiseError, type ErrorCode } from './errors.js';
export { LIMITS } from './limits.js';
export { BytesSource, BlobSource, SliceSource, CachedSource, CountingSource, readExact, type ByteSource } from './io/source.js';
export { MemoryTree, SubTree, type SourceTree, type TreeEntry } from './io/tree.js';
export { openUrl, resolveHfUrl, isRemote, type HttpOptions } from './io/http.js';
export { openZip, openMember, readMemberPrefix, ZipTree, type ZipArchive, type ZipEntry } from './codecs/zip.js';
export { scanSource, scanTree } from './scan/scan.js';
export { scanPickle } from './scan/pickle-scan.js';
export { classifyGlobal } from './scan/pickle-policy.js';
export { RULES } from './scan/rules.js';
export type { Finding, ScanReport, Severity, Verdict, PickleImport } from './scan/types.js';
export { walkPickle, type PValue, type PickleResult } from './codecs/pickle.js';
