/**
 * The Compare Models panel: loads two checkpoints of a model in the webview, shows how far each
 * layer's weights moved, which images changed prediction, and for each image the chosen method's map
 * under both models with their difference. Long methods report progress to VS Code and stop when the
 * user cancels there. The work is the session's (session.ts); this file connects it to the host and the page.
 */
import type { CompareProtocol } from '../../src/shared/compareProtocol';
import { connectToHost } from '../common/channel';
import { h } from '../common/dom';
import { hostFiles } from '../common/hostFiles';
import { CompareSession, messageOf } from './session';

const host = connectToHost<CompareProtocol>();
const app = document.getElementById('app')!;
const session = new CompareSession(
  host,
  hostFiles((file) => host.request('readFileB', file)),
  (element) => app.replaceChildren(element),
);

host.onHostMessage((message) => {
  if (message.type === 'compare') session.start(message).catch(fail);
  else if (message.type === 'cancel') session.cancel();
});
host.postToHost({ type: 'ready' });

function fail(error: unknown): void {
  const message = messageOf(error);
  app.replaceChildren(
    h('div', { class: 'error', id: 'compare-error', role: 'alert' }, h('h1', {}, 'These models cannot be compared'), h('p', {}, message)),
  );
  host.postToHost({ type: 'error', message });
}
