/** The explanation methods ConvLens offers, with what each needs. Definitions: docs/explanations.md. */

/** Gradient CAMs whose maps need only the activation and its gradient at the layer (camFormulas.ts). */
export const ACTIVATION_GRADIENT_CAMS = [
  'cam',
  'gradcam',
  'gradcam++',
  'xgradcam',
  'layercam',
  'hirescam',
  'gradcamelementwise',
  'eigengradcam',
] as const;
/** Class activation maps weighted by gradients (CAM by the classifier's weights). */
const GRADIENT_CAM_METHODS = [...ACTIVATION_GRADIENT_CAMS, 'finercam', 'shapleycam'] as const;
export const CAM_METHODS = [...GRADIENT_CAM_METHODS, 'scorecam', 'ablationcam', 'eigencam', 'kpcacam', 'fem'] as const;
export const INPUT_METHODS = [
  'saliency',
  'guided',
  'guidedgradcam',
  'deconvnet',
  'fullgrad',
  'smoothgrad',
  'integrated',
  'occlusion',
] as const;
export const METHODS = [...CAM_METHODS, ...INPUT_METHODS] as const;

export type CamMethod = (typeof CAM_METHODS)[number];
export type InputMethod = (typeof INPUT_METHODS)[number];
export type Method = (typeof METHODS)[number];

export const METHOD_LABELS: Record<Method, string> = {
  cam: 'CAM',
  gradcam: 'Grad-CAM',
  'gradcam++': 'Grad-CAM++',
  xgradcam: 'XGrad-CAM',
  layercam: 'Layer-CAM',
  hirescam: 'HiResCAM',
  scorecam: 'Score-CAM',
  ablationcam: 'Ablation-CAM',
  gradcamelementwise: 'Grad-CAM element-wise',
  eigengradcam: 'EigenGrad-CAM',
  finercam: 'Finer-CAM',
  shapleycam: 'ShapleyCAM',
  eigencam: 'Eigen-CAM',
  kpcacam: 'KPCA-CAM',
  fem: 'FEM',
  saliency: 'Gradient saliency',
  guided: 'Guided backprop',
  guidedgradcam: 'Guided Grad-CAM',
  deconvnet: 'Deconvnet',
  fullgrad: 'FullGrad',
  smoothgrad: 'SmoothGrad',
  integrated: 'Integrated gradients',
  occlusion: 'Occlusion',
};

export function isCamMethod(method: Method): method is CamMethod {
  return (CAM_METHODS as readonly string[]).includes(method);
}

/** Whether the method looks at a target layer: the CAM family, and Guided Grad-CAM (its Grad-CAM part). */
export function usesTargetLayer(method: Method): boolean {
  return isCamMethod(method) || method === 'guidedgradcam';
}

export function isMethod(name: string): name is Method {
  return (METHODS as readonly string[]).includes(name);
}

/** Methods that run the network many times: they report progress and can be cancelled. */
export const LONG_METHODS: readonly Method[] = ['scorecam', 'ablationcam', 'smoothgrad', 'integrated', 'occlusion'];

/**
 * The methods as the Explain panel lists them: class activation maps from gradients, maps from the
 * activations alone (their principal components or strongest features: no class), perturbation, and
 * gradients at the input.
 */
export const METHOD_GROUPS: readonly { label: string; methods: readonly Method[] }[] = [
  { label: 'Class activation maps', methods: GRADIENT_CAM_METHODS },
  { label: 'Concepts (activations alone)', methods: ['eigencam', 'kpcacam', 'fem'] },
  { label: 'Perturbation', methods: ['scorecam', 'ablationcam', 'occlusion'] },
  { label: 'Gradients', methods: ['saliency', 'guided', 'guidedgradcam', 'deconvnet', 'fullgrad', 'smoothgrad', 'integrated'] },
];

/**
 * Whether a request runs the network many times: a long method, or any CAM method with test-time
 * augmentation (six passes).
 */
export function isLongRequest(method: Method, augSmooth = false): boolean {
  return LONG_METHODS.includes(method) || (augSmooth && isCamMethod(method));
}
