/** A codicon for each family of layer, so a long tree can be scanned by eye. */
const ICON_RULES: [RegExp, string][] = [
  [/^(Input|InputLayer)$/i, 'sign-in'],
  [/(Sequential|Model|Functional)$/i, 'type-hierarchy'],
  [/^Block$/, 'symbol-structure'],
  [/Conv/i, 'symbol-array'],
  [/Pool/i, 'fold-down'],
  [/^(Dense|Gemm|MatMul|Linear)$/i, 'symbol-namespace'],
  [/Norm/i, 'symbol-ruler'],
  [/^(Activation|ReLU|LeakyReLU|PReLU|ELU|Softmax|Sigmoid|Tanh|Relu|Clip)$/i, 'pulse'],
  [/Dropout/i, 'debug-disconnect'],
  [/^(Add|Concatenate|Concat|Multiply|Average|Maximum|Minimum|Subtract|Sum|Mul)$/i, 'merge'],
  [/^(Flatten|Reshape|Permute|Transpose|Squeeze|Unsqueeze|ZeroPadding\dD|Cropping\dD|Pad)$/i, 'arrow-swap'],
  [/^(Rescaling|Normalization|Resizing|CenterCrop)$|^Random/i, 'symbol-color'],
];

export function iconForLayerType(type: string): string {
  return ICON_RULES.find(([pattern]) => pattern.test(type))?.[1] ?? 'symbol-misc';
}
