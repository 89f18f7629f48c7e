import assert from 'node:assert/strict';
import { test } from 'node:test';
import { softwareRendererName } from '../../webview/common/softwareRenderer';

test('software WebGL renderers are recognised in the strings browsers report', () => {
  // Headless Chromium (the e2e tests), Chrome without a GPU, Linux VMs and containers, Windows remote desktops.
  assert.equal(
    softwareRendererName('ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)'),
    'Google SwiftShader',
  );
  assert.equal(softwareRendererName('Google SwiftShader'), 'Google SwiftShader');
  assert.equal(softwareRendererName('ANGLE (Mesa, llvmpipe (LLVM 15.0.6, 256 bits), OpenGL 4.5)'), 'Mesa llvmpipe');
  assert.equal(softwareRendererName('llvmpipe (LLVM 12.0.0, 256 bits)'), 'Mesa llvmpipe');
  assert.equal(softwareRendererName('ANGLE (Mesa, Vulkan 1.3.255 (llvmpipe (LLVM 15.0.7, 256 bits)), lavapipe)'), 'Mesa lavapipe');
  assert.equal(softwareRendererName('Gallium 0.4 on softpipe'), 'Mesa softpipe');
  assert.equal(
    softwareRendererName('ANGLE (Microsoft, Microsoft Basic Render Driver Direct3D11 vs_5_0 ps_5_0, D3D11)'),
    'Microsoft Basic Render Driver',
  );
  assert.equal(softwareRendererName('GDI Generic'), 'GDI Generic');
  assert.equal(softwareRendererName('Apple Software Renderer'), 'Apple Software Renderer');
});

test('real GPUs, virtual GPUs backed by one, and masked strings are not software', () => {
  for (const renderer of [
    'ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 (0x00002504) Direct3D11 vs_5_0 ps_5_0, D3D11)',
    'ANGLE (Intel, Mesa Intel(R) UHD Graphics 620 (KBL GT2), OpenGL 4.6)',
    'ANGLE (Apple, ANGLE Metal Renderer: Apple M1, Unspecified Version)',
    'AMD Radeon Pro 5500M OpenGL Engine',
    'virgl',
    'WebKit WebGL',
    '',
  ]) {
    assert.equal(softwareRendererName(renderer), undefined, renderer);
  }
});
