/**
 * Every hard cap modelwise applies to values read from untrusted files, in one place
 * (design principle 4). Each has the reason for its value.
 */
export const LIMITS = {
  /** Bytes a detector may read from the start of a file: enough for every header magic, JSON
   * sniffing of small config files and the first protobuf fields. */
  probeHead: 64 * 1024,
  /** Bytes read from the end of a file: the zip EOCD (22 bytes) plus the largest comment (65535)
   * plus the zip64 locator and record. */
  probeTail: 65_535 + 22 + 20 + 56,
  /** Largest zip central directory read when listing an archive (~60k entries at ~70 bytes). */
  zipCentralDirectory: 8 * 1024 * 1024,
  /** Entries listed in a zip archive: torch checkpoints with 50k tensors stay under it. */
  zipEntries: 200_000,
  /** Largest single zip member we inflate into memory when a detector or inspector asks for it. */
  zipInflateMember: 64 * 1024 * 1024,
  /** Compression ratio above which an inflated member is treated as a bomb. */
  zipInflateRatio: 1000,
  /** Largest small JSON file (config, index, model.json) parsed whole. */
  jsonFile: 64 * 1024 * 1024,
  /** Largest JSON parsed during detection (model.json of TF.js, symbol JSON, index files). */
  jsonProbe: 16 * 1024 * 1024,
  /** Files listed when walking a folder (one model folder rarely has more than a few thousand). */
  treeFiles: 100_000,
  /** Folder depth walked. */
  treeDepth: 16,
  /** Zip archives nested within each other that are opened. */
  archiveNesting: 4,
  /** Bytes of an HTTP response accepted when the server ignores the Range header. */
  httpNoRangeBody: 1024 * 1024,
  /** Cache block size for remote sources: one round trip fetches this much. */
  httpBlock: 256 * 1024,
  /** HTTP redirects followed. */
  httpRedirects: 10,
  /** Longest string length (bytes) accepted from a binary header (GGUF keys, names). */
  headerString: 64 * 1024 * 1024,
  /** Largest tensor rank accepted. */
  tensorRank: 64,
  /** Largest protobuf nesting depth walked. */
  protobufDepth: 100,
} as const;

export type LimitName = keyof typeof LIMITS;

/** Caps used by `inspect` (separate from detection caps above). */
export const INSPECT_LIMITS = {
  /** Tensor items kept in a report; the count stays exact beyond it (`tensors.truncated`). */
  reportTensors: 1_000_000,
  /** GGUF / GGML metadata entries read. */
  metadataEntries: 1_000_000,
  /** Elements of one metadata array decoded into the report (longer arrays are summarised). */
  arrayPreview: 16,
  /** Elements of an array decoded at all (tokenizer vocabularies reach 260k; larger are skipped, not decoded). */
  arrayDecode: 4_000_000,
  /** Largest JSON header parsed (safetensors allows 100 MB). */
  jsonHeader: 100 * 1024 * 1024,
  /** Largest pickle walked when inspecting (data.pkl of huge checkpoints stays far below). */
  pickleBytes: 512 * 1024 * 1024,
  /** Largest protobuf message read whole when its payloads must be walked. */
  protobufMessage: 256 * 1024 * 1024,
} as const;
