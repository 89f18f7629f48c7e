/** The browser's extension host has no native runtime: Analyze's pass runs in its webview. */
import type { StartNativeFolderPass } from './types';

export const startNativeFolderPass: StartNativeFolderPass | undefined = undefined;
