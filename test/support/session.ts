/**
 * One real VS Code per test suite: code-server serving a copy of a workspace, and Chromium showing it,
 * started before the suite's tests and stopped after them.
 */
import { after, before } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { codeServerInstalled, type CodeServer, type CodeServerOptions, e2eCache, startCodeServer } from './codeServer';
import { launchBrowser, openWorkbench } from './workbench';

/** The `skip` option of suites that need code-server, with the reason when it is missing. */
export const skipWithoutCodeServer = codeServerInstalled()
  ? false
  : `code-server is not installed in ${e2eCache}: run scripts/install-e2e.sh`;

export interface WorkbenchSession {
  server: CodeServer;
  browser: Browser;
  page: Page;
}

/** Call inside `describe`: the returned object is filled in before the first test runs. */
export function workbenchSession(workspace: string, options: CodeServerOptions = {}): WorkbenchSession {
  const session = {} as WorkbenchSession;
  before(async () => {
    session.server = await startCodeServer(workspace, options);
    session.browser = await launchBrowser();
    session.page = await openWorkbench(session.browser, session.server.url, session.server.workspace);
  });
  after(async () => {
    await session.browser?.close();
    await session.server?.stop();
  });
  return session;
}
