/**
 * Compare Models, on files chosen in the Explorer: two model files are compared with each other; a
 * model and a folder, the model with a checkpoint of the folder (picked); a folder of checkpoints
 * alone, its first and last by name. Otherwise the user picks the models among the workspace's. The
 * images are those selected with the models, else the `images` folder nearest above model A, else
 * the ones the user chooses.
 */
import * as vscode from 'vscode';
import { listFolderImages } from '../panels/analyze/folderImages';
import { ComparePanel } from '../panels/compare/comparePanel';
import { baseName } from '../panels/common/workspaceModelSource';
import { hasImageExtension, WEBVIEW_IMAGE_FORMATS } from '../shared/imageFormats';

const MODEL_GLOB = '{*.h5,*.hdf5,*.keras,*.onnx,model*.json}';
const MODEL_EXTENSIONS = ['.h5', '.hdf5', '.keras', '.onnx', '.json'];
/** Images sent to the page at most: a folder's first ones by name. */
const MAX_IMAGES = 48;

export async function compareModels(
  context: vscode.ExtensionContext,
  clicked?: vscode.Uri,
  selected?: vscode.Uri[],
): Promise<ComparePanel | undefined> {
  const chosen = selected?.length ? selected : clicked ? [clicked] : [];
  const kinds = await Promise.all(chosen.map(kindOf));
  const models = chosen.filter((_, i) => kinds[i] === 'model');
  const folders = chosen.filter((_, i) => kinds[i] === 'folder');
  const images = chosen.filter((_, i) => kinds[i] === 'image');

  const pair = await choosePair(models, folders);
  if (!pair) return undefined;
  const [a, b] = pair;
  const compared = images.length ? images : await imagesNear(a);
  if (compared.length === 0) return undefined;
  return ComparePanel.open(context.extensionUri, a, b, compared);
}

async function choosePair(models: vscode.Uri[], folders: vscode.Uri[]): Promise<[vscode.Uri, vscode.Uri] | undefined> {
  if (models.length >= 2) return [models[0], models[1]];
  if (models.length === 1 && folders.length >= 1) {
    const checkpoints = (await modelsIn(folders[0])).filter((uri) => uri.toString() !== models[0].toString());
    if (checkpoints.length === 0) return noModels(`${baseName(folders[0])} holds no model file to compare with.`);
    const b = await pickModelFile(checkpoints, `Compare ${baseName(models[0])} with which checkpoint?`);
    return b ? [models[0], b] : undefined;
  }
  if (models.length === 0 && folders.length === 1) {
    const checkpoints = await modelsIn(folders[0]);
    if (checkpoints.length < 2) return noModels(`${baseName(folders[0])} holds fewer than two model files to compare.`);
    return [checkpoints[0], checkpoints[checkpoints.length - 1]];
  }
  const workspaceModels = await vscode.workspace.findFiles(`**/${MODEL_GLOB}`, '**/node_modules/**', 500);
  const a = models[0] ?? (await pickModelFile(sortByPath(workspaceModels), 'Compare which model (A)?'));
  if (!a) return undefined;
  const others = sortByPath(workspaceModels.filter((uri) => uri.toString() !== a.toString()));
  if (others.length === 0) return noModels('ConvLens found no second model file in this workspace to compare with.');
  const b = await pickModelFile(others, `Compare ${baseName(a)} with which model (B)?`);
  return b ? [a, b] : undefined;
}

function noModels(message: string): undefined {
  void vscode.window.showErrorMessage(message);
  return undefined;
}

async function kindOf(uri: vscode.Uri): Promise<'model' | 'folder' | 'image' | 'other'> {
  try {
    const { type } = await vscode.workspace.fs.stat(uri);
    if (type & vscode.FileType.Directory) return 'folder';
  } catch {
    return 'other';
  }
  const name = baseName(uri).toLowerCase();
  if (hasImageExtension(WEBVIEW_IMAGE_FORMATS, name)) return 'image';
  return MODEL_EXTENSIONS.some((extension) => name.endsWith(extension)) ? 'model' : 'other';
}

/** The model files under `folder`, in natural order of their paths (epoch_2 before epoch_10). */
async function modelsIn(folder: vscode.Uri): Promise<vscode.Uri[]> {
  return sortByPath(await vscode.workspace.findFiles(new vscode.RelativePattern(folder, `**/${MODEL_GLOB}`), '**/node_modules/**', 500));
}

function sortByPath(uris: vscode.Uri[]): vscode.Uri[] {
  const collator = new Intl.Collator(undefined, { numeric: true });
  return [...uris].sort((x, y) => collator.compare(x.path, y.path));
}

async function pickModelFile(uris: vscode.Uri[], title: string): Promise<vscode.Uri | undefined> {
  if (uris.length === 0) return noModels('ConvLens found no model file in this workspace (.h5, .hdf5, .keras, .onnx or model.json).');
  const items = uris.map((uri) => ({ label: baseName(uri), description: vscode.workspace.asRelativePath(uri), uri }));
  const picked = await vscode.window.showQuickPick(items, { title, matchOnDescription: true });
  return picked?.uri;
}

/** The images of the `images` folder nearest above the model, within its workspace folder; else the user's choice. */
async function imagesNear(model: vscode.Uri): Promise<vscode.Uri[]> {
  const root = vscode.workspace.getWorkspaceFolder(model)?.uri;
  let folder = vscode.Uri.joinPath(model, '..');
  for (;;) {
    const candidate = vscode.Uri.joinPath(folder, 'images');
    const listed = await listFolderImages(candidate).catch(() => []);
    if (listed.length > 0) return listed.slice(0, MAX_IMAGES).map((entry) => vscode.Uri.joinPath(candidate, entry.path));
    const parent = vscode.Uri.joinPath(folder, '..');
    if (!root || folder.path === root.path || parent.path === folder.path) break;
    folder = parent;
  }
  const picked = await vscode.window.showOpenDialog({
    title: 'Compare the models on which images?',
    canSelectMany: true,
    defaultUri: root,
    filters: { Images: [...WEBVIEW_IMAGE_FORMATS.extensions] },
  });
  return picked?.slice(0, MAX_IMAGES) ?? [];
}
