/**
 * Which pickle globals are benign, dangerous or unknown. Allow-list first: the globals a plain tensor
 * checkpoint needs (torch's `weights_only` unpickler set, NumPy array reconstruction,
 * collections.OrderedDict …) are benign; a deny-list only chooses the severity of the rest
 * (dangerous → critical, anything else → suspicious). Names are checked on every dotted component
 * of module and name, with module aliases (`__builtin__` ≡ `builtins`, `posix`/`nt` ≡ `os`,
 * `_operator` ≡ `operator` …) and parent modules inherited by submodules.
 *
 * Sources: torch/_weights_only_unpickler.py (allow-list), picklescan / fickling / modelaudit
 * deny-lists and their published bypasses (../shared/notes/scanner-anchors.md §1–§7).
 */

export type GlobalClass = 'benign' | 'dangerous' | 'unknown';

const TORCH_STORAGES = [
  'DoubleStorage', 'FloatStorage', 'HalfStorage', 'BFloat16Storage', 'LongStorage', 'IntStorage', 'ShortStorage',
  'CharStorage', 'ByteStorage', 'BoolStorage', 'ComplexFloatStorage', 'ComplexDoubleStorage', 'QUInt8Storage',
  'QInt8Storage', 'QInt32Storage', 'QUInt4x2Storage', 'QUInt2x4Storage', 'UntypedStorage', 'TypedStorage',
  'Float8_e4m3fnStorage', 'Float8_e5m2Storage', 'Float8_e4m3fnuzStorage', 'Float8_e5m2fnuzStorage',
  'UInt16Storage', 'UInt32Storage', 'UInt64Storage', 'ComplexHalfStorage',
];
const TORCH_DTYPES = [
  'float32', 'float', 'float64', 'double', 'float16', 'half', 'bfloat16', 'uint8', 'int8', 'int16', 'short', 'int32',
  'int', 'int64', 'long', 'bool', 'complex32', 'complex64', 'cfloat', 'complex128', 'cdouble', 'quint8', 'qint8',
  'qint32', 'quint4x2', 'quint2x4', 'float8_e4m3fn', 'float8_e5m2', 'float8_e4m3fnuz', 'float8_e5m2fnuz',
  'uint16', 'uint32', 'uint64', 'bits8', 'bits16', 'float8_e8m0fnu', 'float4_e2m1fn_x2',
];

/** module → allowed names ('*' = any name of the module). */
const ALLOW: Record<string, readonly string[]> = {
  collections: ['OrderedDict', 'Counter', 'defaultdict', 'deque'],
  torch: [
    ...TORCH_STORAGES, ...TORCH_DTYPES, 'Size', 'Tensor', 'device', 'per_tensor_affine', 'per_channel_affine',
    'per_tensor_symmetric', 'per_channel_symmetric', 'per_channel_affine_float_qparams', 'strided', 'sparse_coo',
    'sparse_csr', 'sparse_csc', 'sparse_bsr', 'sparse_bsc', '_mkldnn', 'contiguous_format', 'channels_last',
    'channels_last_3d', 'preserve_format', 'memory_format', 'layout', 'dtype', 'qscheme', 'ByteTensor',
    'CharTensor', 'ShortTensor', 'IntTensor', 'LongTensor', 'FloatTensor', 'DoubleTensor', 'HalfTensor',
    'BFloat16Tensor', 'BoolTensor',
  ],
  'torch._utils': [
    '_rebuild_tensor', '_rebuild_tensor_v2', '_rebuild_tensor_v3', '_rebuild_parameter', '_rebuild_parameter_with_state',
    '_rebuild_qtensor', '_rebuild_sparse_tensor', '_rebuild_meta_tensor_no_storage', '_rebuild_wrapper_subclass',
    '_rebuild_device_tensor_from_numpy', '_rebuild_device_tensor_from_cpu_tensor', '_rebuild_nested_tensor',
  ],
  'torch._tensor': ['_rebuild_from_type_v2'],
  'torch.nn.parameter': ['Parameter', 'Buffer'],
  'torch.serialization': ['_get_layout'],
  'torch.storage': ['UntypedStorage', 'TypedStorage'],
  'torch.jit._pickle': ['build_intlist', 'build_tensorlist', 'build_doublelist', 'build_boollist', 'restore_type_tag'],
  _codecs: ['encode'],
  builtins: ['set', 'frozenset', 'bytearray', 'complex', 'slice', 'range', 'bool', 'int', 'float', 'str', 'bytes', 'list', 'tuple', 'dict', 'object'],
  __builtin__: ['set', 'frozenset', 'bytearray', 'complex', 'slice', 'bool', 'int', 'float', 'str', 'list', 'tuple', 'dict', 'object', 'long', 'unicode'],
  numpy: ['dtype', 'ndarray', 'float64', 'float32', 'float16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'uint16', 'uint32', 'uint64', 'bool_', 'complex64', 'complex128'],
  'numpy.core.multiarray': ['_reconstruct', 'scalar'],
  'numpy._core.multiarray': ['_reconstruct', 'scalar'],
  'numpy.dtypes': ['*'],
  copyreg: ['_reconstructor'],
  copy_reg: ['_reconstructor'],
  argparse: ['Namespace'],
  datetime: ['datetime', 'date', 'time', 'timedelta', 'timezone'],
  decimal: ['Decimal'],
  fractions: ['Fraction'],
  pathlib: ['PosixPath', 'WindowsPath', 'PurePosixPath', 'PureWindowsPath', 'Path'],
};

/** Aliases folded before matching (module-level). */
const MODULE_ALIASES: Record<string, string> = {
  __builtin__: 'builtins',
  __builtins__: 'builtins',
  posix: 'os',
  nt: 'os',
  _operator: 'operator',
  _pickle: 'pickle',
  cPickle: 'pickle',
  _io: 'io',
  _posixsubprocess: 'subprocess',
  _thread: 'threading',
  _socket: 'socket',
  _ssl: 'ssl',
  _ctypes: 'ctypes',
  _signal: 'signal',
  _sqlite3: 'sqlite3',
  _frozen_importlib: 'importlib',
  _frozen_importlib_external: 'importlib',
  _imp: 'importlib',
  imp: 'importlib',
};

/** Whole modules (and every submodule) whose globals can run code, touch files or the network. */
const DANGEROUS_MODULES = new Set([
  'os', 'subprocess', 'sys', 'pty', 'commands', 'multiprocessing', 'code', 'codeop', 'runpy', 'marshal', 'types',
  'doctest', '_interpreters', '_xxsubinterpreters', 'importlib', 'pkgutil', 'zipimport', 'gc', 'site', 'unittest',
  'inspect', 'test', 'operator', 'functools', 'cProfile', 'profile', 'pdb', 'bdb', 'timeit', 'trace', 'socket', 'ssl',
  'httplib', 'http', 'urllib', 'urllib2', 'urllib3', 'requests', 'aiohttp', 'httpx', 'asyncio', 'webbrowser', 'smtplib',
  'imaplib', 'ftplib', 'poplib', 'telnetlib', 'nntplib', 'socketserver', 'xmlrpc', 'ctypes', 'cffi', 'pickle', 'dill',
  'cloudpickle', 'joblib', 'shutil', 'tempfile', 'filecmp', 'distutils', 'setuptools', 'fileinput', 'glob',
  'linecache', 'platform', 'pydoc', 'pexpect', 'pipes', 'venv', 'ensurepip', 'pip', 'idlelib', 'lib2to3', 'signal',
  'threading', 'atexit', 'sqlite3', 'shelve', 'mmap', 'select', 'selectors', 'logging', 'syslog', 'tarfile', 'zipfile',
  'compileall', 'py_compile', 'uuid', '_osx_support', '_aix_support', '_pyrepl', 'io', 'builtins', 'numpy.f2py',
  'numpy.testing', 'numpy.distutils', 'torch.hub', 'torch._dynamo', 'torch._inductor', 'torch.jit', 'torch.compile',
  'torch.distributed', 'torch.utils.bottleneck', 'torch.utils.collect_env', 'torch.utils._config_module',
  'torch.fx.experimental.symbolic_shapes', 'torch.utils.data.datapipes', 'fickling', 'picklescan', 'modelscan',
  'modelaudit', 'modelwise', 'saferpickle', 'model_unpickler', 'keras.utils', 'tensorflow.io', 'tf.io',
  'jinja2', 'yaml', 'sympy', 'numexpr', 'pandas.io', 'scipy.io', 'posixpath', 'ntpath', 'genericpath', 'pathlib',
  'shlex', 'spawn', 'sysconfig', 'resource', 'fcntl', 'termios', 'tty', 'crypt', 'getpass', 'readline', 'rlcompleter',
  'code', 'ast', 'dis', 'opcode', 'symtable', 'tokenize', 'keyword', 'builtins_', 'xmlrpclib', 'SimpleHTTPServer',
  'BaseHTTPServer', 'CGIHTTPServer', 'cgi', 'cgitb', 'wsgiref', 'email', 'mailbox', 'smtpd', 'asynchat', 'asyncore',
]);

/** Specific dangerous names in otherwise-benign modules (matched on the name's last component too). */
const DANGEROUS_NAMES = new Set([
  'eval', 'exec', 'execfile', 'compile', 'open', 'getattr', 'setattr', 'delattr', '__import__', 'apply', 'breakpoint',
  'globals', 'locals', 'vars', 'input', 'system', 'popen', 'spawn', 'execve', 'execv', 'execl', 'execvp', 'fork',
  'loads', 'load', 'load_state_dict_from_url', 'urlopen', 'urlretrieve', 'run', 'call', 'check_call', 'check_output',
  'Popen', 'runcode', 'runsource', 'runcommand', 'run_path', 'run_module', 'resolve_name', 'locate', 'import_module',
  'FunctionType', 'CodeType', 'LambdaType', 'MethodType', 'methodcaller', 'attrgetter', 'itemgetter', 'partial',
  'runstring', 'write_file', 'get_file', 'FileIO', 'FileHandler', 'CDLL', 'PyDLL', 'LoadLibrary', 'get_server_certificate',
  '_get_command_stdout', 'IMAP4_stream', '_load_from_bytes', 'execWrapper', 'enable_unsafe_deserialization',
  'remove', 'rmtree', 'unlink', 'rename', 'chmod', 'chown', 'symlink', 'mkfifo', 'kill', 'putenv', 'environ',
  'getoutput', 'getstatusoutput', 'startfile', 'remove_dead_weakref',
]);

/** Dunders that walk into other objects' internals. */
const DANGEROUS_DUNDERS = /^__(builtins|import|globals|class|subclasses|mro|base|bases|dict|getattribute|getattr|code|func|self|module|loader|spec|reduce|reduce_ex|init|new|call|closure|defaults|kwdefaults|traceback|frame|file)__$/;

function foldModule(m: string): string {
  const parts = m.split('.');
  const head = MODULE_ALIASES[parts[0]!] ?? parts[0]!;
  return [head, ...parts.slice(1)].join('.');
}

export interface GlobalVerdict {
  class: GlobalClass;
  /** Why (for evidence): e.g. "module os", "name eval", "dunder __globals__". */
  why: string;
}

/** Classify `module.name` as a pickle import. */
export function classifyGlobal(module: string, name: string): GlobalVerdict {
  // TorchScript archives name their own compiled classes `__torch__.*` (their code is in the
  // archive's code/ folder, which the TorchScript rules read); no Python module has that name.
  if ((module === '__torch__' || module.startsWith('__torch__.')) && !name.split('.').some((c) => DANGEROUS_DUNDERS.test(c))) {
    return { class: 'benign', why: 'TorchScript class compiled from the archive' };
  }
  const allowed = ALLOW[module];
  if (allowed && (allowed.includes(name) || allowed.includes('*'))) return { class: 'benign', why: 'allow-listed' };
  const folded = foldModule(module);
  // builtins with a safe name are benign (set, bytearray …)
  const allowedFolded = ALLOW[folded];
  if (allowedFolded && allowedFolded.includes(name)) return { class: 'benign', why: 'allow-listed' };
  const comps = [...folded.split('.'), ...name.split('.')];
  for (const c of comps) {
    if (DANGEROUS_DUNDERS.test(c)) return { class: 'dangerous', why: `dunder ${c}` };
  }
  // A dotted name walks attributes: `pathlib` + `os.system` reaches os.system.
  const nameParts = name.split('.');
  if (nameParts.length > 1) {
    const walked = foldModule([folded, ...nameParts.slice(0, -1)].join('.'));
    for (let i = walked.split('.').length; i > 0; i--) {
      const prefix = walked.split('.').slice(0, i).join('.');
      if (DANGEROUS_MODULES.has(prefix)) return { class: 'dangerous', why: `attribute path into module ${prefix}` };
    }
    for (const p of nameParts.slice(0, -1)) {
      const f = foldModule(p);
      if (DANGEROUS_MODULES.has(f)) return { class: 'dangerous', why: `attribute path into module ${f}` };
    }
  }
  const mParts = folded.split('.');
  for (let i = mParts.length; i > 0; i--) {
    const prefix = mParts.slice(0, i).join('.');
    if (DANGEROUS_MODULES.has(prefix)) return { class: 'dangerous', why: `module ${prefix}` };
  }
  for (const c of comps) {
    const f = foldModule(c);
    if (DANGEROUS_MODULES.has(f) && c !== module) return { class: 'dangerous', why: `component ${c}` };
  }
  const last = nameParts[nameParts.length - 1]!;
  if (DANGEROUS_NAMES.has(last) || DANGEROUS_NAMES.has(name)) return { class: 'dangerous', why: `name ${last}` };
  // torch / numpy internals not in the allow-list stay unknown (suspicious), e.g. torch.load is caught above.
  if (module === 'torch' && (name === 'load' || name === 'save' || name === 'compile')) return { class: 'dangerous', why: `name torch.${name}` };
  return { class: 'unknown', why: 'not in the allow-list' };
}

/** True for globals that rebuild tensors/storages (the converter honours only these). */
export function isTensorRebuildGlobal(module: string, name: string): boolean {
  return classifyGlobal(module, name).class === 'benign';
}
