// Builds the extension host bundle (Node, CommonJS, `vscode` external) and the webview bundle
// (browser), and copies what they load at run time into dist/.
//   node esbuild.mjs [--watch] [--production]
import * as esbuild from 'esbuild';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const common = {
  bundle: true,
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'info',
  // tfjs packages ship ES modules with a few Node-only requires guarded at run time.
  mainFields: ['module', 'main'],
};

// In the bundled extension host and command line, h5wasm is dist/h5wasm.js, required on the first HDF5
// file (src/node/h5wasmBeside.ts takes the place of the engine's h5wasmImport.ts): 5.6 MB of their 7.2.
const h5wasmBeside = {
  name: 'h5wasm-beside',
  setup(build) {
    build.onResolve({ filter: /\/h5wasmImport$/ }, () => ({ path: path.resolve('src/node/h5wasmBeside.ts') }));
  },
};

const host = {
  ...common,
  entryPoints: { extension: 'src/extension.ts' },
  outdir: 'dist',
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['vscode'],
  plugins: [h5wasmBeside],
};

// The same extension for the browser's extension host (vscode.dev, github.dev: a web worker). Where a
// module has a `.web.ts` twin (src/platform/), the twin is bundled instead; Node's modules are not
// available, so one reached by mistake fails the build.
const webTwins = {
  name: 'web-twins',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      const twin = path.join(args.resolveDir, `${args.path}.web.ts`);
      return existsSync(twin) && !args.importer.endsWith('.web.ts') ? { path: twin } : undefined;
    });
  },
};

const webHost = {
  ...common,
  entryPoints: { extension: 'src/extension.ts' },
  outdir: 'dist/web',
  platform: 'browser',
  format: 'cjs',
  target: 'es2022',
  external: ['vscode'],
  plugins: [webTwins],
  // tfjs-core and h5wasm mention Node modules behind environment checks; a web worker never loads them.
  define: { 'process.env.NODE_ENV': production ? '"production"' : '"development"' },
};

// The `convlens` command line: the same engine in Node.
const cli = {
  ...common,
  entryPoints: { cli: 'src/cli/bin.ts' },
  outdir: 'dist',
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  banner: { js: '#!/usr/bin/env node' },
  plugins: [h5wasmBeside],
};

// h5wasm's ES module as a CommonJS file of its own, for h5wasmBeside.ts to require.
const h5wasmModule = {
  ...common,
  entryPoints: { h5wasm: 'node_modules/h5wasm/dist/esm/hdf5_hl.js' },
  outdir: 'dist',
  platform: 'node',
  format: 'cjs',
  target: 'node20',
};

// In the webview pages h5wasm is a script of its own (webview/common/h5wasmScript.ts takes the place of
// the engine's h5wasmImport.ts), loaded only when an HDF5 file is opened: it is 5.6 MB of the pages' 7.
const h5wasmAsScript = {
  name: 'h5wasm-as-script',
  setup(build) {
    build.onResolve({ filter: /\/h5wasmImport$/ }, () => ({ path: path.resolve('webview/common/h5wasmScript.ts') }));
  },
};

const webview = {
  ...common,
  entryPoints: {
    main: 'webview/viewer/main.ts',
    explain: 'webview/explain/main.ts',
    analyze: 'webview/analyze/main.ts',
    compare: 'webview/compare/main.ts',
  },
  outdir: 'dist/webview',
  platform: 'browser',
  format: 'iife',
  target: 'chrome120',
  // tfjs-core mentions Node modules behind environment checks; the browser never loads them.
  external: ['node-fetch', 'worker_threads', 'util', 'fs', 'path', 'crypto'],
  plugins: [h5wasmAsScript],
};

// h5wasm's ES module as a classic script that sets one global, for h5wasmScript.ts to load.
const h5wasmScript = {
  ...common,
  entryPoints: { h5wasm: 'node_modules/h5wasm/dist/esm/hdf5_hl.js' },
  outdir: 'dist/webview',
  platform: 'browser',
  format: 'iife',
  globalName: 'convlensH5wasm',
  target: 'chrome120',
  external: webview.external,
};

function copyRuntimeAssets() {
  mkdirSync('dist/webview', { recursive: true });
  for (const file of ['codicon.css', 'codicon.ttf']) {
    cpSync(`node_modules/@vscode/codicons/dist/${file}`, `dist/webview/${file}`);
  }
  // TensorFlow.js's WebAssembly backend, plain and SIMD, read from beside each bundle: the webviews fetch it
  // from dist/webview/, the command line reads it from dist/. Not the threaded
  // binary: webviews are not cross-origin isolated, so they have no SharedArrayBuffer, and Node has no
  // worker for it.
  for (const file of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm']) {
    for (const folder of ['dist', 'dist/webview']) cpSync(`node_modules/@tensorflow/tfjs-backend-wasm/dist/${file}`, `${folder}/${file}`);
  }
  // The WebP decoder of the command line reads its WebAssembly from beside the bundle.
  cpSync('node_modules/@cwasm/webp/webp.wasm', 'dist/webp.wasm');
}

// A fresh dist/, so files of an earlier build (source maps of a dev build) never reach a package.
if (!watch) rmSync('dist', { recursive: true, force: true });
copyRuntimeAssets();
if (watch) {
  for (const options of [host, webHost, cli, h5wasmModule, webview, h5wasmScript]) await (await esbuild.context(options)).watch();
} else {
  await Promise.all([host, webHost, cli, h5wasmModule, webview, h5wasmScript].map((options) => esbuild.build(options)));
}
