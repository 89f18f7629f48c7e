/**
 * Tells a software WebGL renderer from a real GPU by the renderer string the browser reports (the
 * unmasked one, from WEBGL_debug_renderer_info). A software renderer runs TensorFlow.js's shaders on the
 * CPU, slower than its WebAssembly backend, so the webviews use WebAssembly there.
 */

/** Known software renderers, as they appear inside the strings of ANGLE, Mesa and Windows. */
const SOFTWARE_RENDERERS: ReadonlyArray<readonly [RegExp, string]> = [
  [/swiftshader/i, 'Google SwiftShader'],
  // Lavapipe (Mesa's software Vulkan) names its device llvmpipe too: test it first.
  [/lavapipe/i, 'Mesa lavapipe'],
  [/llvmpipe/i, 'Mesa llvmpipe'],
  [/softpipe/i, 'Mesa softpipe'],
  [/mesa offscreen/i, 'Mesa OffScreen'],
  // Windows's WARP rasterizer, used when there is no GPU driver (remote desktops, VMs).
  [/microsoft basic render/i, 'Microsoft Basic Render Driver'],
  [/gdi generic/i, 'GDI Generic'],
  [/apple software renderer/i, 'Apple Software Renderer'],
  [/software (?:rasterizer|renderer|adapter)/i, 'a software rasterizer'],
];

/** The software renderer's name when `renderer` is one, for the badge's reason; undefined for a GPU. */
export function softwareRendererName(renderer: string): string | undefined {
  return SOFTWARE_RENDERERS.find(([pattern]) => pattern.test(renderer))?.[1];
}
