/** The images where a channel peaks highest, each tile cut to the unit's receptive field (Top patches and Looks for tabs). */
import { receptiveField } from '../../src/engine/dataset/receptiveField';
import { cropToTile, fieldInImage, topActivations } from '../../src/engine/dataset/topPatches';
import type { Navigator } from './navigator';
import type { AnalyzeSession } from './session';
import { gallery } from './views';

export async function topPatchItems(session: AnalyzeSession, layer: string, channel: number, count: number) {
  const peaks = await session.peaksAt(layer);
  const top = topActivations(peaks, channel, count, session.skipped());
  const { width, height } = session.opened.input.preprocessing;
  const field = receptiveField(session.opened.model, layer, [height, width]);
  const images = await session.folder.decode(top.map((t) => session.entries[t.image].path));
  const items = top.map((t, i) => {
    const image = images[i]!;
    const rect = fieldInImage(field, t.y, t.x, image);
    return {
      image: t.image,
      caption: `${t.value.toPrecision(3)} · ${session.entries[t.image].path}`,
      picture: cropToTile(image, rect, 64),
      rect,
    };
  });
  return { items, field, channels: peaks.channels };
}

export type TopPatchItem = Awaited<ReturnType<typeof topPatchItems>>['items'][number];

/** The tiles as a gallery; a click shows the whole image with the patch outlined. */
export function patchGallery(items: TopPatchItem[], navigator: Navigator, label: string): HTMLElement {
  return gallery(items, (image) => navigator.show(image, items.find((item) => item.image === image)?.rect), label);
}
