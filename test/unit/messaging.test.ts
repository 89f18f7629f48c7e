/**
 * The channel host and webviews talk through (src/shared/messaging.ts): two ends wired to each other
 * as VS Code wires a panel to its page, with delivery held back where a test needs to choose the order.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createChannel, type Ask, type Wire } from '../../src/shared/messaging';

type PageSends = {
  notes: { type: 'ready' } | { type: 'error'; message: string };
  asks: { double: Ask<{ n: number }, number>; fail: Ask<{ why: string }, never>; missing: Ask<object, string> };
};
type HostSends = { notes: { type: 'show'; text: string }; asks: Record<never, never> };

/** A page and a host end; what each posts waits in its queue until `deliver` hands it to the other end. */
function pair() {
  const toHost: Wire<PageSends>[] = [];
  const toPage: Wire<HostSends>[] = [];
  const page = createChannel<PageSends, HostSends>((message) => toHost.push(message));
  const host = createChannel<HostSends, PageSends>((message) => toPage.push(message));
  /** Hands over everything posted so far (and what that leads to), until both queues are empty. */
  const deliver = async () => {
    for (let round = 0; round < 20 && (toHost.length || toPage.length || round < 3); round++) {
      for (const message of toHost.splice(0)) host.receive(message);
      for (const message of toPage.splice(0)) page.receive(message);
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { page, host, toHost, toPage, deliver };
}

describe('the message channel', () => {
  test('a request is answered with what the handler returns, matched by id', async () => {
    const { page, host, deliver } = pair();
    host.answer('double', ({ n }) => n * 2);
    const answers = Promise.all([page.request('double', { n: 2 }), page.request('double', { n: 5 }), page.request('double', { n: 7 })]);
    await deliver();
    assert.deepEqual(await answers, [4, 10, 14]);
  });

  test('answers that come back out of order reach the requests that asked', async () => {
    const { page, host, toPage, deliver } = pair();
    const release = new Map<number, () => void>();
    host.answer('double', ({ n }) => new Promise((resolve) => release.set(n, () => resolve(n * 2))));
    const first = page.request('double', { n: 1 });
    const second = page.request('double', { n: 2 });
    await deliver();
    release.get(2)!();
    await new Promise((resolve) => setImmediate(resolve));
    release.get(1)!();
    await new Promise((resolve) => setImmediate(resolve));
    // The second answer really was posted first.
    assert.deepEqual(
      toPage.map((message) => (message as { answer?: unknown }).answer),
      [4, 2],
    );
    await deliver();
    assert.equal(await first, 2);
    assert.equal(await second, 4);
  });

  test('a handler whose answers settle in the order asked has them posted in that order', async () => {
    // As Analyze's host answers image reads and cache lookups: each answer waits for those before it.
    const { page, host, toPage, deliver } = pair();
    let previous: Promise<unknown> = Promise.resolve();
    const release = new Map<number, () => void>();
    host.answer('double', ({ n }) => {
      const ready = new Promise<number>((resolve) => release.set(n, () => resolve(n * 2)));
      const inOrder = previous.then(() => ready);
      previous = inOrder.catch(() => undefined);
      return inOrder;
    });
    const answers = Promise.all([1, 2, 3].map((n) => page.request('double', { n })));
    await deliver();
    for (const n of [3, 2, 1]) release.get(n)!();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      toPage.map((message) => (message as { answer?: unknown }).answer),
      [2, 4, 6],
    );
    await deliver();
    assert.deepEqual(await answers, [2, 4, 6]);
  });

  test("an error thrown by the other side's handler rejects the request with its message", async () => {
    const { page, host, deliver } = pair();
    host.answer('fail', ({ why }) => {
      throw new Error(why);
    });
    const failing = assert.rejects(page.request('fail', { why: 'model.json cannot be read' }), { message: 'model.json cannot be read' });
    await deliver();
    await failing;
  });

  test('a request nobody answers is rejected, not left waiting', async () => {
    const { page, deliver } = pair();
    const waiting = assert.rejects(page.request('missing', {}), { message: 'nothing answers "missing"' });
    await deliver();
    await waiting;
  });

  test('answers to ids not waited for are ignored, and do not settle the requests that are', async () => {
    const { page, host, toPage, deliver } = pair();
    host.answer('double', ({ n }) => n * 2);
    let settled = false;
    const waiting = page.request('double', { n: 3 }).finally(() => (settled = true));
    page.receive({ type: 'answer', requestId: 999, answer: 1 });
    page.receive({ type: 'answer', requestId: 999, error: 'no' });
    page.receive({ type: 'answer', answer: 1 });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false);
    await deliver();
    assert.equal(await waiting, 6);
    // A second answer to the same id, after the first settled it, changes nothing.
    page.receive({ type: 'answer', requestId: 1, error: 'late' });
    assert.equal(await waiting, 6);
    assert.equal(toPage.length, 0);
  });

  test('notifications reach every listener in order, and neither requests nor answers do', async () => {
    const { page, host, deliver } = pair();
    const atHost: string[] = [];
    const atPage: string[] = [];
    host.listen((message) => atHost.push(message.type === 'error' ? `error: ${message.message}` : message.type));
    host.listen((message) => atHost.push(`second ${message.type}`));
    page.listen((message) => atPage.push(message.text));
    host.answer('double', ({ n }) => n * 2);
    page.notify({ type: 'ready' });
    const answer = page.request('double', { n: 1 });
    page.notify({ type: 'error', message: 'bad' });
    host.notify({ type: 'show', text: 'hello' });
    await deliver();
    assert.equal(await answer, 2);
    assert.deepEqual(atHost, ['ready', 'second ready', 'error: bad', 'second error']);
    assert.deepEqual(atPage, ['hello']);
  });

  test('what is not a message is ignored', () => {
    const { page } = pair();
    const heard: unknown[] = [];
    page.listen((message) => heard.push(message));
    for (const junk of [undefined, null, 3, 'ready', {}, { type: 7 }]) page.receive(junk);
    assert.deepEqual(heard, []);
  });
});
