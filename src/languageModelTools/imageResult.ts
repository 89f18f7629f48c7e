/**
 * Pictures in a tool's result. Image parts (`LanguageModelDataPart.image`) are stable API only from
 * VS Code 1.106; before that they are a proposal an extension may not use. So the picture is always a
 * PNG file whose path the text names (an agent can open or attach it), and also an image part where
 * the running editor has them as stable API.
 */
import * as vscode from 'vscode';

/** The first VS Code whose stable API has `LanguageModelDataPart.image`. */
const IMAGE_PARTS_SINCE = [1, 106];

interface DataPartApi {
  LanguageModelDataPart?: { image(data: Uint8Array, mimeType: string): unknown };
}

export function imagePartsAreStable(version: string = vscode.version): boolean {
  const [major, minor] = version.split('.').map(Number);
  return major > IMAGE_PARTS_SINCE[0] || (major === IMAGE_PARTS_SINCE[0] && minor >= IMAGE_PARTS_SINCE[1]);
}

/** The text naming the PNG at `uri`, and the image itself as a part where the API allows. */
export function imageResultParts(png: Uint8Array, uri: vscode.Uri, caption: string): vscode.LanguageModelTextPart[] {
  const parts: unknown[] = [
    new vscode.LanguageModelTextPart(`${caption} is the PNG file ${uri.scheme === 'file' ? uri.fsPath : uri.toString()}`),
  ];
  const api = (vscode as unknown as DataPartApi).LanguageModelDataPart;
  if (api && imagePartsAreStable()) parts.push(api.image(png, 'image/png'));
  // The 1.95 typings know only text parts; a data part travels in the same array.
  return parts as vscode.LanguageModelTextPart[];
}
