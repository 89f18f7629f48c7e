/** The Analyze panel's tabs: one strip of buttons (arrow keys move between them), one panel shown at a time. */
import { h } from '../common/dom';

export interface Tab {
  id: string;
  label: string;
  panel: HTMLElement;
  /** Draws the tab from the session's current state; called when it is shown and when the state changes. */
  refresh(): void | Promise<void>;
}

export interface TabStrip {
  element: HTMLElement;
  choose(id: string): void;
  /** Redraws the tab on show. */
  refresh(): void;
}

/** `onChoose` hears of every tab shown, the first one included. */
export function tabStrip(tabs: readonly Tab[], canDraw: () => boolean, onChoose: (id: string) => void = () => undefined): TabStrip {
  let current = tabs[0];
  const buttons = tabs.map((tab) => {
    const button = h(
      'button',
      { class: 'tab', role: 'tab', type: 'button', id: `tab-${tab.id}`, 'aria-controls': `panel-${tab.id}` },
      tab.label,
    );
    button.addEventListener('click', () => choose(tab));
    button.addEventListener('keydown', (event) => {
      const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
      if (!step) return;
      const next = tabs[(tabs.indexOf(tab) + step + tabs.length) % tabs.length];
      choose(next);
      buttons[tabs.indexOf(next)].focus();
    });
    return button;
  });
  const choose = (tab: Tab) => {
    current = tab;
    tabs.forEach((t, i) => {
      t.panel.hidden = t !== tab;
      buttons[i].setAttribute('aria-selected', String(t === tab));
      buttons[i].tabIndex = t === tab ? 0 : -1;
    });
    onChoose(tab.id);
    if (canDraw()) void tab.refresh();
  };
  for (const tab of tabs) {
    tab.panel.id = `panel-${tab.id}`;
    tab.panel.setAttribute('role', 'tabpanel');
    tab.panel.setAttribute('aria-labelledby', `tab-${tab.id}`);
  }
  return {
    element: h('div', { class: 'tabs', role: 'tablist' }, ...buttons),
    choose: (id) => choose(tabs.find((t) => t.id === id) ?? tabs[0]),
    refresh: () => {
      if (canDraw()) void current.refresh();
    },
  };
}
