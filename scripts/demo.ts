/**
 * The demo: a real VS Code (code-server) with ConvLens installed, serving a copy of the bundled sample
 * workspace at a local address. Stop it with Ctrl+C.
 */
import path from 'node:path';
import { startCodeServer } from '../test/support/codeServer';
import { skipWithoutFashionMnist, writeFashionFolder } from '../test/support/fashionMnist';
import { sampleWorkspace } from '../test/support/paths';

/** A folder for Analyze Images with Model: Fashion-MNIST test images, one subfolder per class. */
const ANALYZE_FOLDER = 'fashion-test';
const ANALYZE_IMAGES = 500;

async function main(): Promise<void> {
  const port = Number(process.env.CONVLENS_DEMO_PORT ?? 8321);
  const server = await startCodeServer(sampleWorkspace, {
    port,
    // A first run, as a user has it: ConvLens opens its walkthrough.
    userSettings: { 'workbench.welcomePage.walkthroughs.openOnInstall': true },
    prepare: async (workspace) => {
      if (!skipWithoutFashionMnist) await writeFashionFolder(path.join(workspace, ANALYZE_FOLDER), ANALYZE_IMAGES);
    },
  });
  console.log(`\nConvLens demo is running: ${server.url}/?folder=${encodeURIComponent(server.workspace)}`);
  console.log('Open it in a browser and follow the walkthrough, or: open squeezenet/SqueezeNet_fp16.onnx (or right-click');
  console.log('fashion-mnist-cnn/model.json and choose Visualize Layers), right-click photos/chelsea.png (or images in');
  console.log('images/) and choose Explain with Grad-CAM,');
  console.log(
    skipWithoutFashionMnist
      ? `(${skipWithoutFashionMnist} for a folder to analyse)`
      : `or right-click ${ANALYZE_FOLDER}/ and choose Analyze Images with Model.`,
  );
  console.log('Press Ctrl+C to stop.\n');
  const stop = async () => {
    await server.stop();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
