// The ComfyOperator console: a client of the router's /v1 API and nothing else. Credentials live in
// sessionStorage and go out as an Authorization header (no cookie, hence no CSRF). No build step.
'use strict';

const AUTH = 'comfy.console.auth';
const WHO = 'comfy.console.who';
const view = document.getElementById('view');
let timers = [];
let aborts = [];

// ---------- small DOM helpers (text only: server data never becomes HTML) ----------
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}
const ago = t => t ? new Date(t).toLocaleString() : '';
const secs = (a, b) => (a && b) ? ((new Date(b) - new Date(a)) / 1000).toFixed(1) + ' s' : '';
const pct = x => (isFinite(x) ? Math.round(x * 100) : 0) + '%';
function toast(message, error) {
  const box = h('div', { class: error ? 'error' : '' }, message);
  document.getElementById('toast').append(box);
  setTimeout(() => box.remove(), 6000);
}
// Polls fn; a failure is shown once (not every tick) and cleared when a poll succeeds again.
function every(ms, fn) {
  let failed = null;
  const tick = () => Promise.resolve().then(fn).then(() => { failed = null; }, e => {
    if (e.message !== 'unauthorized' && e.message !== failed) toast(e.message, true);
    failed = e.message;
  });
  tick(); timers.push(setInterval(tick, ms));
}
function stopAll() { timers.forEach(clearInterval); timers = []; aborts.forEach(a => a.abort()); aborts = []; }

// ---------- API ----------
async function api(path, options = {}) {
  const headers = new Headers(options.headers || {});
  headers.set('Authorization', sessionStorage.getItem(AUTH) || '');
  headers.set('X-Requested-With', 'XMLHttpRequest');
  if (options.json !== undefined) { headers.set('Content-Type', 'application/json'); options.body = JSON.stringify(options.json); }
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401) { signOut('Your credentials were refused; sign in again.'); throw new Error('unauthorized'); }
  return response;
}
async function json(path, options) {
  const response = await api(path, options);
  const body = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new Error(problemText(body, response));
  return body;
}
function problemText(body, response) {
  if (body && (body.detail || body.title)) return (body.field ? body.field + ': ' : '') + (body.detail || body.title);
  return `HTTP ${response.status}`;
}
// An image or file behind the API's credentials, as a blob: URL the page may show or download.
async function blobUrl(path) {
  const response = await api(path);
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return URL.createObjectURL(await response.blob());
}
// SSE over fetch (EventSource cannot send an Authorization header).
async function events(path, onEvent, signal) {
  const response = await api(path, { headers: { Accept: 'text/event-stream' }, signal });
  if (!response.ok || !response.body) return;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end); buffer = buffer.slice(end + 2);
      let type = 'message', data = '', id = null;
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) type = line.slice(6).trim();
        else if (line.startsWith('data:')) data += line.slice(5).trim();
        else if (line.startsWith('id:')) id = line.slice(3).trim();
      }
      let parsed = null; try { parsed = JSON.parse(data); } catch { parsed = data; }
      onEvent(type, parsed, id);
    }
  }
}

// ---------- sign in ----------
function signOut(message) {
  sessionStorage.removeItem(AUTH); sessionStorage.removeItem(WHO);
  stopAll(); renderSignIn(message);
}
function renderSignIn(message) {
  document.getElementById('nav').hidden = true;
  document.getElementById('sign-out').hidden = true;
  document.getElementById('who').textContent = '';
  const error = h('p', { class: 'error', role: 'alert', id: 'signin-error' }, message || '');
  const user = h('input', { id: 'signin-user', name: 'username', autocomplete: 'username' });
  const password = h('input', { id: 'signin-password', name: 'password', type: 'password', autocomplete: 'current-password' });
  const key = h('input', { id: 'signin-key', name: 'apikey', type: 'password', autocomplete: 'off' });
  const form = h('form', { onsubmit: async e => {
    e.preventDefault();
    const header = key.value.trim() ? 'Bearer ' + key.value.trim()
      : 'Basic ' + btoa(unescape(encodeURIComponent(user.value + ':' + password.value)));
    const probe = await fetch('/v1/nodes?limit=1', { headers: { Authorization: header, 'X-Requested-With': 'XMLHttpRequest' } });
    if (!probe.ok) { error.textContent = probe.status === 401 ? 'Wrong user name, password or API key.' : `The router answered HTTP ${probe.status}.`; return; }
    sessionStorage.setItem(AUTH, header);
    sessionStorage.setItem(WHO, key.value.trim() ? 'API key' : user.value);
    route();
  } },
    h('fieldset', {}, h('legend', {}, 'User name and password'),
      h('label', { for: 'signin-user' }, 'User name', user),
      h('label', { for: 'signin-password' }, 'Password', password)),
    h('fieldset', {}, h('legend', {}, 'or an API key'),
      h('label', { for: 'signin-key' }, 'API key', key)),
    error,
    h('button', { class: 'primary', type: 'submit' }, 'Sign in'));
  view.replaceChildren(h('section', { class: 'signin', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Sign in to the router'), form));
  user.focus();
}

// ---------- routing ----------
function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, query] = raw.split('?');
  return { parts: path.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(query || '') };
}
function route() {
  stopAll();
  if (!sessionStorage.getItem(AUTH)) { renderSignIn(); return; }
  document.getElementById('nav').hidden = false;
  document.getElementById('sign-out').hidden = false;
  document.getElementById('who').textContent = 'Signed in: ' + (sessionStorage.getItem(WHO) || '');
  const { parts, query } = parseHash();
  const page = parts[0] || 'overview';
  for (const a of document.querySelectorAll('nav a')) {
    if (a.dataset.page === (page === 'apps' ? 'workflows' : page)) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  const pages = { overview: renderOverview, workers: renderWorkers, workflows: renderWorkflows, apps: renderApp, runs: parts[1] ? renderRun : renderRuns, keys: renderKeys };
  (pages[page] || renderOverview)(parts.slice(1), query).catch(e => { if (e.message !== 'unauthorized') toast(e.message, true); });
}
window.addEventListener('hashchange', route);
document.getElementById('sign-out').addEventListener('click', () => signOut('Signed out.'));

// ---------- overview ----------
async function renderOverview() {
  const cards = h('div', { class: 'cards', id: 'overview-cards' });
  const latest = h('tbody');
  view.replaceChildren(h('h1', {}, 'Overview'), cards,
    h('h2', {}, 'Latest runs'), h('div', { class: 'table-wrap' }, h('table', {}, runHead(), latest)));
  every(2000, async () => {
    // Counts per phase come from X-Total-Count with one row each, so a thousand workers cost no more.
    const count = async phase => {
      const response = await api('/v1/nodes?limit=1' + (phase ? '&phase=' + phase : ''));
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return +response.headers.get('X-Total-Count');
    };
    const names = ['Idle', 'Busy', 'Offline', 'Pending'];
    const [total, counts, runs, queued] = await Promise.all([
      count(''), Promise.all(names.map(count)), json('/v1/runs?limit=100'), json('/v1/runs?status=queued&limit=100')]);
    const phases = Object.fromEntries(names.map((p, i) => [p, counts[i]]));
    const healthy = phases.Idle + phases.Busy;
    const now = Date.now();
    const finishedLastHour = runs.runs.filter(r => r.finishedAt && now - new Date(r.finishedAt) < 3600e3);
    const lastMinute = runs.runs.filter(r => r.finishedAt && now - new Date(r.finishedAt) < 60e3).length;
    const failures = finishedLastHour.filter(r => r.status === 'failed').length;
    const card = (label, value, id) => h('div', { class: 'card', id }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value));
    cards.replaceChildren(
      card('Workers', String(total), 'card-workers'),
      ...['Idle', 'Busy', 'Offline', 'Pending'].map(p => card(p, String(phases[p] || 0), 'card-' + p.toLowerCase())),
      card('Queue depth', queued.runs.length + (queued.nextCursor ? '+' : ''), 'card-queue'),
      card('Runs / min', String(lastMinute), 'card-rate'),
      card('Failure rate (1 h)', finishedLastHour.length ? pct(failures / finishedLastHour.length) : '–', 'card-failures'),
      card('GPU busy', healthy ? pct((phases.Busy || 0) / healthy) : '–', 'card-busy'));
    latest.replaceChildren(...runs.runs.slice(0, 10).map(runRow));
  });
}
function runHead() {
  return h('thead', {}, h('tr', {}, ['Run', 'Status', 'Workflow', 'Key', 'Worker', 'Queued', 'Time on worker'].map(t => h('th', { scope: 'col' }, t))));
}
function runRow(r) {
  return h('tr', {},
    h('td', {}, h('a', { href: '#/runs/' + encodeURIComponent(r.id), class: 'mono' }, r.id)),
    h('td', {}, h('span', { class: 'status status-' + r.status }, r.status)),
    h('td', {}, r.workflow || h('span', { class: 'muted' }, 'graph')),
    h('td', { class: 'mono' }, r.owner || ''),
    h('td', { class: 'mono' }, r.worker || ''),
    h('td', {}, ago(r.queuedAt)),
    h('td', {}, secs(r.startedAt || r.dispatchedAt, r.finishedAt)));
}

// ---------- workers ----------
async function renderWorkers(_, query) {
  const pageSize = 50;
  const state = { phase: query.get('phase') || '', source: query.get('source') || '', q: query.get('q') || '', offset: +(query.get('offset') || 0) };
  const phase = h('select', { id: 'filter-phase' }, ['', 'Idle', 'Busy', 'Offline', 'Pending'].map(p => h('option', { value: p, selected: p === state.phase }, p || 'any')));
  const source = h('select', { id: 'filter-source' }, ['', 'api', 'config', 'file', 'kubernetes'].map(s => h('option', { value: s, selected: s === state.source }, s || 'any')));
  const q = h('input', { id: 'filter-q', type: 'search', value: state.q, placeholder: 'address or label' });
  const apply = () => { state.phase = phase.value; state.source = source.value; state.q = q.value; state.offset = 0; load(); };
  phase.addEventListener('change', apply); source.addEventListener('change', apply);
  q.addEventListener('keydown', e => { if (e.key === 'Enter') { e.preventDefault(); apply(); } });

  const url = h('input', { id: 'add-url', name: 'url', required: true, placeholder: 'http://gpu-1:8188' });
  const labels = h('input', { id: 'add-labels', name: 'labels', placeholder: 'gpu=4090, zone=a' });
  const maxQueue = h('input', { id: 'add-max-queue', name: 'maxQueue', type: 'number', min: 0, max: 1000 });
  const probe = h('input', { id: 'add-probe', type: 'checkbox', checked: true });
  const addError = h('p', { class: 'error', role: 'alert' });
  const add = h('form', { class: 'inline', 'aria-label': 'Add a worker', onsubmit: async e => {
    e.preventDefault(); addError.textContent = '';
    const body = { url: url.value.trim() };
    if (labels.value.trim()) body.labels = Object.fromEntries(labels.value.split(',').map(p => p.split('=').map(s => s.trim())).filter(p => p[0]));
    if (maxQueue.value !== '') body.maxQueue = +maxQueue.value;
    try {
      await json('/v1/nodes' + (probe.checked ? '' : '?probe=false'), { method: 'POST', json: body });
      toast('Added ' + body.url); url.value = ''; labels.value = ''; maxQueue.value = ''; load();
    } catch (err) { if (err.message !== 'unauthorized') addError.textContent = err.message; }
  } },
    h('label', { for: 'add-url' }, 'Address', url),
    h('label', { for: 'add-labels' }, 'Labels', labels),
    h('label', { for: 'add-max-queue' }, 'Max queue', maxQueue),
    h('label', { class: 'check', for: 'add-probe' }, probe, 'Check it answers as ComfyUI'),
    h('button', { class: 'primary', type: 'submit' }, 'Add worker'));

  const body = h('tbody', { id: 'workers-body' });
  const info = h('span', { class: 'muted', id: 'workers-total' });
  const prev = h('button', { type: 'button', onclick: () => { state.offset = Math.max(0, state.offset - pageSize); load(); } }, 'Previous');
  const next = h('button', { type: 'button', onclick: () => { state.offset += pageSize; load(); } }, 'Next');
  view.replaceChildren(h('h1', {}, 'Workers'),
    h('h2', {}, 'Add a worker'), add, addError,
    h('div', { class: 'toolbar', role: 'search' },
      h('label', { for: 'filter-phase' }, 'Phase', phase), h('label', { for: 'filter-source' }, 'Source', source),
      h('label', { for: 'filter-q' }, 'Search', q)),
    h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, ['Address', 'Source', 'Phase', 'Health (active / passive)', 'Queue', 'Current run', 'GPU / VRAM', 'Checkpoint', 'Labels', 'Last error', 'Actions'].map(t => h('th', { scope: 'col' }, t)))),
      body)),
    h('div', { class: 'pager' }, prev, next, info));

  async function load() {
    const params = new URLSearchParams({ offset: state.offset, limit: pageSize });
    for (const k of ['phase', 'source', 'q']) if (state[k]) params.set(k, state[k]);
    history.replaceState(null, '', '#/workers?' + new URLSearchParams(Object.entries(state).filter(([, v]) => v)).toString());
    const response = await api('/v1/nodes?' + params);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const nodes = await response.json();
    const total = +response.headers.get('X-Total-Count');
    info.textContent = total ? `${state.offset + 1}–${state.offset + nodes.length} of ${total}` : 'No workers match.';
    prev.disabled = state.offset === 0; next.disabled = state.offset + nodes.length >= total;
    // Replace only the visible page's rows (at most pageSize), keeping focus where it was.
    const focused = document.activeElement && document.activeElement.dataset.focusKey;
    body.replaceChildren(...nodes.map(workerRow));
    if (focused) body.querySelector(`[data-focus-key="${CSS.escape(focused)}"]`)?.focus();
  }
  async function act(node, how) {
    try {
      if (how === 'cordon' || how === 'uncordon') await json('/v1/nodes/' + node.id, { method: 'PATCH', json: { cordoned: how === 'cordon' } });
      else if (how === 'drain') await json('/v1/nodes/' + node.id, { method: 'DELETE' });
      else if (how === 'remove' && confirm(`Remove ${node.address} now, interrupting what it runs?`)) await json('/v1/nodes/' + node.id + '?force=true', { method: 'DELETE' });
      load();
    } catch (err) { if (err.message !== 'unauthorized') toast(err.message, true); }
  }
  function workerRow(n) {
    const gpu = (n.gpus || []).map(g => `${g.name} ${((g.vramTotal - g.vramFree) / 2 ** 30).toFixed(1)}/${(g.vramTotal / 2 ** 30).toFixed(1)} GiB`).join('; ');
    const button = (how, label) => h('button', { type: 'button', 'data-focus-key': n.id + how, 'aria-label': `${label} ${n.address}`, onclick: () => act(n, how) }, label);
    const actions = [];
    if (n.source !== 'kubernetes' && !n.draining) actions.push(n.cordoned ? button('uncordon', 'Uncordon') : button('cordon', 'Cordon'));
    if (!n.readOnly && !n.draining) actions.push(button('drain', 'Drain'), button('remove', 'Remove'));
    return h('tr', { 'data-address': n.address },
      h('td', { class: 'mono' }, n.address),
      h('td', {}, n.source),
      h('td', {}, h('span', { class: 'phase phase-' + n.phase }, n.phase), n.draining ? ' draining' : n.cordoned ? ' cordoned' : ''),
      h('td', {}, `${n.activeHealth} / ${n.passiveHealth}`),
      h('td', {}, `${n.assigned} ours` + (n.queueRemaining != null ? `, ${n.queueRemaining} on worker` : '')),
      h('td', {}, n.currentRun ? h('a', { href: '#/runs/' + encodeURIComponent(n.currentRun), class: 'mono' }, n.currentRun) : ''),
      h('td', {}, gpu),
      h('td', { class: 'mono' }, n.checkpoint || ''),
      h('td', {}, Object.entries(n.labels || {}).map(([k, v]) => `${k}=${v}`).join(', ')),
      h('td', { class: 'error' }, n.phase === 'Offline' ? (n.lastError || '') : ''),
      h('td', {}, actions));
  }
  every(3000, load);
}

// ---------- workflows and their apps ----------
async function renderWorkflows() {
  const workflows = await json('/v1/workflows');
  view.replaceChildren(h('h1', {}, 'Workflows'),
    h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, ['Workflow', 'Source', 'Description', 'Valid', 'Ready workers', ''].map(t => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, workflows.map(w => h('tr', {},
        h('td', {}, h('a', { href: '#/apps/' + encodeURIComponent(w.name) }, w.name)),
        h('td', {}, w.source),
        h('td', {}, w.description || ''),
        h('td', {}, w.valid ? 'yes' : h('span', { class: 'error' }, 'no: ' + w.problems.join('; '))),
        h('td', {}, `${w.readiness.ready} of ${w.readiness.matching}` + (w.readiness.reason ? ` (${w.readiness.reason})` : '')),
        h('td', {}, h('a', { href: '#/apps/' + encodeURIComponent(w.name) }, 'Open app'))))))));
}

async function renderApp(parts, query) {
  const name = parts[0];
  const workflow = await json('/v1/workflows/' + encodeURIComponent(name));
  const fields = [];
  const form = h('form', { id: 'app-form', novalidate: false });
  for (const input of workflow.inputs) {
    const field = appField(input, query.get(input.name));
    fields.push(field); form.append(field.element);
  }
  const status = h('p', { role: 'status', id: 'app-status', class: 'muted' });
  const progress = h('progress', { id: 'app-progress', max: 1, value: 0, 'aria-label': 'Progress' });
  const preview = h('img', { class: 'preview', id: 'app-preview', alt: 'Live preview', hidden: true });
  const results = h('div', { class: 'images', id: 'app-results' });
  const curl = h('pre', { id: 'app-curl' });
  const python = h('pre', { id: 'app-python' });
  const run = h('button', { class: 'primary', type: 'submit', id: 'app-run' }, 'Run');
  const share = h('a', { id: 'app-share', href: location.hash }, 'Shareable link to these inputs');
  form.append(run, share);
  const values = () => Object.fromEntries(fields.map(f => [f.input.name, f.value()]).filter(([, v]) => v !== undefined));
  const refresh = () => {
    const v = values();
    const shareable = new URLSearchParams(Object.entries(v).filter(([, x]) => typeof x !== 'object').map(([k, x]) => [k, String(x)]));
    share.href = '#/apps/' + encodeURIComponent(name) + (shareable.toString() ? '?' + shareable : '');
    history.replaceState(null, '', share.href);
    const endpoint = location.origin + workflow.links.runs;
    const body = JSON.stringify(v);
    curl.textContent = `curl -X POST ${endpoint} \\\n  -H "Authorization: Bearer $COMFY_API_KEY" \\\n  -H "Content-Type: application/json" \\\n  -d '${body.replace(/'/g, "'\\''")}'`;
    python.textContent = `import os, requests\n\nrun = requests.post(\n    "${endpoint}",\n    headers={"Authorization": "Bearer " + os.environ["COMFY_API_KEY"]},\n    json=${JSON.stringify(v, null, 4).replace(/\btrue\b/g, 'True').replace(/\bfalse\b/g, 'False').replace(/\bnull\b/g, 'None').replace(/\n/g, '\n    ')},\n).json()\nprint(run["id"], run["status"])`;
  };
  form.addEventListener('input', refresh); form.addEventListener('change', refresh);
  form.addEventListener('submit', async e => {
    e.preventDefault();
    if (!form.reportValidity()) return;
    run.disabled = true; results.replaceChildren(); preview.hidden = true; progress.value = 0;
    status.textContent = 'Submitting…';
    try {
      const files = fields.filter(f => f.file && f.file());
      let options;
      if (files.length) {
        const data = new FormData();
        for (const f of fields) { const v = f.file && f.file() ? f.file() : f.value(); if (v !== undefined) data.append(f.input.name, v instanceof File ? v : (typeof v === 'object' ? JSON.stringify(v) : String(v))); }
        options = { method: 'POST', body: data };
      } else {
        options = { method: 'POST', json: values() };
      }
      const submitted = await json(workflow.links.runs, options);
      status.replaceChildren('Run ', h('a', { href: '#/runs/' + submitted.id, class: 'mono' }, submitted.id), ' ', submitted.status);
      await follow(submitted.id, { status, progress, preview, results });
    } catch (err) { if (err.message !== 'unauthorized') status.textContent = err.message; }
    finally { run.disabled = false; }
  });
  view.replaceChildren(h('h1', {}, workflow.name),
    workflow.description ? h('p', {}, workflow.description) : '',
    workflow.valid ? '' : h('p', { class: 'error' }, 'This workflow is not valid: ' + workflow.problems.join('; ')),
    h('div', { class: 'app' },
      h('section', { 'aria-label': 'Inputs' }, form),
      h('section', { 'aria-label': 'Result' }, status, progress, preview, results,
        h('h2', {}, 'The same request with curl'), curl, h('h2', {}, 'and with Python'), python)));
  refresh();
}

function appField(input, shared) {
  const id = 'input-' + input.name;
  const labelText = input.name + (input.description ? ' — ' + input.description : '');
  const label = h('label', { for: id, class: input.required ? 'required' : '' }, input.name);
  const desc = input.description ? h('span', { class: 'desc', id: id + '-desc' }, input.description) : '';
  const initial = shared ?? (input.default ?? '');
  let control, value, file;
  if (input.type === 'boolean') {
    control = h('input', { id, type: 'checkbox', checked: shared !== null ? shared === 'true' : input.default === true, 'aria-describedby': desc ? id + '-desc' : null });
    value = () => control.checked;
    return { input, value, element: h('div', { class: 'field' }, h('label', { class: 'check', for: id }, control, input.name), desc) };
  }
  if (input.enum && input.enum.length) {
    control = h('select', { id, required: input.required, 'aria-describedby': desc ? id + '-desc' : null },
      input.required ? '' : h('option', { value: '' }, '(default)'),
      input.enum.map(v => h('option', { value: v, selected: String(initial) === v }, v)));
    value = () => control.value === '' ? undefined : control.value;
  } else if (input.type === 'integer' || input.type === 'number') {
    const step = input.type === 'integer' ? 1 : 'any';
    const number = h('input', { id, type: 'number', step, min: input.min, max: input.max, value: initial, required: input.required, 'aria-describedby': desc ? id + '-desc' : null });
    value = () => number.value === '' ? undefined : Number(number.value);
    if (input.min != null && input.max != null && input.max - input.min <= 10000) {
      const slider = h('input', { type: 'range', min: input.min, max: input.max, step: input.type === 'integer' ? 1 : (input.max - input.min) / 100, value: initial === '' ? input.min : initial, 'aria-label': input.name + ' slider', tabindex: -1 });
      slider.addEventListener('input', () => { number.value = slider.value; });
      number.addEventListener('input', () => { slider.value = number.value; });
      control = h('div', { class: 'slider' }, slider, number);
    } else control = number;
  } else if (input.type === 'image') {
    const url = h('input', { id, type: 'url', value: typeof initial === 'string' ? initial : '', placeholder: 'https://… or upload', 'aria-describedby': desc ? id + '-desc' : null });
    const upload = h('input', { id: id + '-file', type: 'file', accept: 'image/*' });
    const shown = h('img', { class: 'preview', alt: input.name + ' preview', hidden: true });
    const show = () => {
      const f = upload.files[0];
      if (f) { shown.src = URL.createObjectURL(f); shown.hidden = false; }
      else if (url.value) { shown.src = url.value; shown.hidden = false; } else shown.hidden = true;
    };
    url.addEventListener('change', show); upload.addEventListener('change', show);
    url.required = input.required;
    upload.addEventListener('change', () => { url.required = input.required && !upload.files.length; });
    value = () => url.value ? url.value : undefined;
    file = () => upload.files[0];
    return { input, value, file, element: h('div', { class: 'field' }, label, desc, url,
      h('label', { for: id + '-file' }, 'or upload an image', upload), shown) };
  } else {
    control = h('textarea', { id, required: input.required, 'aria-describedby': desc ? id + '-desc' : null, rows: 3 }, String(initial));
    value = () => control.value === '' && !input.required ? undefined : control.value;
  }
  label.title = labelText;
  return { input, value, file, element: h('div', { class: 'field' }, label, desc, control) };
}

// Follows a run's events until it ends: progress, live previews, then the images.
async function follow(id, ui) {
  const abort = new AbortController(); aborts.push(abort);
  let final = null;
  await events(`/v1/runs/${encodeURIComponent(id)}/events`, async (type, data) => {
    if (type === 'progress' && data) ui.progress.value = data.fraction ?? 0;
    else if (type === 'preview') { try { ui.preview.src = await blobUrl(`/v1/runs/${encodeURIComponent(id)}/preview`); ui.preview.hidden = false; } catch { /* the next preview replaces it */ } }
    else if (type === 'state' || type === 'started' || type === 'dispatching') ui.status.replaceChildren('Run ', h('a', { href: '#/runs/' + id, class: 'mono' }, id), ' ', data.status || type);
    if (['succeeded', 'failed', 'cancelled'].includes(type) || (type === 'state' && ['succeeded', 'failed', 'cancelled'].includes(data.status))) final = type === 'state' ? data.status : type;
  }, abort.signal).catch(() => {});
  const run = await json(`/v1/runs/${encodeURIComponent(id)}`);
  ui.status.replaceChildren('Run ', h('a', { href: '#/runs/' + id, class: 'mono' }, id), ' ', h('span', { class: 'status status-' + run.status }, run.status),
    run.error ? h('span', { class: 'error' }, ` ${run.error.nodeType || ''} ${run.error.message || ''}`) : '');
  if (run.status === 'succeeded') ui.progress.value = 1;
  ui.results.replaceChildren(...await Promise.all(run.outputs.map(outputFigure)));
  return final;
}
async function outputFigure(o) {
  const src = await blobUrl(o.url);
  const image = o.contentType.startsWith('image/');
  return h('figure', {}, image ? h('img', { src, alt: 'Output ' + o.name }) : '',
    h('figcaption', {}, h('a', { href: src, download: o.name }, 'Download ' + o.name)));
}

// ---------- runs ----------
async function renderRuns(_, query) {
  const status = h('select', { id: 'runs-status' }, ['', 'queued', 'dispatching', 'running', 'succeeded', 'failed', 'cancelled'].map(s => h('option', { value: s, selected: s === (query.get('status') || '') }, s || 'any')));
  const workflow = h('input', { id: 'runs-workflow', value: query.get('workflow') || '', placeholder: 'name' });
  const key = h('input', { id: 'runs-key', value: query.get('key') || '', placeholder: 'key-… or user-…' });
  const body = h('tbody');
  const more = h('button', { type: 'button' }, 'More');
  let cursor = null;
  const load = async append => {
    const params = new URLSearchParams({ limit: 50 });
    if (status.value) params.set('status', status.value);
    if (workflow.value) params.set('workflow', workflow.value);
    if (key.value) params.set('key', key.value);
    if (append && cursor) params.set('cursor', cursor);
    const page = await json('/v1/runs?' + params);
    cursor = page.nextCursor;
    if (append) body.append(...page.runs.map(runRow)); else body.replaceChildren(...page.runs.map(runRow));
    more.disabled = !cursor;
  };
  const apply = () => {
    history.replaceState(null, '', '#/runs?' + new URLSearchParams(Object.entries({ status: status.value, workflow: workflow.value, key: key.value }).filter(([, v]) => v)));
    load(false);
  };
  status.addEventListener('change', apply);
  for (const input of [workflow, key]) input.addEventListener('keydown', e => { if (e.key === 'Enter') apply(); });
  more.addEventListener('click', () => load(true));
  view.replaceChildren(h('h1', {}, 'Runs'),
    h('div', { class: 'toolbar', role: 'search' },
      h('label', { for: 'runs-status' }, 'Status', status), h('label', { for: 'runs-workflow' }, 'Workflow', workflow), h('label', { for: 'runs-key' }, 'Key', key),
      h('button', { type: 'button', onclick: apply }, 'Filter')),
    h('div', { class: 'table-wrap' }, h('table', {}, runHead(), body)), h('div', { class: 'pager' }, more));
  await load(false);
}

async function renderRun(parts) {
  const id = parts[0];
  const run = await json('/v1/runs/' + encodeURIComponent(id));
  const timeline = h('ol', { class: 'timeline', id: 'run-timeline' });
  const outputs = h('div', { class: 'images', id: 'run-outputs' });
  const webhooks = h('tbody');
  const ended = ['succeeded', 'failed', 'cancelled'].includes(run.status);
  const cancel = h('button', { type: 'button', class: 'danger', id: 'run-cancel', disabled: ended, onclick: async () => {
    try { await json('/v1/runs/' + encodeURIComponent(id), { method: 'DELETE' }); toast('Cancel requested'); } catch (e) { if (e.message !== 'unauthorized') toast(e.message, true); }
  } }, 'Cancel');
  const again = h('button', { type: 'button', id: 'run-again', onclick: async () => {
    try { const next = await json('/v1/runs/' + encodeURIComponent(id) + '/rerun', { method: 'POST' }); location.hash = '#/runs/' + next.id; } catch (e) { if (e.message !== 'unauthorized') toast(e.message, true); }
  } }, 'Run again');
  const statusLine = h('span', { class: 'status status-' + run.status, id: 'run-status' }, run.status);
  const facts = h('dl', { class: 'facts' },
    h('dt', {}, 'Status'), h('dd', {}, statusLine),
    h('dt', {}, 'Workflow'), h('dd', {}, run.workflow ? h('a', { href: '#/apps/' + encodeURIComponent(run.workflow) }, run.workflow) : 'graph'),
    h('dt', {}, 'Key'), h('dd', { class: 'mono' }, run.owner || ''),
    h('dt', {}, 'Worker'), h('dd', { class: 'mono' }, run.worker || ''),
    h('dt', {}, 'Attempts'), h('dd', {}, String(run.attempts)),
    h('dt', {}, 'Priority'), h('dd', {}, String(run.priority)),
    h('dt', {}, 'Reason'), h('dd', {}, run.reason || ''),
    h('dt', {}, 'Failure'), h('dd', { class: 'error', id: 'run-failure' }, run.error ? `${run.error.code}: node ${run.error.nodeId || '?'} (${run.error.nodeType || '?'}): ${run.error.message}` : ''));
  view.replaceChildren(h('h1', {}, 'Run ', h('span', { class: 'mono' }, id)),
    h('div', { class: 'toolbar' }, cancel, again), facts,
    h('h2', {}, 'Timeline'), timeline,
    h('h2', {}, 'Outputs'), outputs,
    h('h2', {}, 'Webhook deliveries'), h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, ['Event', 'URL', 'Status', 'Attempts', 'Last answer'].map(t => h('th', { scope: 'col' }, t)))), webhooks)));
  outputs.replaceChildren(...await Promise.all(run.outputs.map(outputFigure)));
  json(`/v1/runs/${encodeURIComponent(id)}/webhooks`).then(list => webhooks.replaceChildren(...(list || []).map(d => h('tr', {},
    h('td', {}, d.event), h('td', { class: 'mono' }, d.url), h('td', {}, d.status), h('td', {}, String(d.attempts)),
    h('td', {}, d.lastStatusCode ? 'HTTP ' + d.lastStatusCode : (d.lastError || '')))))).catch(() => {});
  // The whole history from the first event, then live until it ends.
  const abort = new AbortController(); aborts.push(abort);
  let lastProgress = null;
  events(`/v1/runs/${encodeURIComponent(id)}/events?lastEventId=0`, async (type, data) => {
    const at = data && (data.at || data.queuedAt) ? new Date(data.at || data.queuedAt).toLocaleTimeString() : '';
    let text = type;
    if (type === 'progress') {
      text = `progress ${Math.round((data.fraction || 0) * 100)}%` + (data.node ? ` (node ${data.node})` : '');
      if (lastProgress) { lastProgress.textContent = `${at} ${text}`; return; }
    }
    if (data && data.worker && type === 'dispatching') text += ' → ' + data.worker;
    if (data && data.reason) text += ': ' + data.reason;
    if (data && data.message) text += ': ' + data.message;
    const item = h('li', {}, `${at} ${text}`);
    lastProgress = type === 'progress' ? item : null;
    timeline.append(item);
    if (['succeeded', 'failed', 'cancelled'].includes(type)) {
      const now = await json('/v1/runs/' + encodeURIComponent(id));
      statusLine.textContent = now.status; statusLine.className = 'status status-' + now.status;
      cancel.disabled = true;
      outputs.replaceChildren(...await Promise.all(now.outputs.map(outputFigure)));
      if (now.error) document.getElementById('run-failure').textContent = `${now.error.code}: node ${now.error.nodeId || '?'} (${now.error.nodeType || '?'}): ${now.error.message}`;
    }
  }, abort.signal).catch(() => {});
}

// ---------- keys ----------
async function renderKeys(_, query) {
  const name = h('input', { id: 'key-name', required: true, maxlength: 100 });
  const admin = h('input', { id: 'key-admin', type: 'checkbox' });
  const created = h('div', { id: 'key-created', 'aria-live': 'polite' });
  const body = h('tbody', { id: 'keys-body' });
  const windowSelect = h('select', { id: 'usage-window' }, ['day', 'week'].map(w => h('option', { value: w, selected: w === (query.get('window') || 'day') }, 'last ' + w)));
  const byKey = h('tbody', { id: 'usage-keys' });
  const byWorkflow = h('tbody', { id: 'usage-workflows' });
  const form = h('form', { class: 'inline', 'aria-label': 'Create a key', onsubmit: async e => {
    e.preventDefault();
    try {
      const key = await json('/v1/keys', { method: 'POST', json: { name: name.value, admin: admin.checked } });
      created.replaceChildren(h('p', {}, 'Copy the key now: it is shown this once.'),
        h('div', { class: 'secret mono', id: 'key-secret', tabindex: 0 }, key.key));
      name.value = ''; admin.checked = false; loadKeys();
    } catch (err) { if (err.message !== 'unauthorized') toast(err.message, true); }
  } },
    h('label', { for: 'key-name' }, 'Name', name), h('label', { class: 'check', for: 'key-admin' }, admin, 'Administrator (manages workers and keys)'),
    h('button', { class: 'primary', type: 'submit' }, 'Create key'));
  const usageHead = first => h('thead', {}, h('tr', {}, [first, 'Runs', 'Failures', 'GPU-seconds'].map(t => h('th', { scope: 'col' }, t))));
  const usageRow = t => h('tr', {}, h('td', { class: 'mono' }, t.name || '(none)'), h('td', {}, String(t.runs)), h('td', {}, String(t.failures)), h('td', {}, t.gpuSeconds.toFixed(1)));
  async function loadKeys() {
    const keys = await json('/v1/keys');
    body.replaceChildren(...keys.map(k => h('tr', { 'data-key': k.id },
      h('td', { class: 'mono' }, k.id), h('td', {}, k.name || ''), h('td', {}, k.source), h('td', {}, k.admin ? 'yes' : 'no'),
      h('td', {}, ago(k.createdAt)), h('td', {}, k.revokedAt ? 'revoked ' + ago(k.revokedAt) : 'active'),
      h('td', {}, k.readOnly || k.revokedAt ? '' : h('button', { type: 'button', class: 'danger', 'aria-label': 'Revoke ' + k.id, onclick: async () => {
        if (!confirm(`Revoke ${k.id} (${k.name})? Requests with it are refused at once.`)) return;
        try { await json('/v1/keys/' + encodeURIComponent(k.id), { method: 'DELETE' }); loadKeys(); } catch (err) { if (err.message !== 'unauthorized') toast(err.message, true); }
      } }, 'Revoke')))));
  }
  async function loadUsage() {
    const usage = await json('/v1/usage?window=' + windowSelect.value);
    byKey.replaceChildren(...usage.byKey.map(usageRow));
    byWorkflow.replaceChildren(...usage.byWorkflow.map(usageRow));
  }
  windowSelect.addEventListener('change', loadUsage);
  view.replaceChildren(h('h1', {}, 'API keys'), form, created,
    h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, ['Id', 'Name', 'Source', 'Admin', 'Created', 'State', ''].map(t => h('th', { scope: 'col' }, t)))), body)),
    h('h2', {}, 'Usage'), h('div', { class: 'toolbar' }, h('label', { for: 'usage-window' }, 'Window', windowSelect)),
    h('div', { class: 'app' },
      h('table', { 'aria-label': 'Usage per key' }, usageHead('Key'), byKey),
      h('table', { 'aria-label': 'Usage per workflow' }, usageHead('Workflow'), byWorkflow)));
  const forbidden = await api('/v1/keys');
  if (forbidden.status === 403) { view.replaceChildren(h('h1', {}, 'API keys'), h('p', {}, 'Only administrators manage keys: the Basic user, keys from the configuration, and keys created as administrator.')); return; }
  await Promise.all([loadKeys(), loadUsage()]);
}

route();
