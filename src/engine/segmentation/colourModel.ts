/**
 * A Gaussian mixture over RGB colours, as GrabCut models the object's and the background's colours
 * (Rother, Kolmogorov, Blake 2004; OpenCV's grabcut.cpp): five full-covariance components, started by
 * k-means and then refitted by assigning each pixel to its most likely component. Colours are in 0–255.
 */

export const COMPONENTS = 5;

/**
 * Added to each covariance's diagonal (in squared 0–255 units): keeps it invertible for flat regions and
 * for grey images, whose three channels are equal.
 */
const COVARIANCE_FLOOR = 1;

const KMEANS_ROUNDS = 8;

export interface ColourModel {
  /** Per component: weight, mean (3), inverse covariance (9), log of 1/sqrt(det). */
  weight: Float64Array;
  mean: Float64Array;
  inverse: Float64Array;
  logNorm: Float64Array;
}

/** The mixture fitted to the pixels `members` (indices into `rgb`, 3 floats per pixel). */
export function fitColourModel(rgb: Float32Array, members: Int32Array, previous?: ColourModel): ColourModel {
  const assignment = previous ? mostLikelyComponents(previous, rgb, members) : kMeans(rgb, members);
  return gaussiansOf(rgb, members, assignment);
}

/** −log of the mixture's density at the colour of pixel `p` (the unary term of the energy). */
export function negativeLogLikelihood(model: ColourModel, rgb: Float32Array, p: number): number {
  let density = 0;
  for (let k = 0; k < COMPONENTS; k++) {
    if (model.weight[k] === 0) continue;
    density += model.weight[k] * Math.exp(model.logNorm[k] - 0.5 * mahalanobis(model, k, rgb, p));
  }
  // A colour far from every component: as unlikely as the model allows, not infinitely so.
  return -Math.log(Math.max(density, 1e-300));
}

function mahalanobis(model: ColourModel, k: number, rgb: Float32Array, p: number): number {
  const m = model.mean;
  const v = model.inverse;
  const d0 = rgb[3 * p] - m[3 * k];
  const d1 = rgb[3 * p + 1] - m[3 * k + 1];
  const d2 = rgb[3 * p + 2] - m[3 * k + 2];
  const o = 9 * k;
  return (
    d0 * (v[o] * d0 + v[o + 1] * d1 + v[o + 2] * d2) +
    d1 * (v[o + 3] * d0 + v[o + 4] * d1 + v[o + 5] * d2) +
    d2 * (v[o + 6] * d0 + v[o + 7] * d1 + v[o + 8] * d2)
  );
}

function mostLikelyComponents(model: ColourModel, rgb: Float32Array, members: Int32Array): Uint8Array {
  const assignment = new Uint8Array(members.length);
  for (let i = 0; i < members.length; i++) {
    let best = 0;
    let bestScore = -Infinity;
    for (let k = 0; k < COMPONENTS; k++) {
      if (model.weight[k] === 0) continue;
      const score = Math.log(model.weight[k]) + model.logNorm[k] - 0.5 * mahalanobis(model, k, rgb, members[i]);
      if (score > bestScore) {
        bestScore = score;
        best = k;
      }
    }
    assignment[i] = best;
  }
  return assignment;
}

/** k-means on the colours, started from the brightness quantiles so that it is deterministic. */
function kMeans(rgb: Float32Array, members: Int32Array): Uint8Array {
  const n = members.length;
  const assignment = new Uint8Array(n);
  if (n === 0) return assignment;
  const centres = brightnessQuantiles(rgb, members);
  const sums = new Float64Array(3 * COMPONENTS);
  const counts = new Float64Array(COMPONENTS);
  for (let round = 0; round < KMEANS_ROUNDS; round++) {
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const p = members[i];
      let best = 0;
      let bestDistance = Infinity;
      for (let k = 0; k < COMPONENTS; k++) {
        let d = 0;
        for (let c = 0; c < 3; c++) d += (rgb[3 * p + c] - centres[3 * k + c]) ** 2;
        if (d < bestDistance) {
          bestDistance = d;
          best = k;
        }
      }
      assignment[i] = best;
      counts[best]++;
      for (let c = 0; c < 3; c++) sums[3 * best + c] += rgb[3 * p + c];
    }
    for (let k = 0; k < COMPONENTS; k++) {
      if (counts[k] === 0) continue;
      for (let c = 0; c < 3; c++) centres[3 * k + c] = sums[3 * k + c] / counts[k];
    }
  }
  return assignment;
}

/** The mean colour of each fifth of the pixels by brightness (R + G + B, in a histogram of whole levels). */
function brightnessQuantiles(rgb: Float32Array, members: Int32Array): Float64Array {
  const levels = 3 * 255 + 1;
  const level = (p: number) => Math.min(levels - 1, Math.max(0, Math.round(rgb[3 * p] + rgb[3 * p + 1] + rgb[3 * p + 2])));
  const histogram = new Float64Array(levels);
  for (const p of members) histogram[level(p)]++;
  // The component of each level: the fifth its pixels' middle rank falls in.
  const component = new Uint8Array(levels);
  let below = 0;
  for (let l = 0; l < levels; l++) {
    component[l] = Math.min(COMPONENTS - 1, Math.floor(((below + histogram[l] / 2) * COMPONENTS) / members.length));
    below += histogram[l];
  }
  const sums = new Float64Array(3 * COMPONENTS);
  const counts = new Float64Array(COMPONENTS);
  for (const p of members) {
    const k = component[level(p)];
    counts[k]++;
    for (let c = 0; c < 3; c++) sums[3 * k + c] += rgb[3 * p + c];
  }
  // An empty fifth (an image of few distinct levels) lies far from every colour: k-means leaves it empty.
  for (let k = 0; k < COMPONENTS; k++) for (let c = 0; c < 3; c++) sums[3 * k + c] = counts[k] > 0 ? sums[3 * k + c] / counts[k] : -1e6;
  return sums;
}

/** Weights, means and covariances of the components from the pixels assigned to each. */
function gaussiansOf(rgb: Float32Array, members: Int32Array, assignment: Uint8Array): ColourModel {
  const count = new Float64Array(COMPONENTS);
  const sum = new Float64Array(3 * COMPONENTS);
  const products = new Float64Array(9 * COMPONENTS);
  for (let i = 0; i < members.length; i++) {
    const k = assignment[i];
    const p = members[i];
    count[k]++;
    for (let r = 0; r < 3; r++) {
      sum[3 * k + r] += rgb[3 * p + r];
      for (let c = 0; c < 3; c++) products[9 * k + 3 * r + c] += rgb[3 * p + r] * rgb[3 * p + c];
    }
  }
  const model: ColourModel = {
    weight: new Float64Array(COMPONENTS),
    mean: new Float64Array(3 * COMPONENTS),
    inverse: new Float64Array(9 * COMPONENTS),
    logNorm: new Float64Array(COMPONENTS),
  };
  for (let k = 0; k < COMPONENTS; k++) {
    if (count[k] === 0) continue;
    model.weight[k] = count[k] / members.length;
    const covariance = new Float64Array(9);
    for (let r = 0; r < 3; r++) model.mean[3 * k + r] = sum[3 * k + r] / count[k];
    for (let r = 0; r < 3; r++)
      for (let c = 0; c < 3; c++)
        covariance[3 * r + c] = products[9 * k + 3 * r + c] / count[k] - model.mean[3 * k + r] * model.mean[3 * k + c];
    for (let r = 0; r < 3; r++) covariance[4 * r] += COVARIANCE_FLOOR;
    const { inverse, determinant } = invert3(covariance);
    model.inverse.set(inverse, 9 * k);
    // The (2π)^(−3/2) factor is the same in both models and cancels in the cut.
    model.logNorm[k] = -0.5 * Math.log(determinant);
  }
  return model;
}

function invert3(m: Float64Array): { inverse: Float64Array; determinant: number } {
  const [a, b, c, d, e, f, g, h, i] = m;
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const determinant = a * A + b * B + c * C;
  const inverse = new Float64Array([
    A,
    -(b * i - c * h),
    b * f - c * e,
    B,
    a * i - c * g,
    -(a * f - c * d),
    C,
    -(a * h - b * g),
    a * e - b * d,
  ]).map((v) => v / determinant);
  return { inverse, determinant };
}
