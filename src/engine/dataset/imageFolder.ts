/**
 * A folder of images as a labelled dataset: with one subfolder per class, the subfolder names the
 * class; those names are matched to the model's class names when they agree.
 */

export interface FolderImage {
  /** Path relative to the folder, with '/' separators. */
  path: string;
  /** The class subfolder's name, when the folder is organised by class. */
  label?: string;
}

/** Labels every image by its top-level subfolder; images directly in the folder get none. */
export function labelByFolder(paths: readonly string[]): FolderImage[] {
  return [...paths]
    .sort((a, b) => a.localeCompare(b, 'en'))
    .map((path) => {
      const slash = path.indexOf('/');
      return slash > 0 ? { path, label: path.slice(0, slash) } : { path };
    });
}

/** How a class name compares: case, spaces and punctuation ignored ("T-shirt/top" = "t_shirt top"). */
function comparable(name: string): string {
  return name.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');
}

/**
 * The model's class index for each folder label, or undefined where a label names no class. Folder
 * names match class names (see `comparable`), or are class numbers ("0", "7") when no name matches.
 */
export function matchLabels(
  labels: readonly string[],
  classNames: readonly string[] | undefined,
  classCount: number,
): Map<string, number | undefined> {
  const byName = new Map((classNames ?? []).map((name, index) => [comparable(name), index]));
  const result = new Map<string, number | undefined>();
  for (const label of new Set(labels)) {
    const named = byName.get(comparable(label));
    const numbered = /^\d+$/.test(label) && Number(label) < classCount ? Number(label) : undefined;
    result.set(label, named ?? numbered);
  }
  return result;
}
