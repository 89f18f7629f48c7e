/**
 * Calling ConvLens's language-model tools in a real VS Code as an agent does, through
 * `vscode.lm.invokeTool`: a small second extension, installed beside ConvLens, takes requests from
 * files in a folder and writes each tool's result (or its error) next to them. No chat model is
 * needed: the editor itself routes the call, shows the tool's confirmation and passes cancellation.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface ToolRequest {
  tool: string;
  input: object;
  /** Cancels the call this long after it is made (the token the tool receives). */
  cancelAfterMs?: number;
}

export type ToolPart = { text: string } | { data: string; mimeType: string };

export type ToolResponse = { ok: true; parts: ToolPart[]; ms: number } | { ok: false; cancelled: boolean; message: string; ms: number };

export interface ListedTool {
  name: string;
  description: string;
  inputSchema?: { required?: string[]; properties?: Record<string, unknown> };
  tags: string[];
}

const DRIVER_SOURCE = String.raw`
const vscode = require('vscode');
const fs = require('fs');
const path = require('path');

function partOf(part) {
  if (part instanceof vscode.LanguageModelTextPart) return { text: part.value };
  return { data: part.constructor && part.constructor.name, mimeType: part.mimeType };
}

exports.activate = (context) => {
  const folder = process.env.CONVLENS_TOOL_REQUESTS || path.join(__dirname, 'requests');
  fs.mkdirSync(folder, { recursive: true });
  const taken = new Set();
  const answer = (name, response) => fs.writeFileSync(path.join(folder, name.replace('.request.json', '.response.json')), JSON.stringify(response));
  const timer = setInterval(() => {
    for (const name of fs.readdirSync(folder)) {
      if (!name.endsWith('.request.json') || taken.has(name)) continue;
      taken.add(name);
      const request = JSON.parse(fs.readFileSync(path.join(folder, name), 'utf8'));
      if (request.list) {
        answer(name, { ok: true, tools: vscode.lm.tools.map((t) => ({ name: t.name, description: t.description, inputSchema: t.inputSchema, tags: t.tags })) });
        continue;
      }
      const source = new vscode.CancellationTokenSource();
      if (request.cancelAfterMs !== undefined) setTimeout(() => source.cancel(), request.cancelAfterMs);
      const started = Date.now();
      Promise.resolve(vscode.lm.invokeTool(request.tool, { input: request.input, toolInvocationToken: undefined }, source.token)).then(
        (result) => answer(name, { ok: true, parts: result.content.map(partOf), ms: Date.now() - started }),
        (error) => answer(name, {
          ok: false,
          cancelled: error instanceof vscode.CancellationError || (error && error.name === 'Canceled'),
          message: String(error && error.message !== undefined ? error.message : error),
          ms: Date.now() - started,
        }),
      );
    }
  }, 100);
  context.subscriptions.push({ dispose: () => clearInterval(timer) });
};
`;

/**
 * Installs the driver into the extensions folder of a code-server started by startCodeServer (which
 * puts it beside the workspace copy); call it from the `prepare` option. Returns the requests folder.
 */
export function installToolDriver(workspace: string): string {
  const target = path.join(path.dirname(workspace), 'extensions', 'convlens-test.tool-driver-0.0.1');
  mkdirSync(target, { recursive: true });
  writeFileSync(
    path.join(target, 'package.json'),
    JSON.stringify({
      name: 'tool-driver',
      publisher: 'convlens-test',
      version: '0.0.1',
      engines: { vscode: '^1.95.0' },
      main: './extension.js',
      activationEvents: ['onStartupFinished'],
    }),
  );
  writeFileSync(path.join(target, 'extension.js'), DRIVER_SOURCE);
  return path.join(target, 'requests');
}

let sequence = 0;

/** Sends one request and waits for the driver's answer. */
export async function invokeTool(requests: string, request: ToolRequest, timeoutMs = 120_000): Promise<ToolResponse> {
  return (await exchange(requests, request, timeoutMs)) as ToolResponse;
}

/** The tools the editor lists to agents (`vscode.lm.tools`). */
export async function listTools(requests: string): Promise<ListedTool[]> {
  return ((await exchange(requests, { list: true }, 60_000)) as { tools: ListedTool[] }).tools;
}

async function exchange(requests: string, request: object, timeoutMs: number): Promise<unknown> {
  const name = `${String(++sequence).padStart(3, '0')}`;
  const answer = path.join(requests, `${name}.response.json`);
  const deadline = Date.now() + timeoutMs;
  // The folder appears once the driver has started.
  while (!existsSync(requests)) {
    if (Date.now() > deadline) throw new Error(`the tool driver did not start within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
  writeFileSync(path.join(requests, `${name}.request.json`), JSON.stringify(request));
  while (!existsSync(answer)) {
    if (Date.now() > deadline) throw new Error(`no answer to ${JSON.stringify(request)} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return JSON.parse(readFileSync(answer, 'utf8'));
}

/** The text parts of a successful result, joined. */
export function resultText(response: ToolResponse): string {
  if (!response.ok) throw new Error(`the tool failed: ${response.message}`);
  return response.parts.map((part) => ('text' in part ? part.text : '')).join('\n');
}
