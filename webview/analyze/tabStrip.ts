/** The Analyze panel's tabs, one shown at a time, each drawn from the session's state when it is shown. */
import { createTabs, type TabContent } from '../common/tabs';

export interface Tab extends TabContent {
  /** Draws the tab from the session's current state; called when it is shown and when the state changes. */
  refresh(): void | Promise<void>;
}

export interface TabStrip {
  element: HTMLElement;
  choose(id: string): void;
  /** Redraws the tab on show. */
  refresh(): void;
}

/** `onChoose` hears of every tab shown, the first one included; nothing is drawn until `canDraw`. */
export function tabStrip(tabs: readonly Tab[], canDraw: () => boolean, onChoose: (id: string) => void = () => undefined): TabStrip {
  for (const tab of tabs) tab.panel.id = `panel-${tab.id}`;
  const byId = new Map(tabs.map((tab) => [tab.id, tab]));
  const refresh = () => {
    if (canDraw()) void byId.get(strip.current())?.refresh();
  };
  const strip = createTabs(tabs, 'Views of the folder', (id) => {
    onChoose(id);
    refresh();
  });
  return { element: strip.element, choose: (id) => strip.choose(id), refresh };
}
