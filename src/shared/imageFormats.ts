/**
 * The image files ConvLens reads, in each place it decodes them. The webview decodes with the
 * browser's codecs (Chromium has GIF, not TIFF); the command line with its Node decoders (TIFF, not GIF).
 * The context menu's `when` clauses in package.json list the webview's set.
 */
export interface ImageFormats {
  /** File name extensions, lower case, without the dot. */
  extensions: readonly string[];
  /** The formats as a sentence names them: "png, jpeg, bmp, gif or webp". */
  names: string;
}

export const WEBVIEW_IMAGE_FORMATS: ImageFormats = {
  extensions: ['png', 'jpg', 'jpeg', 'bmp', 'gif', 'webp'],
  names: 'png, jpeg, bmp, gif or webp',
};

export const NODE_IMAGE_FORMATS: ImageFormats = {
  extensions: ['png', 'jpg', 'jpeg', 'bmp', 'tif', 'tiff', 'webp'],
  names: 'png, jpeg, bmp, tiff or webp',
};

/** Whether a file name ends in one of the formats' extensions (any case). */
export function hasImageExtension(formats: ImageFormats, fileName: string): boolean {
  const dot = fileName.lastIndexOf('.');
  return dot >= 0 && formats.extensions.includes(fileName.slice(dot + 1).toLowerCase());
}
