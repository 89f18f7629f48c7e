/**
 * The files under a folder, by one set of rules for every file system ConvLens lists (the extension's
 * `vscode.workspace.fs`, Node's for the command line): hidden files and folders skipped; only regular
 * files (a FIFO named x.png would block the pass); a symbolic link only where it leads to a file or
 * folder inside the folder, and only where the file system can say where it leads; each folder listed
 * once however many links lead to it (a cycle of links would never end).
 */
import { isInsideFolder } from '../confinedPath';

export type EntryKind = 'file' | 'folder' | 'link' | 'other';

/** What the walk needs of a file system, `Location` being its way to name a place (a path, a URI). */
export interface WalkedFileSystem<Location> {
  /** A folder's entries, each with what it is (a link as 'link', whatever it leads to). */
  list(folder: Location): Promise<readonly (readonly [name: string, kind: EntryKind])[]>;
  child(folder: Location, name: string): Location;
  /**
   * Where a location really is, links followed (a path), and what is there; undefined where it does not
   * exist. Without this method links are skipped: the file system cannot say where they lead.
   */
  resolve?(location: Location): Promise<{ real: string; kind: EntryKind } | undefined>;
  /** The folder's own name for itself when it cannot be resolved. */
  nameOf(location: Location): string;
  separator: string;
}

/** Paths relative to `root`, with '/' separators, of the files whose name `wanted` accepts. */
export async function filesUnder<Location>(
  fs: WalkedFileSystem<Location>,
  root: Location,
  wanted: (name: string) => boolean,
): Promise<string[]> {
  const rootReal = fs.resolve ? ((await fs.resolve(root))?.real ?? fs.nameOf(root)) : fs.nameOf(root);
  const found: string[] = [];
  const visited = new Set<string>();
  const visit = async (folder: Location, real: string, prefix: string): Promise<void> => {
    if (visited.has(real)) return;
    visited.add(real);
    for (const [name, listed] of await fs.list(folder)) {
      if (name.startsWith('.')) continue;
      const location = fs.child(folder, name);
      let kind = listed;
      let target = `${real}${fs.separator}${name}`;
      if (kind === 'link') {
        const resolved = fs.resolve ? await fs.resolve(location) : undefined;
        if (!resolved || !isInsideFolder(rootReal, resolved.real, fs.separator)) continue;
        ({ real: target, kind } = resolved);
      }
      if (kind === 'folder') await visit(location, target, `${prefix}${name}/`);
      else if (kind === 'file' && wanted(name)) found.push(`${prefix}${name}`);
    }
  };
  await visit(root, rootReal, '');
  return found;
}
