/**
 * ROAD's perturbed images, in the order the network scores them, and where they are made. The imputations
 * cost about as much as the network's passes over their results (a 224 × 224 solve ≈ half a ResNet-18
 * forward pass), and the WebAssembly backend runs on one thread: a platform with a second thread
 * (`setImputationThread`; the command line and the bench in Node) makes them there while the network
 * scores the ones already made. Either way the images, noise included, are the same: one generator
 * (`perturbedImages`) draws the noise in one order.
 */
import { seededRandom } from '../dataset/random';
import { noisyLinearImpute, normalFrom, percentileOfSorted } from './imputation';
import { nextTurn } from '../progress';

/** Everything the imputations of one ROAD call need; plain data, so it can cross to another thread. */
export interface PerturbationJob {
  /** [batch · height · width · channels], HWC per image. */
  images: Float32Array;
  /** [batch · height · width], the maps. */
  maps: Float32Array;
  batch: number;
  height: number;
  width: number;
  channels: number;
  percentiles: number[];
  noise: number;
  seed: number;
}

/** How many images `perturbedImages` makes: per image, each percentile most- then least-relevant-first. */
export function perturbationCount(job: PerturbationJob): number {
  return job.batch * 2 * job.percentiles.length;
}

/**
 * The perturbed images in order: for each image, the map's percentiles (most relevant removed first),
 * then those of 1 − map (least relevant first), each image imputed with noise from one seeded stream.
 */
export function* perturbedImages(job: PerturbationJob): Generator<Float32Array> {
  const { batch, height, width, channels, noise } = job;
  const pixels = height * width;
  const normal = normalFrom(seededRandom(job.seed));
  for (let b = 0; b < batch; b++) {
    const image = job.images.subarray(b * pixels * channels, (b + 1) * pixels * channels);
    const map = job.maps.subarray(b * pixels, (b + 1) * pixels);
    const inverse = Float32Array.from(map, (v) => 1 - v);
    for (const values of [map, inverse]) {
      const sorted = Float64Array.from(values).sort();
      for (const p of job.percentiles) {
        const keep = pixelsBelow(values, percentileOfSorted(sorted, p));
        yield noisyLinearImpute(image, keep, height, width, channels, noise, normal);
      }
    }
  }
}

export function pixelsBelow(values: Float32Array, threshold: number): Uint8Array {
  const keep = new Uint8Array(values.length);
  for (let p = 0; p < values.length; p++) keep[p] = values[p] < threshold ? 1 : 0;
  return keep;
}

/** The perturbed images of one job as they are made. */
export interface PerturbedImages {
  /**
   * Between 1 and `most` of the next images: those made already, or, when none is, the next one once it
   * is made; none when all have been taken.
   */
  take(most: number): Promise<Float32Array[]>;
  /** Stops making images (the caller has stopped taking them: finished, cancelled or failed). */
  close(): void;
}

/** Makes a job's images somewhere; a thread of its own makes them while the caller scores earlier ones. */
export type PerturbationMaker = (job: PerturbationJob) => PerturbedImages;

/** On the caller's thread, `most` at a time, letting the event loop run between images (cancel clicks). */
export const imputeHere: PerturbationMaker = (job) => {
  const images = perturbedImages(job);
  let lastYield = Date.now();
  return {
    async take(most) {
      const taken: Float32Array[] = [];
      for (let next = images.next(); !next.done;) {
        taken.push(next.value);
        // Small images impute in a millisecond: yield every 20 ms or so, not after each.
        if (Date.now() - lastYield > 20) {
          await nextTurn();
          lastYield = Date.now();
        }
        if (taken.length >= most) break;
        next = images.next();
      }
      return taken;
    },
    close() {
      void images.return(undefined);
    },
  };
};

/**
 * Below this many pixels per image the imputations take milliseconds, less than starting or messaging a
 * thread: they are made on the caller's thread.
 */
export const THREAD_PIXELS = 96 * 96;

let thread: { maker: PerturbationMaker; minimumPixels: number } | undefined;

/**
 * A platform's second thread for the imputations of images of at least `minimumPixels` pixels
 * (undefined: everything on the caller's thread).
 */
export function setImputationThread(maker: PerturbationMaker | undefined, minimumPixels = THREAD_PIXELS): void {
  thread = maker && { maker, minimumPixels };
}

/** Where `job`'s images are made: a second thread when the platform has one and the images are large. */
export function makePerturbations(job: PerturbationJob): PerturbedImages {
  return (thread && job.height * job.width >= thread.minimumPixels ? thread.maker : imputeHere)(job);
}
