/**
 * Progress of a long computation for VS Code's notification, thinned out: nothing for the first
 * second (work that ends by then needs neither the notification nor its Cancel), then at most four
 * updates a second. The notification is drawn on the thread the webview runs on in code-server, in
 * software where there is no GPU: one update per batch of a folder pass cost a fifth of the pass,
 * and the notification appearing at half a second slowed passes that were about to end.
 */
const FIRST_AFTER_MS = 1000;
const EVERY_MS = 250;

export function progressReports(report: (done: number, total: number) => void): (done: number, total: number) => void {
  const started = performance.now();
  let last = -Infinity;
  return (done, total) => {
    const now = performance.now();
    if (now - started < FIRST_AFTER_MS || now - last < EVERY_MS) return;
    last = now;
    report(done, total);
  };
}
