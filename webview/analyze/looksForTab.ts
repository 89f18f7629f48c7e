/** The Looks for tab on this folder's session: activation maximisation beside the folder's own top patches. */
import { camTargetLayers, defaultTargetLayer, outputShapes } from '../../src/engine/explain/targetLayer';
import { h } from '../common/dom';
import { safely } from '../common/safely';
import { maximizeTab } from './maximizeTab';
import type { Navigator } from './navigator';
import type { AnalyzeSession } from './session';
import { patchGallery, topPatchItems } from './topPatchGallery';
import { classesOfUnits } from '../../src/engine/classCount';

export function looksForTab(session: AnalyzeSession, navigator: Navigator) {
  const { model } = session.opened;
  const shapes = outputShapes(model);
  // Units worth maximising: channels of spatial layers and units of flat ones (the logits are the class score).
  const layers = model.nodes.map((n) => n.id).filter((id) => id !== model.logits && [2, 4].includes(shapes.get(id)?.length ?? 0));
  return maximizeTab({
    model,
    preprocessing: session.opened.input.preprocessing,
    layers,
    defaultLayer: safely(() => defaultTargetLayer(model)) ?? layers.at(-1) ?? '',
    classCount: classesOfUnits(session.opened.classCount),
    className: (index) => session.className(index),
    claimToken: () => session.claimToken(),
    topPatches: async (layer, channel, count) => {
      if (!session.features || !camTargetLayers(model).includes(layer))
        return h('p', { class: 'status' }, `Top patches need a layer with height and width; ${layer} has none.`);
      try {
        const { items } = await topPatchItems(session, layer, channel, count);
        return patchGallery(items, navigator, `Top patches of ${layer} channel ${channel}`);
      } catch (error) {
        return h('p', { class: 'status' }, `No patches: ${(error as Error).message}`);
      }
    },
  });
}
