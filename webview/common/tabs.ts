/**
 * Tabs for the pages: `<vscode-tabs>` from @vscode-elements (the workbench's own look, its keyboard
 * handling and ARIA roles), with our tab ids. The component numbers its headers' and panels' ids itself,
 * so each header carries `data-tab` with our id and each content element keeps its own id inside its
 * `<vscode-tab-panel>`.
 */
import '@vscode-elements/elements/dist/vscode-tabs/index.js';
import '@vscode-elements/elements/dist/vscode-tab-header/index.js';
import '@vscode-elements/elements/dist/vscode-tab-panel/index.js';
import { h } from './dom';

export interface TabContent<Id extends string = string> {
  id: Id;
  label: string;
  /** What the tab shows; it keeps its own id and classes, the component wraps it in a tab panel. */
  panel: HTMLElement;
}

export interface Tabs<Id extends string = string> {
  element: HTMLElement;
  current(): Id;
  /** Shows the tab as if the user had chosen it (`onShow` hears of it too). */
  choose(id: Id): void;
}

/** `onShow` hears of every tab shown, by the user or by `choose`. */
export function createTabs<Id extends string>(contents: readonly TabContent<Id>[], label: string, onShow: (id: Id) => void): Tabs<Id> {
  let current = contents[0].id;
  const element = h(
    'vscode-tabs',
    { 'aria-label': label },
    ...contents.map(({ id, label: text }) => h('vscode-tab-header', { slot: 'header', 'data-tab': id }, text)),
    ...contents.map(({ panel }) => h('vscode-tab-panel', {}, panel)),
  );
  const show = (index: number) => {
    current = contents[index].id;
    onShow(current);
  };
  element.addEventListener('vsc-tabs-select', (event) => show((event as CustomEvent<{ selectedIndex: number }>).detail.selectedIndex));
  return {
    element,
    current: () => current,
    choose(id) {
      const index = Math.max(
        0,
        contents.findIndex((c) => c.id === id),
      );
      // The attribute, not the property: the component shows the panel on the attribute's change, at once.
      element.setAttribute('selected-index', String(index));
      show(index);
    },
  };
}
