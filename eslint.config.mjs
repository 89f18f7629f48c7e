// ESLint for ConvLens: typescript-eslint's recommended rules (syntax only, no type information, so it stays
// fast), the boundaries between the parts that run in different places, and no HTML strings turned into DOM.
// Layout is Prettier's job (eslint-config-prettier turns off every rule it would fight with).
//   npm run lint
//
// Boundaries (see the README's Layout table):
//   src/engine/  runs in the webviews, in Node and in tests: no `vscode`, no Node built-ins, nothing from the
//                extension host (src/commands, editor, explain, analyze, tree, extension.ts, settings.ts),
//                the command line (src/cli), the Node glue (src/node) or the webviews (webview/).
//   webview/     runs in the browser: no `vscode` (it talks to the host through acquireVsCodeApi and
//                src/shared's messages), no Node built-ins, nothing from the host, src/cli or src/node.
//   src/shared/  is loaded by both sides: no `vscode`, no Node built-ins, nothing from the host, src/cli,
//                src/node or webview/.
// no-restricted-imports sees an import's text, not the file it names, so the relative paths that leave a zone
// are computed here for every folder inside it (a folder added later is covered the next time ESLint starts).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { defineConfig, globalIgnores } from 'eslint/config';
import { readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import tseslint from 'typescript-eslint';

const root = posix.dirname(fileURLToPath(import.meta.url).replaceAll('\\', '/'));

const TS = ['**/*.ts', '**/*.mts', '**/*.cts'];
const LINTED = ['src', 'webview', 'test', 'bench', 'scripts'];

/** `folder` and every folder below it, relative to the repository root, in POSIX form. */
function foldersUnder(folder) {
  const found = [folder];
  for (const entry of readdirSync(posix.join(root, folder), { withFileTypes: true })) {
    if (entry.isDirectory() && entry.name !== 'node_modules') found.push(...foldersUnder(posix.join(folder, entry.name)));
  }
  return found;
}

const escapeRegex = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const builtins = [...new Set(builtinModules.map((name) => name.split('/')[0]))];
const NODE_BUILTIN = `^(?:node:.*|(?:${builtins.map(escapeRegex).join('|')})(?:/.*)?)$`;

const HOST = ['src/commands', 'src/panels', 'src/tree', 'src/extension', 'src/settings'];
const NODE_ONLY = ['src/cli', 'src/node'];

const zones = [
  {
    folder: 'src/engine',
    what: 'The engine runs in the webviews, in Node and in tests',
    forbidden: [...HOST, ...NODE_ONLY, 'webview'],
  },
  { folder: 'webview', what: 'Webview code runs in the browser', forbidden: [...HOST, ...NODE_ONLY] },
  { folder: 'src/shared', what: 'src/shared is loaded by the host and the webviews', forbidden: [...HOST, ...NODE_ONLY, 'webview'] },
  // The extension host also runs in the browser (vscode.dev): what needs Node goes through src/platform,
  // whose `.web.ts` twins the browser build takes instead.
  ...['src/commands', 'src/panels', 'src/tree'].map((folder) => ({
    folder,
    what: 'The extension host runs in Node and in the browser',
    nodeHint: 'src/platform holds what differs, with a .web.ts twin for the browser',
    forbidden: [...NODE_ONLY, 'webview'],
    vscode: true,
  })),
];

/** The no-restricted-imports options and the require()/import() selectors for the files directly in `folder`. */
function zoneRules(zone, folder) {
  const relative = zone.forbidden.map((target) => {
    let path = posix.relative(folder, target);
    if (!path.startsWith('.')) path = `./${path}`;
    return { target, regex: `^(?:\\./)?${escapeRegex(path)}(?:/.*|\\.[cm]?[jt]s)?$` };
  });
  const importRule = [
    'error',
    {
      paths: zone.vscode ? [] : [{ name: 'vscode', message: `${zone.what}: the vscode API exists only in the extension host.` }],
      patterns: [
        {
          regex: NODE_BUILTIN,
          message: `${zone.what}: no Node built-ins (${zone.nodeHint ?? 'the src/node glue or the host passes in what it needs'}).`,
        },
        ...relative.map(({ target, regex }) => ({ regex, message: `${zone.what}: it may not import ${target}.` })),
      ],
    },
  ];
  // require() and import() of the same modules, which no-restricted-imports does not see. esquery ends a
  // regular expression at its first '/', so '/' is written \x2F.
  const moduleRegex = `/^(?:${zone.vscode ? '' : 'vscode$|'}node:|(?:${builtins.map(escapeRegex).join('|')})(?:\\x2F|$))/`;
  const syntaxRule = [
    'error',
    {
      selector: `CallExpression[callee.name='require'][arguments.0.value=${moduleRegex}]`,
      message: `${zone.what}: no ${zone.vscode ? '' : 'vscode and no '}Node built-ins, required or imported.`,
    },
    {
      selector: `ImportExpression[source.value=${moduleRegex}]`,
      message: `${zone.what}: no ${zone.vscode ? '' : 'vscode and no '}Node built-ins, required or imported.`,
    },
  ];
  return { importRule, syntaxRule };
}

const boundaries = zones.flatMap((zone) =>
  foldersUnder(zone.folder).map((folder) => {
    const { importRule, syntaxRule } = zoneRules(zone, folder);
    return {
      name: `convlens/boundaries/${folder}`,
      files: TS.map((pattern) => `${folder}/${pattern.replace('**/', '')}`),
      rules: {
        'no-restricted-imports': 'off',
        '@typescript-eslint/no-restricted-imports': importRule,
        'no-restricted-syntax': syntaxRule,
      },
    };
  }),
);

// HTML strings parsed into the DOM: the webviews build every element with the DOM API (webview/common/dom.ts), so a
// model's layer names or a file's text can never become markup.
const noHtmlStrings = [
  'error',
  ...['innerHTML', 'outerHTML', 'insertAdjacentHTML'].map((property) => ({
    property,
    message: 'Build elements with the DOM API (webview/common/dom.ts) and set textContent; never parse strings as HTML.',
  })),
  ...['write', 'writeln'].map((property) => ({
    object: 'document',
    property,
    message: 'Build elements with the DOM API (webview/common/dom.ts); never write HTML strings into the document.',
  })),
];

export default defineConfig([
  globalIgnores([
    'dist/',
    'out/',
    'bench/_*',
    'node_modules/',
    'test-results/',
    '.e2e/',
    '.scratch/',
    '.vscode-test/',
    'sample/',
    '**/*.d.ts',
  ]),
  {
    name: 'convlens/javascript',
    files: ['*.mjs', '*.js', ...LINTED.map((folder) => `${folder}/**/*.{js,mjs,cjs}`)],
    extends: [js.configs.recommended],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      // The JavaScript files are Node scripts (esbuild.mjs, this file, fixture generators).
      globals: Object.fromEntries(
        ['process', 'console', 'Buffer', 'URL', 'TextEncoder', 'TextDecoder', 'performance', 'setTimeout', 'clearTimeout'].map((name) => [
          name,
          'readonly',
        ]),
      ),
    },
  },
  {
    name: 'convlens/typescript',
    files: LINTED.flatMap((folder) => TS.map((pattern) => `${folder}/${pattern}`)),
    extends: [js.configs.recommended, tseslint.configs.recommended],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      // A leading underscore marks a binding left unused on purpose: a key taken out of an object before
      // `...rest`, a loop that only counts.
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
    },
  },
  {
    name: 'convlens/no-html-strings',
    files: ['*.mjs', '*.js', ...LINTED.flatMap((folder) => [...TS, '**/*.{js,mjs,cjs}'].map((pattern) => `${folder}/${pattern}`))],
    rules: { 'no-restricted-properties': noHtmlStrings },
  },
  ...boundaries,
  prettier,
]);
