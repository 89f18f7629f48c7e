/** Analyze's folder pass on ONNX Runtime in a worker thread of the Node extension host (node/folderPassThread.ts). */
import { FolderPassThread } from '../node/folderPassThread';
import type { StartNativeFolderPass } from './types';

export const startNativeFolderPass: StartNativeFolderPass | undefined = (modelFile, limits) => FolderPassThread.open(modelFile, limits);
