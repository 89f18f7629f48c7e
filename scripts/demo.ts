/**
 * The demo: a real VS Code (code-server) with ConvLens installed, serving a copy of the bundled sample
 * workspace at a local address. Stop it with Ctrl+C.
 */
import { startCodeServer } from '../test/support/codeServer';
import { sampleWorkspace } from '../test/support/paths';

async function main(): Promise<void> {
  const port = Number(process.env.CONVLENS_DEMO_PORT ?? 8321);
  const server = await startCodeServer(sampleWorkspace, { port });
  console.log(`\nConvLens demo is running: ${server.url}/?folder=${encodeURIComponent(server.workspace)}`);
  console.log('Open it in a browser, right-click fashion-mnist-cnn/model.json and choose Visualize Layers,');
  console.log('or select images in images/, right-click and choose Explain with Grad-CAM.');
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
