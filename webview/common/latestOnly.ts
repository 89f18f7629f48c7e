/**
 * Views redraw after awaiting thumbnails, patches or a map: a redraw started later (another query,
 * channel or method) must win. `latestOnly()` gives a function to call at each redraw's start; it returns
 * a check that says whether that redraw is still the latest.
 */
export function latestOnly(): () => () => boolean {
  let generation = 0;
  return () => {
    const mine = ++generation;
    return () => mine === generation;
  };
}
