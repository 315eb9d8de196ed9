/**
 * ONNX text forms: the textual syntax of onnx.parser / onnx.printer
 * (https://onnx.ai/onnx/repo-docs/Syntax.html), e.g.
 *
 *   <ir_version: 8, opset_import: ["" : 15]>
 *   agraph (float[N] X) => (float[N] Y) { Y = Abs(X) }
 *
 * and protobuf text format of a ModelProto (`ir_version: 8` … `graph { node { … } }`).
 */
import { detection } from '../detection.js';
import type { Detection } from '../../types.js';

/** Text without `#` comments (the ONNX syntax and pbtxt both use them). */
function stripComments(t: string): string {
  return t.replace(/#[^\n]*/g, '');
}

export function detectOnnxText(text: string, ext: string): Detection | undefined {
  const t = stripComments(text.slice(0, 64 * 1024)).trimStart();
  // Textual syntax: a model header in angle brackets, then a graph signature.
  if (t.startsWith('<')) {
    const close = t.indexOf('>');
    const header = close > 0 ? t.slice(0, close) : '';
    const ir = /\bir_version\s*:\s*(\d+)/.exec(header);
    const opsets = /\bopset_import\s*:\s*\[([^\]]*)\]/.exec(header);
    if (!ir || !opsets) return undefined;
    const rest = t.slice(close + 1);
    const graph = /^\s*([A-Za-z_][\w.]*)\s*\(([^)]*)\)\s*=>\s*\(/.exec(rest);
    const producer = /\bproducer_name\s*:\s*"([^"]{0,200})"/.exec(header)?.[1];
    const ops = [...opsets[1]!.matchAll(/"([^"]*)"\s*:\s*(\d+)/g)].map((m) => `${m[1] || 'ai.onnx'} ${m[2]}`);
    const evidence = [`ONNX textual syntax: <ir_version: ${ir[1]}, opset_import: [${ops.join(', ')}]>`];
    if (graph) evidence.push(`graph "${graph[1]}" (${graph[2]!.trim().slice(0, 120)}) => (…)`);
    if (producer) evidence.push(`producer ${producer}`);
    return detection('onnx', 'ONNX', 'onnx-text', ir[1]!, graph ? 'high' : 'medium', evidence, {
      details: { irVersion: Number(ir[1]), ...(producer ? { producer } : {}) },
    });
  }
  // Protobuf text format of a ModelProto.
  const ir = /^\s*ir_version\s*:\s*(\d+)\s*$/m.exec(t);
  const graph = /^\s*graph\s*\{/m.test(t);
  if (!ir || !graph) return undefined;
  if (!/^\s*(ir_version|producer_name|producer_version|domain|model_version|doc_string|opset_import)\s*[:{]/.test(t)) return undefined;
  const opset = /opset_import\s*\{[^}]*?version\s*:\s*(\d+)/.exec(t)?.[1];
  const producer = /^\s*producer_name\s*:\s*"([^"]{0,200})"/m.exec(t)?.[1];
  const evidence = [`protobuf text ModelProto: ir_version ${ir[1]}${producer ? `, producer ${producer}` : ''}${opset ? `, opset ${opset}` : ''}`];
  return detection('onnx', 'ONNX', 'onnx-text', ir[1]!, ext === '.pbtxt' || ext === '.onnxtxt' || ext === '.txt' ? 'high' : 'medium', evidence, {
    details: { irVersion: Number(ir[1]), ...(producer ? { producer } : {}) },
  });
}
