/**
 * The model viewer webview: the layer tree (from the summary the host sends) beside the inspector of
 * the selected layer (filters, feature maps and statistics, from the model loaded here on TensorFlow.js).
 * The state is the session's (session.ts); this file connects it to the host and the page.
 */
import type { ViewerProtocol, WebviewState } from '../../src/shared/protocol';
import { connectToHost, pageState } from '../common/channel';
import { ViewerSession } from './session';

const host = connectToHost<ViewerProtocol>();
const session = new ViewerSession(host, document.getElementById('app')!, pageState<WebviewState>());
host.onHostMessage((message) => session.receive(message));
// Shown again after being hidden: draw the tree from the saved state at once; the host then resends it.
session.restore();
host.postToHost({ type: 'ready' });
