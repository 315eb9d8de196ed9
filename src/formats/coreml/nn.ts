/**
 * Neural-network models (coremltools mlmodel/format/NeuralNetwork.proto): the layer kinds — the
 * field names of the `layer` oneof of NeuralNetworkLayer — and, for the layer parameter messages
 * that carry weights, where their WeightParams sit. Hand-written from the .proto (see README): the
 * walker below reads only tags, lengths and small scalars, so inline weights are never copied.
 *
 * NeuralNetwork / NeuralNetworkClassifier / NeuralNetworkRegressor: layers = 1.
 * NeuralNetworkLayer: name = 1, input = 2, output = 3, isUpdatable = 10, then the oneof below.
 * WeightParams: floatValue = 1 (repeated float), float16Value = 2, rawValue = 30, int8RawValue = 31,
 *   quantization = 40 (QuantizationParams { numberOfBits = 1, linearQuantization = 101
 *   { scale = 1, bias = 2 }, lookupTableQuantization = 102 { floatValue = 1 } }), isUpdatable = 50.
 */

/** NeuralNetworkLayer's `layer` oneof: field number → name. */
export const LAYER_KINDS: Record<number, string> = {
  100: 'convolution', 120: 'pooling', 130: 'activation', 140: 'innerProduct', 150: 'embedding',
  160: 'batchnorm', 165: 'mvn', 170: 'l2normalize', 175: 'softmax', 180: 'lrn', 190: 'crop',
  200: 'padding', 210: 'upsample', 211: 'resizeBilinear', 212: 'cropResize', 220: 'unary',
  230: 'add', 231: 'multiply', 240: 'average', 245: 'scale', 250: 'bias', 260: 'max', 261: 'min',
  270: 'dot', 280: 'reduce', 290: 'loadConstant', 300: 'reshape', 301: 'flatten', 310: 'permute',
  320: 'concat', 330: 'split', 340: 'sequenceRepeat', 345: 'reorganizeData', 350: 'slice',
  400: 'simpleRecurrent', 410: 'gru', 420: 'uniDirectionalLSTM', 430: 'biDirectionalLSTM',
  500: 'custom', 600: 'copy', 605: 'branch', 615: 'loop', 620: 'loopBreak', 625: 'loopContinue',
  635: 'rangeStatic', 640: 'rangeDynamic', 660: 'clip', 665: 'ceil', 670: 'floor', 680: 'sign',
  685: 'round', 700: 'exp2', 710: 'sin', 715: 'cos', 720: 'tan', 730: 'asin', 735: 'acos',
  740: 'atan', 750: 'sinh', 755: 'cosh', 760: 'tanh', 770: 'asinh', 775: 'acosh', 780: 'atanh',
  790: 'erf', 795: 'gelu', 815: 'equal', 820: 'notEqual', 825: 'lessThan', 827: 'lessEqual',
  830: 'greaterThan', 832: 'greaterEqual', 840: 'logicalOr', 845: 'logicalXor', 850: 'logicalNot',
  855: 'logicalAnd', 865: 'modBroadcastable', 870: 'minBroadcastable', 875: 'maxBroadcastable',
  880: 'addBroadcastable', 885: 'powBroadcastable', 890: 'divideBroadcastable',
  895: 'floorDivBroadcastable', 900: 'multiplyBroadcastable', 905: 'subtractBroadcastable',
  920: 'tile', 925: 'stack', 930: 'gather', 935: 'scatter', 940: 'gatherND', 945: 'scatterND',
  950: 'softmaxND', 952: 'gatherAlongAxis', 954: 'scatterAlongAxis', 960: 'reverse',
  965: 'reverseSeq', 975: 'splitND', 980: 'concatND', 985: 'transpose', 995: 'sliceStatic',
  1000: 'sliceDynamic', 1005: 'slidingWindows', 1015: 'topK', 1020: 'argMin', 1025: 'argMax',
  1040: 'embeddingND', 1045: 'batchedMatmul', 1065: 'getShape', 1070: 'loadConstantND',
  1080: 'fillLike', 1085: 'fillStatic', 1090: 'fillDynamic', 1100: 'broadcastToLike',
  1105: 'broadcastToStatic', 1110: 'broadcastToDynamic', 1120: 'squeeze', 1125: 'expandDims',
  1130: 'flattenTo2D', 1135: 'reshapeLike', 1140: 'reshapeStatic', 1145: 'reshapeDynamic',
  1150: 'rankPreservingReshape', 1155: 'constantPad', 1170: 'randomNormalLike',
  1175: 'randomNormalStatic', 1180: 'randomNormalDynamic', 1190: 'randomUniformLike',
  1195: 'randomUniformStatic', 1200: 'randomUniformDynamic', 1210: 'randomBernoulliLike',
  1215: 'randomBernoulliStatic', 1220: 'randomBernoulliDynamic', 1230: 'categoricalDistribution',
  1250: 'reduceL1', 1255: 'reduceL2', 1260: 'reduceMax', 1265: 'reduceMin', 1270: 'reduceSum',
  1275: 'reduceProd', 1280: 'reduceMean', 1285: 'reduceLogSum', 1290: 'reduceSumSquare',
  1295: 'reduceLogSumExp', 1313: 'whereNonZero', 1315: 'matrixBandPart', 1320: 'lowerTriangular',
  1325: 'upperTriangular', 1330: 'whereBroadcastable', 1350: 'layerNormalization',
  1400: 'NonMaximumSuppression', 1450: 'oneHot', 1455: 'cumSum', 1460: 'clampedReLU',
  1461: 'argSort', 1465: 'pooling3d', 1466: 'globalPooling3d', 1470: 'sliceBySize',
  1471: 'convolution3d',
};

/** What a field of a weight-bearing message holds. */
export interface FieldSpec {
  name: string;
  /** `weights` = a WeightParams; `network` = a nested NeuralNetwork; else a message of this table. */
  kind: 'weights' | 'network' | string;
  repeated?: boolean;
}

const W = (name: string, repeated = false): FieldSpec => ({ name, kind: 'weights', repeated });
const M = (name: string, kind: string, repeated = false): FieldSpec => ({ name, kind, repeated });
const N = (name: string): FieldSpec => ({ name, kind: 'network' });

/** The messages (by .proto name) that hold WeightParams, directly or nested; only those fields. */
export const WEIGHT_FIELDS: Record<string, Record<number, FieldSpec>> = {
  ConvolutionLayerParams: { 90: W('weights'), 91: W('bias') },
  Convolution3DLayerParams: { 60: W('weights'), 61: W('bias') },
  InnerProductLayerParams: { 20: W('weights'), 21: W('bias') },
  EmbeddingLayerParams: { 20: W('weights'), 21: W('bias') },
  EmbeddingNDLayerParams: { 20: W('weights'), 21: W('bias') },
  BatchnormLayerParams: { 15: W('gamma'), 16: W('beta'), 17: W('mean'), 18: W('variance') },
  ScaleLayerParams: { 2: W('scale'), 5: W('bias') },
  BiasLayerParams: { 2: W('bias') },
  LoadConstantLayerParams: { 2: W('data') },
  LoadConstantNDLayerParams: { 2: W('data') },
  BatchedMatMulLayerParams: { 8: W('weights'), 9: W('bias') },
  LayerNormalizationLayerParams: { 3: W('gamma'), 4: W('beta') },
  CustomLayerParams: { 20: W('weights', true) },
  ActivationParams: { 25: M('PReLU', 'ActivationPReLU'), 71: M('parametricSoftplus', 'ActivationParametricSoftplus') },
  ActivationPReLU: { 1: W('alpha') },
  ActivationParametricSoftplus: { 1: W('alpha'), 2: W('beta') },
  SimpleRecurrentLayerParams: { 10: M('activation', 'ActivationParams'), 30: W('weightMatrix'), 31: W('recursionMatrix'), 32: W('biasVector') },
  GRULayerParams: {
    10: M('activations', 'ActivationParams', true),
    30: W('updateGateWeightMatrix'), 31: W('resetGateWeightMatrix'), 32: W('outputGateWeightMatrix'),
    50: W('updateGateRecursionMatrix'), 51: W('resetGateRecursionMatrix'), 52: W('outputGateRecursionMatrix'),
    70: W('updateGateBiasVector'), 71: W('resetGateBiasVector'), 72: W('outputGateBiasVector'),
  },
  LSTMWeightParams: {
    1: W('inputGateWeightMatrix'), 2: W('forgetGateWeightMatrix'), 3: W('blockInputWeightMatrix'), 4: W('outputGateWeightMatrix'),
    20: W('inputGateRecursionMatrix'), 21: W('forgetGateRecursionMatrix'), 22: W('blockInputRecursionMatrix'), 23: W('outputGateRecursionMatrix'),
    40: W('inputGateBiasVector'), 41: W('forgetGateBiasVector'), 42: W('blockInputBiasVector'), 43: W('outputGateBiasVector'),
    60: W('inputGatePeepholeVector'), 61: W('forgetGatePeepholeVector'), 62: W('outputGatePeepholeVector'),
  },
  UniDirectionalLSTMLayerParams: { 10: M('activations', 'ActivationParams', true), 20: M('weightParams', 'LSTMWeightParams') },
  BiDirectionalLSTMLayerParams: {
    10: M('activationsForwardLSTM', 'ActivationParams', true), 11: M('activationsBackwardLSTM', 'ActivationParams', true),
    20: M('weightParams', 'LSTMWeightParams', true),
  },
  BranchLayerParams: { 1: N('ifBranch'), 2: N('elseBranch') },
  LoopLayerParams: { 3: N('conditionNetwork'), 4: N('bodyNetwork') },
};

/** Layer kind → its parameter message, for the kinds whose parameters can hold weights. */
export const LAYER_PARAMS: Record<string, string> = {
  convolution: 'ConvolutionLayerParams', convolution3d: 'Convolution3DLayerParams', innerProduct: 'InnerProductLayerParams',
  embedding: 'EmbeddingLayerParams', embeddingND: 'EmbeddingNDLayerParams', batchnorm: 'BatchnormLayerParams',
  scale: 'ScaleLayerParams', bias: 'BiasLayerParams', loadConstant: 'LoadConstantLayerParams',
  loadConstantND: 'LoadConstantNDLayerParams', batchedMatmul: 'BatchedMatMulLayerParams',
  layerNormalization: 'LayerNormalizationLayerParams', custom: 'CustomLayerParams', activation: 'ActivationParams',
  simpleRecurrent: 'SimpleRecurrentLayerParams', gru: 'GRULayerParams', uniDirectionalLSTM: 'UniDirectionalLSTMLayerParams',
  biDirectionalLSTM: 'BiDirectionalLSTMLayerParams', branch: 'BranchLayerParams', loop: 'LoopLayerParams',
};
