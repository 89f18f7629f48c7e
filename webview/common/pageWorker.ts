/**
 * Web Workers of the pages. A webview cannot start a worker from its resource URL (another origin), so
 * the page reads the worker's bundle from beside its own script (dist/webview/) and starts it from a
 * blob: the policy allows workers from blobs (`worker-src blob:`) and nothing else. A worker the policy
 * refuses never runs (and may not say so): each says it runs with a first message, within `startMs`.
 */
export async function startPageWorker(bundle: string, name: string, startMs: number): Promise<Worker> {
  const page = document.querySelector<HTMLScriptElement>('script[nonce][src]');
  if (!page) throw new Error("the page's script is not found");
  const response = await fetch(new URL(bundle, page.src));
  if (!response.ok) throw new Error(`${bundle}: ${response.status}`);
  const url = URL.createObjectURL(new Blob([await response.text()], { type: 'text/javascript' }));
  // Named for the developer tools (and the end-to-end tests that look for it).
  const worker = new Worker(url, { name });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the ${name} worker did not start`)), startMs);
      worker.addEventListener('message', () => (clearTimeout(timer), resolve()), { once: true });
      worker.addEventListener('error', (event) => (clearTimeout(timer), reject(new Error(event.message))), { once: true });
    });
    return worker;
  } catch (error) {
    worker.terminate();
    throw error;
  } finally {
    URL.revokeObjectURL(url);
  }
}
