/** The Confusion tab: accuracy, the confusion matrix, and the misclassified images, most confident first. */
import { confusionMatrix } from '../../src/engine/dataset/confusion';
import { h } from '../common/dom';
import { latestOnly } from '../common/latestOnly';
import { postToHost } from './channel';
import type { Navigator } from './navigator';
import type { AnalyzeSession } from './session';
import type { Tab } from './tabStrip';
import { confusionTable, gallery } from './views';

/** Mistakes shown as thumbnails, at most. */
const SHOWN_MISTAKES = 48;

export function confusionTab(session: AnalyzeSession, navigator: Navigator): Tab {
  const { entries } = session;
  const className = (index: number) => session.className(index);
  const results = h('div', { class: 'confusion-results' });
  const nextDraw = latestOnly();
  const refresh = async () => {
    const features = session.features;
    if (!features) return;
    const isLatest = nextDraw();
    const skip = session.skipped();
    const known = Int32Array.from(session.truth, (t, i) => (skip.has(i) ? -1 : t));
    if (!known.some((t) => t >= 0)) {
      results.replaceChildren(
        h('p', { class: 'status' }, "A confusion matrix needs one subfolder per class, named like the model's classes."),
      );
      return;
    }
    const classCount = Math.max(session.opened.labels?.names.length ?? 0, ...features.predicted, ...known) + 1;
    const confusion = confusionMatrix(known, features.predicted, features.confidence, classCount);
    const mistakes = confusion.mistakes.slice(0, SHOWN_MISTAKES);
    const thumbnails = await Promise.all(mistakes.map((m) => session.folder.thumbnail(entries[m.index].path)));
    if (!isLatest()) return;
    results.replaceChildren(
      h(
        'p',
        { id: 'accuracy' },
        `Accuracy ${(confusion.accuracy * 100).toFixed(1)}% on ${known.filter((t) => t >= 0).length} labelled images; ${confusion.mistakes.length} mistakes.`,
      ),
      confusionTable(confusion, className),
      h(
        'h3',
        {},
        `Misclassified, most confident first${confusion.mistakes.length > mistakes.length ? ` (${mistakes.length} of ${confusion.mistakes.length})` : ''}`,
      ),
      gallery(
        mistakes.map((m, i) => ({
          image: m.index,
          caption: `${className(m.truth)} → ${className(m.predicted)} (${(m.confidence * 100).toFixed(0)}%)`,
          title: entries[m.index].path,
          picture: thumbnails[i],
          actions: [['Grad-CAM', () => postToHost({ type: 'explainImage', path: entries[m.index].path })]],
        })),
        (image) => navigator.show(image),
        'Misclassified images',
      ),
    );
    postToHost({ type: 'rendered', view: 'confusion', detail: `${confusion.accuracy}` });
  };
  return { id: 'confusion', label: 'Confusion', panel: h('div', { class: 'tab-panel' }, results), refresh };
}
