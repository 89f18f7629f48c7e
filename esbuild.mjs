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

// h5wasm (5.6 MB of script, its WebAssembly inline as text) is a file of its own, built from its ES module,
// and loaded on the first HDF5 file: the engine's h5wasmImport.ts is replaced by `loader` in the bundles that
// would otherwise carry it — src/node/h5wasmBeside.ts (host, command line), webview/common/h5wasmScript.ts (pages).
const H5WASM_ENTRY = 'node_modules/h5wasm/dist/esm/hdf5_hl.js';
const h5wasmLoadedBy = (loader) => ({
  name: 'h5wasm-loader',
  setup(build) {
    build.onResolve({ filter: /\/h5wasmImport$/ }, () => ({ path: path.resolve(loader) }));
  },
});

// The extension host, and the worker threads on which it runs Analyze's folder pass natively
// (src/node/folderPassThread.ts), with ONNX Runtime from node_modules beside the bundle (`copyNativeRuntime`).
const host = {
  ...common,
  entryPoints: {
    extension: 'src/extension.ts',
    folderPassWorker: 'src/node/folderPassWorker.ts',
    imageDecodeWorker: 'src/node/imageDecodeWorker.ts',
  },
  outdir: 'dist',
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['vscode', 'onnxruntime-node'],
  plugins: [h5wasmLoadedBy('src/node/h5wasmBeside.ts')],
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

// The `convlens` command line: the same engine in Node, and the thread it makes ROAD's imputations on.
const cli = {
  ...common,
  entryPoints: { cli: 'src/cli/bin.ts', imputationWorker: 'src/node/imputationWorker.ts' },
  outdir: 'dist',
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  banner: { js: '#!/usr/bin/env node' },
  // Native code, loaded from node_modules where the optional package is installed (src/node/onnxRuntime.ts).
  external: ['onnxruntime-node'],
  plugins: [h5wasmLoadedBy('src/node/h5wasmBeside.ts')],
};

// h5wasm as a CommonJS file beside the host and command line, for h5wasmBeside.ts to require.
const h5wasmModule = {
  ...common,
  entryPoints: { h5wasm: H5WASM_ENTRY },
  outdir: 'dist',
  platform: 'node',
  format: 'cjs',
  target: 'node20',
};

const webview = {
  ...common,
  entryPoints: {
    main: 'webview/viewer/main.ts',
    explain: 'webview/explain/main.ts',
    analyze: 'webview/analyze/main.ts',
    compare: 'webview/compare/main.ts',
    // Started by the pages from a blob (webview/common/pageWorker.ts).
    imputationWorker: 'webview/common/imputationWorker.ts',
    decodeWorker: 'webview/analyze/decodeWorker.ts',
  },
  outdir: 'dist/webview',
  platform: 'browser',
  format: 'iife',
  target: 'chrome120',
  // tfjs-core mentions Node modules behind environment checks; the browser never loads them.
  external: ['node-fetch', 'worker_threads', 'util', 'fs', 'path', 'crypto'],
  plugins: [h5wasmLoadedBy('webview/common/h5wasmScript.ts')],
};

// h5wasm as a classic script beside the pages' scripts that sets one global, for h5wasmScript.ts to load.
const h5wasmScript = {
  ...webview,
  entryPoints: { h5wasm: H5WASM_ENTRY },
  globalName: 'convlensH5wasm',
  plugins: [],
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

// ONNX Runtime for the host's native folder pass, for one platform: CONVLENS_NATIVE_TARGET (a VS Code
// target: linux-x64, darwin-arm64, win32-x64…; `none` for no runtime), else this machine's. The npm
// package holds every platform's binaries; a VSIX carries one (scripts/package-targets). Where there is
// none, the extension runs Analyze's pass in the webview.
function copyNativeRuntime() {
  const target = process.env.CONVLENS_NATIVE_TARGET ?? `${process.platform}-${process.arch}`;
  if (target === 'none') return;
  const [platform, arch] = target.split('-');
  const binaries = `bin/napi-v6/${platform}/${arch}`;
  if (!existsSync(`node_modules/onnxruntime-node/${binaries}`)) {
    console.log(`No ONNX Runtime for ${target} in node_modules: Analyze's pass will run in the webview there.`);
    return;
  }
  for (const [pkg, parts] of [
    ['onnxruntime-node', ['package.json', 'dist', binaries]],
    ['onnxruntime-common', ['package.json', 'dist/cjs']],
  ]) {
    for (const part of parts) {
      // What Node loads: no source maps or type declarations.
      const filter = (file) => !/\.(map|d\.ts)$/.test(file);
      cpSync(`node_modules/${pkg}/${part}`, `dist/node_modules/${pkg}/${part}`, { recursive: true, filter });
    }
  }
}

// A fresh dist/, so files of an earlier build (source maps of a dev build) never reach a package.
if (!watch) rmSync('dist', { recursive: true, force: true });
copyRuntimeAssets();
copyNativeRuntime();
if (watch) {
  for (const options of [host, webHost, cli, h5wasmModule, webview, h5wasmScript]) await (await esbuild.context(options)).watch();
} else {
  await Promise.all([host, webHost, cli, h5wasmModule, webview, h5wasmScript].map((options) => esbuild.build(options)));
}
