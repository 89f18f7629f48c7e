/**
 * A webview's long computation shown in VS Code's progress notification: opened at the first report,
 * advanced by later ones, closed at the end; its Cancel button calls `onCancel`.
 */
import * as vscode from 'vscode';

export class WebviewProgress implements vscode.Disposable {
  private end: (() => void) | undefined;
  private report: ((done: number, total: number) => void) | undefined;

  constructor(private readonly onCancel: () => void) {}

  show(title: string, done: number, total: number): void {
    if (!this.report) {
      void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
        let reported = 0;
        token.onCancellationRequested(this.onCancel);
        this.report = (doneNow, totalNow) => {
          const percent = (100 * doneNow) / Math.max(1, totalNow);
          progress.report({ increment: percent - reported, message: `${doneNow} of ${totalNow}` });
          reported = percent;
        };
        return new Promise<void>((resolve) => {
          this.end = () => {
            this.report = undefined;
            this.end = undefined;
            resolve();
          };
        });
      });
    }
    this.report?.(done, total);
  }

  dispose(): void {
    this.end?.();
  }
}
