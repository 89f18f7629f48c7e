/**
 * The Explain panel: loads the model in the webview, shows each image's top-5 predictions, and
 * overlays the chosen explanation; clicking a prediction explains that class. Long methods report
 * progress to VS Code and stop when the user cancels there. The work is the session's (session.ts);
 * this file connects it to the host and the page.
 */
import { h } from '../common/dom';
import { connectToHost, pageState } from '../common/channel';
import type { ExplainProtocol } from '../../src/shared/explainProtocol';
import { ExplainSession, type KeptChoices } from './session';
import { useImputationThread } from '../common/imputationThread';

// Check this explanation's ROAD imputes on a worker while the network runs here.
useImputationThread();
const host = connectToHost<ExplainProtocol>();
const app = document.getElementById('app')!;
const session = new ExplainSession(host, (element) => app.replaceChildren(element), pageState<KeptChoices>());

host.onHostMessage((message) => {
  if (message.type === 'explain') session.start(message).catch(fail);
  else if (message.type === 'firstOverlays') void session.showFirstOverlays(message).catch(() => undefined);
  else if (message.type === 'cancel') session.cancel();
});
host.postToHost({ type: 'ready' });

function fail(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  app.replaceChildren(
    h('div', { class: 'error', id: 'explain-error', role: 'alert' }, h('h1', {}, 'These images cannot be explained'), h('p', {}, message)),
  );
  host.postToHost({ type: 'error', message });
}
