/** The browser extension host has no disk of its own: every file goes through `vscode.workspace.fs` (see types.ts). */
import type { LocalDisk } from './types';

export const localDisk: LocalDisk | undefined = undefined;
