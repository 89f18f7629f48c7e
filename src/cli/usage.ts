/** Command-line usage: the help text, and the error that means "you called it wrongly" (exit code 2). */
export class UsageError extends Error {}

/** A file that cannot be read or run (exit code 1). */
export class InputError extends Error {}

export const USAGE = `Usage: convlens <command> [options]

Commands:
  summary <model> [--json]                 the layer table: name, type, output shape, parameters
  predict <model> <input...> [--top K] [--json] [--timing]
                                           top-K classes for each image or .npy array
  explain <model> <input> --method <m> [--layer NAME] [--class N] [--out overlay.png] [--json map.json] [--force]
                                           an explanation map: <m> is one of cam gradcam gradcam++
                                           xgradcam layercam hirescam gradcamelementwise eigengradcam
                                           finercam shapleycam scorecam ablationcam eigencam kpcacam
                                           fem saliency guided guidedgradcam deconvnet fullgrad
                                           smoothgrad integrated occlusion
                                           --aug-smooth (the CAM family): the mean map over 6 test-
                                           time augmentations (flip, brightness 0.9/1/1.1)
                                           --eigen-smooth (the CAM family): the first principal
                                           component of the weighted activations
                                           --target (instead of --class): class:N, seg:CLASS (a
                                           segmentation class over its predicted pixels), box:I (the
                                           I-th strongest detection, 0 first), output:NAME[INDEX]
                                           (one unit of any output, e.g. cls_logits[120,3]), or
                                           like:IMAGE (likeness of the output to IMAGE's)
                                           --colormap jet|turbo|viridis|inferno, --alpha 0-1 (0.5)
                                           --timing (here and in predict): also print "timing: load
                                           <ms> ms, forward <ms> ms, explain <ms> ms" (forward and
                                           explain: the median of 5 runs after a warm-up)
  evaluate <model> <image|folder> [--methods m1,m2,...] [--metrics road,deletion,insertion,confidence,randomisation]
           [--percentiles 10,20,...,90] [--road-noise 0.01] [--score probability|logit] [--class N] [--layer NAME] [--json out.json] [--force]
                                           how faithful each method's maps are to the model, averaged
                                           over the images (methods: gradcam,saliency,guided; metrics:
                                           all but randomisation, by default): ROAD most/least relevant
                                           first and combined, deletion and insertion AUC, average drop
                                           and increase in confidence, and with randomisation the
                                           Spearman correlation of the map as layers are randomised
  evaluate --map map.json <model> <image> [--metrics ...]
                                           scores a map written by convlens explain --json (or by any
                                           tool, in that format) for the image it was made for
  embed <model> <folder> --method pca|tsne|umap [--layer NAME] [--json points.json] [--force]
                                           a 2-D map of the folder's images (searched recursively;
                                           class subfolders label them): with --json, the points
                                           (file, x, y, label, predicted); else a summary with the
                                           5-NN accuracy of the classes in 2-D and in feature space
  neighbours <model> <folder> <image> [--k K] [--layer NAME] [--json]
                                           the K (5) images of the folder nearest to <image> by cosine
                                           distance of their features
  project <model> <image> --layer NAME --channel C [--unit max|sum] [--out projection.png] [--force]
                                           feature projection (Zeiler & Fergus's deconvnet): what in
                                           the image drives channel C of the layer, from its strongest
                                           position (--unit max, the default) or the whole channel
                                           (sum); --out writes it at the model's input size
  top-patches <model> <folder> --layer NAME --channel C [--n N] [--out grid.png] [--json] [--force]
                                           the N (16) images where the channel fires hardest, each
                                           cut to the receptive field of the unit that fired; --out
                                           writes them as a grid, strongest first
  segment <model> <image> [--method m] [--layer NAME] [--class N] [--out mask.png] [--threshold-only] [--force]
                                           a mask of the explained object (gradcam by default): the
                                           map seeds a GrabCut graph cut that follows the image's own
                                           colours and edges; --out writes it as a PNG (white object
                                           on black); prints the object's share of the image and its
                                           bounding box. --threshold-only: the map at its Otsu
                                           threshold, without the cut. Images over 256x256 are
                                           segmented at that size and the mask scaled back up

embed and neighbours read features at --layer NAME (default: the layer before the classifier; list the
layers with convlens summary <model>).

Output files (--out, --json FILE): an existing file is replaced only with --force, never through a
symbolic link, and never when it is the model, a file beside it that the model uses, or an input.

Preprocessing (commands that take images; also read from <model>.convlens.json):
  --size WxH                               resize images to W x H (default: the model's input size)
  --scale 0-1|-1-1|0-255|torch|caffe       pixel scaling (torch = ImageNet mean/std after 0-1)
  --channels rgb|bgr|gray                  channel order

Limits (every command), checked from what a file declares before work, for files from strangers:
  --max-model-mb MB                        memory one model may ask for: weights plus every layer's
                                           output for one image (default 1000)
  --max-image-megapixels MP                the largest image decoded, width x height (default 100)

Models: TensorFlow.js model.json, Keras .h5/.keras, ONNX .onnx. The files a model names (weights,
external data, labels) are read only from its own folder.
Inputs: png, jpeg, bmp, tiff, webp images, or .npy arrays used as the model input as they are.
Exit codes: 0 ok, 1 a file cannot be read or run, 2 wrong usage.`;
