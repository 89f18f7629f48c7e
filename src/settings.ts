/** ConvLens's settings (`contributes.configuration`), read and checked in one place. */
import * as vscode from 'vscode';
import { isMethod } from './engine/explain/methods';
import { limitsFromUserUnits, type Limits } from './engine/limits';
import { isColormap } from './engine/render/colormaps';
import type { ExplainSettings } from './shared/explainProtocol';
import type { BackendPreference } from './shared/protocol';

export function backendSetting(): BackendPreference {
  const value = vscode.workspace.getConfiguration('convlens').get('backend');
  return (['auto', 'webgl', 'wasm', 'cpu'] as const).find((b) => b === value) ?? 'auto';
}

/** Whether the extension host may run models on its native runtime (`convlens.nativeRuntime`). */
export function nativeRuntimeSetting(): 'auto' | 'off' {
  return vscode.workspace.getConfiguration('convlens').get('nativeRuntime') === 'off' ? 'off' : 'auto';
}

export function explainSettings(): ExplainSettings {
  const config = vscode.workspace.getConfiguration('convlens');
  const method = config.get<string>('defaultMethod', 'gradcam');
  const colormap = config.get<string>('colormap', 'jet');
  const alpha = config.get<number>('overlayAlpha', 0.5);
  return {
    method: isMethod(method) ? method : 'gradcam',
    colormap: isColormap(colormap) ? colormap : 'jet',
    alpha: Number.isFinite(alpha) ? Math.min(1, Math.max(0, alpha)) : 0.5,
  };
}

/** The budgets a user may raise for files they trust (`convlens.limits.*`); the engine's defaults elsewhere. */
export function limitsSetting(): Partial<Limits> {
  const config = vscode.workspace.getConfiguration('convlens.limits');
  return limitsFromUserUnits({ modelMegabytes: config.get('modelMegabytes'), imageMegapixels: config.get('imageMegapixels') });
}

export type ReloadOnChange = 'ask' | 'always' | 'never';

/** What open views do when their model file changes on disk (`convlens.reloadOnModelChange`). */
export function reloadOnChangeSetting(): ReloadOnChange {
  const value = vscode.workspace.getConfiguration('convlens').get('reloadOnModelChange');
  return (['ask', 'always', 'never'] as const).find((choice) => choice === value) ?? 'ask';
}

export async function setReloadOnChange(value: ReloadOnChange): Promise<void> {
  await vscode.workspace.getConfiguration('convlens').update('reloadOnModelChange', value, vscode.ConfigurationTarget.Global);
}
