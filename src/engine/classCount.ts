/** How many values a model's output gives per image, and how many classes they tell apart. */

/** Values per image of an output of this shape (unknown dimensions count as 1). */
export function outputUnits(shape: readonly (number | null)[]): number {
  return shape.slice(1).reduce<number>((n, d) => n * (d ?? 1), 1);
}

/** The classes behind `units` outputs: a single unit is a binary classifier's logit, classes 0 and 1. */
export function classesOfUnits(units: number): number {
  return units === 1 ? 2 : units;
}
