/**
 * A large PFA document (http://dmg.org/pfa/docs/specification/) as Hadrian's tree exporters write
 * a decision tree: record input of `features` doubles, a `tree` cell holding a complete binary
 * tree of TreeNode records (field, operator, value, pass, fail) as deep as fits in `targetSize`, and an action calling
 * `model.tree.simpleWalk` with a user function `u.predicate`. JSON, one line — PFA documents are
 * parsed whole (bounded by LIMITS.jsonFile), so this is a memory/time figure, not a sparse one.
 */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pfaDocument(targetSize: number, features = 20): { bytes: Uint8Array; nodes: number } {
  const r = rng(7);
  const names = Array.from({ length: features }, (_, i) => `x${i}`);
  // A complete binary tree of leaves {"string": "..."}; depth chosen so the text reaches targetSize.
  const nodeText = 48; // bytes per tree node, on average (internal nodes and leaves)
  let depth = 1;
  while (2 ** (depth + 2) * nodeText <= targetSize) depth++;
  let nodes = 0;
  const node = (d: number): string => {
    nodes++;
    if (d === 0) return `{"string":"class${Math.floor(r() * 4)}"}`;
    const f = names[Math.floor(r() * features)]!;
    return `{"TreeNode":{"field":"${f}","operator":"<=","value":${(r() * 10 - 5).toFixed(6)},"pass":${node(d - 1)},"fail":${node(d - 1)}}}`;
  };
  const init = node(depth).replace(/^\{"TreeNode":/, '').replace(/\}$/, '');
  const doc =
    `{"name":"forest_tree","method":"map","version":1,` +
    `"input":{"type":"record","name":"Datum","fields":[${names.map((n) => `{"name":"${n}","type":"double"}`).join(',')}]},` +
    `"output":"string",` +
    `"cells":{"tree":{"type":{"type":"record","name":"TreeNode","fields":[{"name":"field","type":{"type":"enum","name":"TreeFields","symbols":[${names.map((n) => `"${n}"`).join(',')}]}},{"name":"operator","type":"string"},{"name":"value","type":"double"},{"name":"pass","type":["string","TreeNode"]},{"name":"fail","type":["string","TreeNode"]}]},"init":${init}}},` +
    `"action":[{"model.tree.simpleWalk":["input",{"cell":"tree"},{"params":[{"d":"Datum"},{"t":"TreeNode"}],"ret":"boolean","do":{"u.predicate":["d","t"]}}]}],` +
    `"fcns":{"predicate":{"params":[{"d":"Datum"},{"t":"TreeNode"}],"ret":"boolean","do":{"model.tree.simpleTest":["d","t"]}}},` +
    `"metadata":{"producer":"modelwise bench"}}`;
  return { bytes: new TextEncoder().encode(doc), nodes };
}
