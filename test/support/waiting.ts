/** Waiting, in end-to-end tests, for what a person would wait to see. */
import type { Frame } from 'playwright-core';

/** Polls `check` (a check that throws counts as not yet) until it holds; fails with `describe()` after `timeoutMs`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
  describe = () => 'condition not met',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (
      await Promise.resolve()
        .then(check)
        .catch(() => false)
    )
      return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${describe()} within ${timeoutMs / 1000} s`);
}

/** Waits until the text of `selector` in a webview matches `pattern`. */
export async function waitForText(frame: Frame, selector: string, pattern: RegExp, timeoutMs = 180_000): Promise<void> {
  let seen = '';
  const check = async () => pattern.test((seen = ((await frame.textContent(selector).catch(() => '')) ?? '').trim()));
  await waitFor(check, timeoutMs, () => `${selector} never matched ${pattern} (it says "${seen}")`);
}
