/**
 * How alike two maps are, for the sanity checks (Adebayo et al., "Sanity Checks for Saliency Maps",
 * NeurIPS 2018): Spearman's rank correlation of the absolute values (average ranks for ties, as
 * `scipy.stats.spearmanr`), SSIM as `skimage.metrics.structural_similarity` computes it by default
 * (7×7 uniform windows, K1 = 0.01, K2 = 0.03, sample covariance, data range 1, averaged over the windows
 * that fit inside the map) and the top-k intersection (the share of the original's k most relevant
 * pixels that are among the other map's k most relevant; k = 10% of the pixels by default).
 */
import { pixelOrder } from './curves';

/** Average ranks (1-based) of `values`, ties sharing the mean of their ranks. */
export function ranks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a] - values[b] || a - b);
  const result = new Float64Array(n);
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && values[order[j + 1]] === values[order[i]]) j++;
    for (let k = i; k <= j; k++) result[order[k]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return result;
}

function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let meanA = 0;
  let meanB = 0;
  for (let i = 0; i < n; i++) {
    meanA += a[i];
    meanB += b[i];
  }
  meanA /= n;
  meanB /= n;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    ab += (a[i] - meanA) * (b[i] - meanB);
    aa += (a[i] - meanA) ** 2;
    bb += (b[i] - meanB) ** 2;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

/** Spearman's rank correlation of |a| and |b|; 0 when either map is constant (no ranking to share). */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return correlation(ranks(Array.from(a, Math.abs)), ranks(Array.from(b, Math.abs)));
}

/** Mean SSIM of two [height, width] maps (row-major), skimage's defaults with data range `range`. */
export function ssim(a: ArrayLike<number>, b: ArrayLike<number>, height: number, width: number, range = 1, window = 7): number {
  const win = Math.min(window, height, width);
  const count = win * win;
  const covarianceNorm = count / (count - 1);
  const c1 = (0.01 * range) ** 2;
  const c2 = (0.03 * range) ** 2;
  let total = 0;
  let windows = 0;
  for (let r = 0; r + win <= height; r++) {
    for (let c = 0; c + win <= width; c++) {
      let sa = 0;
      let sb = 0;
      let saa = 0;
      let sbb = 0;
      let sab = 0;
      for (let i = r; i < r + win; i++) {
        for (let j = c; j < c + win; j++) {
          const x = a[i * width + j];
          const y = b[i * width + j];
          sa += x;
          sb += y;
          saa += x * x;
          sbb += y * y;
          sab += x * y;
        }
      }
      const ux = sa / count;
      const uy = sb / count;
      const vx = covarianceNorm * (saa / count - ux * ux);
      const vy = covarianceNorm * (sbb / count - uy * uy);
      const vxy = covarianceNorm * (sab / count - ux * uy);
      total += ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
      windows++;
    }
  }
  return total / windows;
}

/** The share of `a`'s k most relevant pixels among `b`'s (ties: lower index first). */
export function topKIntersection(a: ArrayLike<number>, b: ArrayLike<number>, fraction = 0.1): number {
  const k = Math.max(1, Math.round(fraction * a.length));
  const top = new Set(pixelOrder(a).subarray(0, k));
  let shared = 0;
  for (const p of pixelOrder(b).subarray(0, k)) if (top.has(p)) shared++;
  return shared / k;
}
