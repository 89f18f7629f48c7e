/**
 * The webview pages: everything comes from the extension's own files, and a strict
 * Content-Security-Policy with a fresh nonce lets nothing else run or load.
 */
import * as vscode from 'vscode';

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

/**
 * Every page runs models: HDF5 files are read by WebAssembly (h5wasm), and models may run on
 * TensorFlow.js's WebAssembly backend, which the policy must allow ('wasm-unsafe-eval', and nothing
 * like 'unsafe-eval').
 */
export function modelViewerHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  return page(webview, extensionUri, 'main.js', 'Reading the model…');
}

export function explainHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  return page(webview, extensionUri, 'explain.js', 'Loading the model…');
}

export function analyzeHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  return page(webview, extensionUri, 'analyze.js', 'Loading the model…');
}

export function compareHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  return page(webview, extensionUri, 'compare.js', 'Loading the two models…');
}

function page(webview: vscode.Webview, extensionUri: vscode.Uri, script: string, loading: string): string {
  const nonce = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  const asset = (...segments: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...segments)).toString();
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} data: blob:`,
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}' 'wasm-unsafe-eval'`,
    // The WebAssembly backend fetches its .wasm binary from dist/webview/ (the extension's own files).
    `connect-src ${webview.cspSource}`,
    // ROAD's imputations run on a worker the page starts from its own script file, read into a blob.
    'worker-src blob:',
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${csp}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <link rel="stylesheet" id="vscode-codicon-stylesheet" href="${asset('dist', 'webview', 'codicon.css')}" nonce="${nonce}">
  <link rel="stylesheet" href="${asset('media', 'webview.css')}" nonce="${nonce}">
  <title>ConvLens</title>
</head>
<body>
  <main id="app" aria-live="polite"><p class="loading">${loading}</p></main>
  <script nonce="${nonce}" src="${asset('dist', 'webview', script)}"></script>
</body>
</html>`;
}
