/** How one view of the Analyze panel sends the user to another: the image preview, a query, a unit. */
import type { PixelRect } from '../../src/engine/dataset/topPatches';

export interface Navigator {
  /** Shows one image at a readable size, with a region outlined. */
  show(image: number, mark?: PixelRect): void;
  /** Opens the neighbours tab with this image as the query. */
  showNeighbours(image: number): void;
  /** Opens the "Looks for" tab on a layer's channel. */
  lookFor(layer: string, channel: number): void;
}
