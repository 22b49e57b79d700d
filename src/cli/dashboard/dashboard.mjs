// The dashboard page: renders the snapshot from /api/snapshot, then follows the
// snapshot topic over the WsBridge (docs/ws.md protocol), reconnecting with backoff.
// No framework; every value is written with textContent, never as HTML.
const SNAPSHOT_TOPIC = 'majra/dashboard/snapshot';
const SVG = 'http://www.w3.org/2000/svg';
const STATES = ['pending', 'running', 'completed', 'failed', 'skipped', 'cancelled'];

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  for (const child of children) node.append(child);
  return node;
}

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

function stateClass(status) {
  return STATES.includes(status) ? status : 'pending';
}

/** Column of each step: the longest dependency path leading to it. */
function layers(steps) {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const depth = new Map();
  const visit = (id, seen) => {
    if (depth.has(id)) return depth.get(id);
    if (seen.has(id)) return 0;
    seen.add(id);
    const step = byId.get(id);
    const d =
      step === undefined ? 0 : Math.max(-1, ...step.dependsOn.map((p) => visit(p, seen))) + 1;
    depth.set(id, d);
    return d;
  };
  for (const s of steps) visit(s.id, new Set());
  // Without edges (a workflow the viewer has no definition for), lay the steps in a row.
  if (steps.every((s) => s.dependsOn.length === 0)) steps.forEach((s, i) => depth.set(s.id, i));
  return depth;
}

function runGraph(run) {
  const depth = layers(run.steps);
  const columns = [];
  for (const step of run.steps) {
    const d = depth.get(step.id) ?? 0;
    (columns[d] ??= []).push(step);
  }
  const boxW = 92;
  const boxH = 26;
  const gapX = 36;
  const gapY = 8;
  const rows = Math.max(...columns.map((c) => c.length));
  const width = columns.length * (boxW + gapX) - gapX + 8;
  const height = rows * (boxH + gapY) - gapY + 8;
  const pos = new Map();
  columns.forEach((column, x) => {
    const offset = ((rows - column.length) * (boxH + gapY)) / 2;
    column.forEach((step, y) => {
      pos.set(step.id, { x: 4 + x * (boxW + gapX), y: 4 + offset + y * (boxH + gapY) });
    });
  });
  const done = run.steps.filter((s) => s.status === 'completed').length;
  const running = run.steps.filter((s) => s.status === 'running').map((s) => s.id);
  const label = `Step graph of ${run.runId}: ${done} of ${run.steps.length} steps completed${
    running.length > 0 ? `, running ${running.join(', ')}` : ''
  }`;
  const root = svg('svg', {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: 'img',
    'aria-label': label,
  });
  for (const step of run.steps) {
    const to = pos.get(step.id);
    for (const dep of step.dependsOn) {
      const from = pos.get(dep);
      if (from === undefined || to === undefined) continue;
      root.append(
        svg('line', { x1: from.x + boxW, y1: from.y + boxH / 2, x2: to.x, y2: to.y + boxH / 2 }),
      );
    }
  }
  for (const step of run.steps) {
    const p = pos.get(step.id);
    const group = svg('g', { 'data-step': step.id, 'data-status': step.status });
    const title = svg('title');
    title.textContent = `${step.id}: ${step.status}${step.attempt > 1 ? `, attempt ${step.attempt}` : ''}${
      step.node ? ` on ${step.node}` : ''
    }`;
    group.append(title);
    group.append(
      svg('rect', {
        x: p.x,
        y: p.y,
        width: boxW,
        height: boxH,
        rx: 4,
        class: stateClass(step.status),
      }),
    );
    const text = svg('text', { x: p.x + 6, y: p.y + 17 });
    text.textContent = step.attempt > 1 ? `${step.id} ×${step.attempt}` : step.id;
    group.append(text);
    root.append(group);
  }
  return root;
}

function renderRuns(runs) {
  const container = $('runs');
  if (runs.length === 0) {
    container.replaceChildren(el('p', { class: 'empty' }, 'No runs yet.'));
    return;
  }
  container.replaceChildren(
    ...runs.map((run) => {
      const done = run.steps.filter(
        (s) => s.status === 'completed' || s.status === 'skipped',
      ).length;
      const heading = el(
        'h3',
        {},
        el('span', {}, run.runId),
        el('span', { class: `badge ${stateClass(run.status)}` }, run.status),
        el('span', {}, `${done}/${run.steps.length} steps${run.resumed ? ' · resumed' : ''}`),
      );
      const progress = el('progress', {
        max: run.steps.length,
        value: done,
        'aria-label': `${run.runId} progress`,
      });
      return el(
        'article',
        {
          class: 'run',
          'data-run-id': run.runId,
          'data-status': run.status,
          'aria-label': `Run ${run.runId}, ${run.status}`,
        },
        heading,
        progress,
        runGraph(run),
      );
    }),
  );
}

function rows(tbody, items, cells) {
  tbody.replaceChildren(
    ...items.map((item) => {
      const tr = el('tr');
      for (const [value, cls] of cells(item)) {
        const td = el('td', cls ? { class: cls } : {});
        td.append(value);
        tr.append(td);
      }
      return tr;
    }),
  );
}

function stack(q) {
  const total = q.queued + q.running + q.completed + q.failed + q.cancelled;
  const bar = el('div', {
    class: 'stack',
    role: 'img',
    'aria-label': `${q.queued} queued, ${q.running} running, ${q.completed} completed, ${q.failed} failed, ${q.cancelled} cancelled`,
  });
  if (total === 0) return bar;
  for (const [n, cls] of [
    [q.completed, 'completed'],
    [q.running, 'running'],
    [q.queued, 'pending'],
    [q.failed, 'failed'],
    [q.cancelled, 'skipped'],
  ]) {
    if (n === 0) continue;
    // CSSOM, not a style attribute: the page's CSP forbids inline styles.
    const part = el('span', { class: cls });
    part.style.width = `${(100 * n) / total}%`;
    bar.append(part);
  }
  return bar;
}

function gpus(node) {
  const frag = document.createDocumentFragment();
  node.gpus.forEach((g, i) => {
    const meter = el('meter', {
      min: 0,
      max: 100,
      value: Math.round(g.utilizationPct),
      'aria-label': `${node.nodeId} GPU ${i} utilisation`,
    });
    const temp = g.temperatureC === undefined ? '' : ` ${g.temperatureC} °C`;
    frag.append(
      el(
        'span',
        { class: 'meter' },
        `#${i} `,
        meter,
        ` ${Math.round(g.utilizationPct)}% ${Math.round(g.memoryUsedMb / 1024)}/${Math.round(g.memoryTotalMb / 1024)} GiB${temp}`,
      ),
    );
  });
  return frag;
}

function render(s) {
  $('source').textContent =
    `${s.source}${s.readOnly ? ' · read-only' : ''}${s.done ? ' · all runs finished' : ''}`;
  document.body.dataset.done = String(s.done);
  renderRuns(s.runs);
  rows($('queues').tBodies[0], s.queues, (q) => [
    [q.name],
    [stack(q)],
    [String(q.queued), 'num'],
    [String(q.running), 'num'],
    [String(q.completed), 'num'],
    [String(q.failed), 'num'],
    [String(q.cancelled), 'num'],
    [String(q.enqueuedPerSec), 'num'],
    [String(q.finishedPerSec), 'num'],
  ]);
  rows($('nodes').tBodies[0], s.nodes, (n) => [
    [n.nodeId],
    [el('span', { class: `health-${n.status}` }, n.status)],
    [`${(n.lastSeenAgoMs / 1000).toFixed(1)} s ago`, 'num'],
    [String(n.running), 'num'],
    [String(n.queued), 'num'],
    [gpus(n)],
  ]);
  rows($('topics').tBodies[0], s.topics, (t) => [
    [el('code', {}, t.topic)],
    [String(t.total), 'num'],
    [String(t.perSec), 'num'],
  ]);
  rows($('limiters').tBodies[0], s.limiters, (l) => [
    [l.name],
    [String(l.allowed), 'num'],
    [String(l.rejected), 'num'],
    [String(l.rejectedPerSec), 'num'],
  ]);
}

function setConnection(live) {
  const badge = $('connection');
  badge.textContent = live ? 'live' : 'reconnecting';
  badge.className = `badge ${live ? 'live' : 'offline-conn'}`;
}

let backoff = 250;
function connect() {
  const ws = new WebSocket(`ws://${location.host}/ws`);
  ws.addEventListener('message', (event) => {
    const frame = JSON.parse(event.data);
    if (frame.type === 'hello') {
      ws.send(JSON.stringify({ v: 1, op: 'subscribe', pattern: SNAPSHOT_TOPIC, id: 'snapshot' }));
    } else if (frame.type === 'subscribed') {
      backoff = 250;
      setConnection(true);
    } else if (frame.type === 'message' && frame.topic === SNAPSHOT_TOPIC) {
      render(frame.payload);
    }
  });
  ws.addEventListener('close', () => {
    setConnection(false);
    setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 5000);
  });
}

fetch('/api/snapshot')
  .then((r) => (r.ok ? r.json() : undefined))
  .then((s) => s && render(s))
  .catch(() => undefined)
  .finally(connect);
