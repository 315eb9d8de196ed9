/**
 * What a file is when it is not a model, when that is cheap to know: the usual reasons a "model"
 * fails to load (an HTML error page saved as the model, a Git LFS pointer, a config file given
 * instead of the weights, a truncated download).
 */
import { isObject, type Probe } from './probe.js';
import { startsWith } from '../io/bytes.js';
import { looksLikePickle } from '../scan/pickle-scan.js';
import type { NotAModel } from '../types.js';
import { sniffProtobuf } from './not-model-protobuf.js';

const MAGICS: [string | number[], string, string][] = [
  [[0x1f, 0x8b], 'gzip', 'a gzip-compressed file; decompress it first'],
  ['BZh', 'bzip2', 'a bzip2-compressed file; decompress it first'],
  [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 'xz', 'an xz-compressed file; decompress it first'],
  [[0x28, 0xb5, 0x2f, 0xfd], 'zstd', 'a zstd-compressed file; decompress it first'],
  ['7z\xbc\xaf\x27\x1c', '7z', 'a 7-Zip archive; extract it first'],
  ['Rar!', 'rar', 'a RAR archive; extract it first'],
  [[0x7f, 0x45, 0x4c, 0x46], 'elf', 'an ELF executable or shared library, not a model'],
  ['MZ', 'pe', 'a Windows executable, not a model'],
  [[0x89, 0x50, 0x4e, 0x47], 'png', 'a PNG image, not a model'],
  [[0xff, 0xd8, 0xff], 'jpeg', 'a JPEG image, not a model'],
  ['GIF8', 'gif', 'a GIF image, not a model'],
  ['%PDF', 'pdf', 'a PDF document, not a model'],
  ['SQLite format 3\0', 'sqlite', 'an SQLite database, not a model'],
];

export async function sniffNotModel(probe: Probe): Promise<NotAModel> {
  if (probe.size === 0) return { kind: 'empty', reason: 'the file is empty (0 bytes): an interrupted download or copy?' };
  const head = await probe.head();
  if (head.length === 0) return { kind: 'unreadable', reason: 'the file could not be read' };

  if (looksLikePickle(head)) {
    return {
      kind: 'pickle',
      reason: 'a Python pickle that is not a model format modelwise recognises (scikit-learn, joblib, a raw object): loading it runs whatever it names — check it with `modelwise scan`',
    };
  }
  const text = await probe.text();
  if (text !== undefined) {
    const t = text.trimStart();
    const lfs = /^version https:\/\/git-lfs\.github\.com\/spec\/v1\s[\s\S]*?oid sha256:([0-9a-f]{64})[\s\S]*?size (\d+)/.exec(t);
    if (lfs) {
      return {
        kind: 'git-lfs-pointer',
        reason: `a Git LFS pointer (oid sha256:${lfs[1]!.slice(0, 12)}…, real size ${lfs[2]} bytes), not the model: run \`git lfs pull\``,
      };
    }
    if (/^version https:\/\/git-lfs/.test(t)) return { kind: 'git-lfs-pointer', reason: 'a Git LFS pointer, not the model: run `git lfs pull`' };
    if (/^(<!doctype html|<html|<head|<body)/i.test(t)) {
      const title = /<title[^>]*>([^<]{0,200})<\/title>/i.exec(t)?.[1]?.trim();
      return { kind: 'html', reason: `an HTML page${title ? ` ("${title}")` : ''}, not a model: a failed or redirected download?` };
    }
    const json = await probe.json();
    if (json !== undefined) return describeJson(json, probe);
    if (/^\s*[{[]/.test(t) && probe.size > 16 * 1024 * 1024) return { kind: 'json', reason: 'a large JSON document that is not a model' };
    if (/^\s*[{[]/.test(t)) return { kind: 'json', reason: 'a JSON-like text that does not parse (truncated?)' };
    if (/^<\?xml|^</.test(t)) {
      const root = /<([A-Za-z_][\w:.-]*)[\s>]/.exec(t.replace(/<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!DOCTYPE[^>]*>/g, ''))?.[1];
      return { kind: 'xml', reason: `an XML document${root ? ` (root element <${root}>)` : ''} that is not a model` };
    }
    return { kind: 'text', reason: 'a text file that is not a model' };
  }

  for (const [magic, kind, reason] of MAGICS) if (startsWith(head, magic)) return { kind, reason };
  if (startsWith(head, [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a])) {
    return { kind: 'hdf5', reason: 'an HDF5 file without Keras attributes (keras_version, model_config, layer_names): a plain data file, not a model' };
  }
  const zip = await probe.zip();
  if (zip) {
    if (zip.entries.some((e) => e.encrypted)) {
      return { kind: 'encrypted-zip', reason: `an encrypted zip archive (${zip.entries.length} entr${zip.entries.length === 1 ? 'y' : 'ies'}): its contents cannot be read without the password` };
    }
    return { kind: 'zip', reason: `a zip archive of ${zip.entries.length} entr${zip.entries.length === 1 ? 'y' : 'ies'} that holds no model modelwise recognises` };
  }
  const proto = sniffProtobuf(head, probe.size);
  if (proto) return proto;
  return { kind: 'unknown', reason: `no known model signature (first bytes ${Array.from(head.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ')})` };
}

function describeJson(json: unknown, probe: Probe): NotAModel {
  if (isObject(json)) {
    if (typeof json.model_type === 'string' || Array.isArray(json.architectures)) {
      const arch = Array.isArray(json.architectures) ? json.architectures.join(', ') : json.model_type;
      return {
        kind: 'hf-config',
        reason: `a Hugging Face model config (${String(arch)}), not the weights: the weights are in *.safetensors / *.bin files next to it`,
      };
    }
    if (isObject(json.model) && ('vocab' in json.model || 'type' in json.model) && ('added_tokens' in json || 'normalizer' in json || 'pre_tokenizer' in json)) {
      const type = isObject(json.model) && typeof json.model.type === 'string' ? json.model.type : 'unknown';
      return { kind: 'hf-tokenizer', reason: `a Hugging Face tokenizer (tokenizers ${type} model), not model weights` };
    }
    if ('tokenizer_class' in json || 'chat_template' in json || 'added_tokens_decoder' in json || 'model_max_length' in json) {
      return { kind: 'hf-tokenizer-config', reason: 'a Hugging Face tokenizer_config.json, not model weights' };
    }
    if ('_from_model_config' in json || ('do_sample' in json && 'eos_token_id' in json)) {
      return { kind: 'hf-generation-config', reason: 'a Hugging Face generation_config.json, not model weights' };
    }
    if (typeof json.error === 'string') {
      return { kind: 'error-response', reason: `a saved server error response ("${json.error.slice(0, 200)}"), not a model` };
    }
    if (isObject(json.weight_map)) return { kind: 'json', reason: 'a shard index whose weight files are missing' };
  }
  return { kind: 'json', reason: `a JSON document${probe.name ? '' : ''} that is not a model` };
}
