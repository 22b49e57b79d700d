import { describe, expect, it } from 'vitest';
import { ProgressView, type ViewStream } from './progress.js';
import { RateMeter, TopicCounter, type Snapshot } from './snapshot.js';

function stream(isTTY: boolean): ViewStream & { text: string } {
  const out = {
    text: '',
    isTTY,
    columns: 120,
    write(chunk: string) {
      out.text += chunk;
      return true;
    },
  };
  return out;
}

const snapshot: Snapshot = {
  v: 1,
  at: 0,
  source: 'test',
  readOnly: true,
  done: false,
  runs: [
    {
      runId: 'run-1',
      workflowId: 'w',
      status: 'running',
      resumed: false,
      startedAt: 0,
      completedAt: null,
      steps: [
        { id: 'a', dependsOn: [], status: 'completed', attempt: 1 },
        { id: 'b', dependsOn: ['a'], status: 'running', attempt: 1 },
      ],
    },
  ],
  queues: [],
  nodes: [],
  topics: [],
  limiters: [{ name: 'api', allowed: 3, rejected: 1, rejectedPerSec: 0 }],
};

describe('ProgressView', () => {
  it('redraws in place on a TTY: cursor up over the last frame, never a screen clear', () => {
    const out = stream(true);
    const view = new ProgressView(out, { color: false });
    view.header(['title']);
    view.frame(snapshot);
    const first = out.text;
    expect(first).not.toContain('\u001b[2J');
    const lines = first.split('\n').length - 1;
    view.frame(snapshot);
    const second = out.text.slice(first.length);
    expect(second).toContain(`\u001b[${lines}F`);
    expect(second).not.toContain('\u001b[2J');
    expect(second).toContain('run-1');
    expect(second).toContain(' 1/2 ');
    view.stop();
    expect(out.text.endsWith('\u001b[?25h')).toBe(true);
  });

  it('prints plain lines without escape codes when not a TTY', () => {
    const out = stream(false);
    const view = new ProgressView(out);
    view.header(['title']);
    view.frame(snapshot);
    view.event({
      type: 'step',
      runId: 'run-1',
      workflowId: 'w',
      stepId: 'b',
      status: 'failed',
      attempt: 1,
      retryInMs: null,
      fallbackStepId: null,
      error: 'boom',
      at: 0,
    });
    view.log('done');
    expect(out.text).toBe('title\nstep run-1 b failed attempt=1 (boom)\ndone\n');
  });
});

describe('RateMeter and TopicCounter', () => {
  it('computes a per-second rate over the window', () => {
    const meter = new RateMeter(3000);
    expect(meter.sample(0, 0)).toBe(0);
    expect(meter.sample(1000, 10)).toBe(10);
    expect(meter.sample(2000, 30)).toBe(15);
  });

  it('groups topics by their first two levels and stays bounded', () => {
    const counter = new TopicCounter(2);
    for (const t of ['a/b/c', 'a/b/d', 'x/y', 'p/q', 'r/s']) counter.count(t);
    const views = counter.views(0);
    expect(views.map((v) => [v.topic, v.total])).toEqual([
      ['a/b', 2],
      ['other', 2],
      ['x/y', 1],
    ]);
  });
});
