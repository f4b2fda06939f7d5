/* Cairn web UI: reads the master's JSON endpoints and draws the overview.
 *
 * Plain JavaScript, no framework, no build step. Every URL is relative
 * (the page is /ui/, the API one level up), so the UI works behind a
 * reverse proxy on a sub-path. Every string from the cluster goes into
 * the page as text (textContent / createTextNode), never as HTML: task
 * names and messages come from whoever launched them.
 *
 * The page polls: every POLL_MS after a good answer, doubling up to
 * MAX_POLL_MS while requests fail or are slow, so a struggling master is
 * not hammered. document.body.dataset.ready is "1" after the first
 * successful load (tests wait for it).
 *
 * Operator actions (kill a task, drain or undrain an agent, tear down a
 * framework) POST to the master after an in-page confirmation naming
 * what will happen. The operator token typed in the header is kept in
 * sessionStorage only (gone with the tab) and sent as a bearer token. */
'use strict';

const POLL_MS = 3000;
const MAX_POLL_MS = 30000;
const SLOW_MS = 2000;           /* an answer slower than this backs off too */
const TIMEOUT_MS = 10000;
const PAGE = 50;

const ui = {
    delay: POLL_MS,
    timer: null,
    offset: 0,
    total: 0,
    details: null,              /* {id, framework_id, state} of the task shown */
    log: null,                  /* {key, offset, text, decoder}: its output shown */
    scope: null,                /* {agent_id | framework_id, label}: the tasks shown */
    hostnames: new Map(),       /* agent id -> hostname, for the task table */
    fwnames: new Map(),         /* framework id -> name */
    pending: null,              /* the action awaiting confirmation */
};

const TOKEN_KEY = 'cairn-operator-token';
const TERMINAL = new Set(['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR',
                          'TASK_LOST', 'TASK_DROPPED', 'TASK_GONE']);

function $(id) {
    return document.getElementById(id);
}

/* An element with text children; attrs as properties (never innerHTML). */
function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
        if (k === 'dataset')
            Object.assign(e.dataset, v);
        else
            e[k] = v;
    }
    for (const c of children)
        e.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
}

function setText(id, text) {
    $(id).textContent = String(text);
}

function clear(node) {
    while (node.firstChild)
        node.removeChild(node.firstChild);
}

async function getJSON(path) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
    try {
        const r = await fetch(path, { cache: 'no-store', signal: ctl.signal });
        const body = await r.json().catch(() => null);
        if (!r.ok)
            throw new Error(path + ': ' + r.status + (body && body.error ? ' ' + body.error : ''));
        return body;
    } finally {
        clearTimeout(timer);
    }
}

function token() {
    try {
        return sessionStorage.getItem(TOKEN_KEY) || '';
    } catch (e) {
        return '';
    }
}

/* POSTs an operator action; resolves to the JSON answer, or throws with
   the master's error text (401, 403, 404, 409...). */
async function postJSON(path) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
    const headers = {};
    const t = token();
    if (t)
        headers.Authorization = 'Bearer ' + t;
    try {
        const r = await fetch(path, { method: 'POST', headers, cache: 'no-store',
                                      signal: ctl.signal });
        const body = await r.json().catch(() => null);
        if (!r.ok)
            throw new Error(r.status + ' ' + (body && body.error ? body.error : r.statusText));
        return body;
    } finally {
        clearTimeout(timer);
    }
}

function showResult(text, failed) {
    const p = $('action-result');
    p.textContent = text;
    p.classList.toggle('error', !!failed);
    p.hidden = false;
}

/* Asks, in the page, before doing anything: text names what will happen;
   path is the POST; what names the action in the answer shown. */
function confirmAction(text, path, what) {
    ui.pending = { path, what };
    setText('confirm-text', text);
    $('confirm').hidden = false;
    $('confirm-no').focus();
}

async function runPending() {
    const a = ui.pending;
    ui.pending = null;
    $('confirm').hidden = true;
    if (!a)
        return;
    try {
        await postJSON(a.path);
        showResult(a.what + ': done.', false);
    } catch (e) {
        showResult(a.what + ': failed: ' + (e && e.message ? e.message : e), true);
    }
    poll();
    loadDetails();
}

function actionButton(label, action, onclick) {
    const b = el('button', { type: 'button', dataset: { action } }, label);
    b.addEventListener('click', (e) => {
        e.stopPropagation();
        onclick();
    });
    return b;
}

function query(params) {
    return new URLSearchParams(params).toString();
}

function duration(s) {
    s = Math.floor(s);
    const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600);
    const m = Math.floor(s % 3600 / 60);
    return (d ? d + 'd ' : '') + (d || h ? h + 'h ' : '') + m + 'm ' + (s % 60) + 's';
}

function time(t) {
    return t ? new Date(t * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '';
}

function num(x, digits) {
    return Number(x || 0).toFixed(digits);
}

function fillList(id, counts) {
    const ul = $(id);
    clear(ul);
    const keys = Object.keys(counts);
    if (keys.length === 0)
        ul.appendChild(el('li', {}, 'none'));
    for (const k of keys)
        ul.appendChild(el('li', {}, k + ': ' + counts[k]));
}

function fillRows(table, rows) {
    const tbody = $(table).tBodies[0];
    clear(tbody);
    for (const r of rows)
        tbody.appendChild(r);
}

function drawSummary(summary, health) {
    setText('master-id', summary.master_id);
    setText('master-version', summary.version);
    setText('master-uptime', duration(summary.uptime_s));
    setText('master-status', health.status);
    fillList('agent-counts', summary.agents);
    const fw = { connected: 0, disconnected: 0, removed: 0 };
    for (const f of summary.frameworks)
        fw[f.removed ? 'removed' : f.connected ? 'connected' : 'disconnected']++;
    fillList('framework-counts', fw);
    fillList('task-counts', summary.tasks);

    const bars = $('resource-bars');
    clear(bars);
    const offered = summary.offered || {};
    for (const [key, label, unit, digits] of [['cpus', 'CPUs', '', 2],
                                              ['mem', 'Memory', ' MB', 0],
                                              ['disk', 'Disk', ' MB', 0]]) {
        const total = summary.resources[key] || 0;
        const used = summary.used[key] || 0;
        const off = offered[key] || 0;
        const idle = Math.max(0, total - used - off);
        const pct = (x) => (total > 0 ? 100 * x / total : 0) + '%';
        const bar = el('div', { className: 'bar' });
        for (const [cls, v] of [['used', used], ['offered', off], ['idle', idle]]) {
            const part = el('div', { className: cls, title: cls + ' ' + num(v, digits) + unit });
            part.style.width = pct(v);
            bar.appendChild(part);
        }
        bars.appendChild(el('div', { className: 'bar-row', dataset: { resource: key } },
            el('span', { className: 'bar-label' }, label), bar,
            el('span', { className: 'bar-text' },
               'total ' + num(total, digits) + unit + ', allocated ' + num(used, digits)
               + ', offered ' + num(off, digits) + ', idle ' + num(idle, digits))));
    }

    ui.fwnames = new Map(summary.frameworks.map((f) => [f.id, f.name]));
    fillRows('frameworks', summary.frameworks.map((f) => el('tr', { dataset: { framework: f.id } },
        el('td', {}, f.name), el('td', {}, f.id), el('td', {}, f.role),
        el('td', {}, f.removed ? 'removed' : f.connected ? 'yes' : 'no'),
        el('td', {}, num(f.used.cpus, 2)), el('td', {}, num(f.used.mem, 0)),
        el('td', {}, num(f.dominant_share * 100, 1) + '%'),
        el('td', {}, scopeLink(Object.entries(f.tasks)
                                     .map(([k, v]) => k.replace('TASK_', '') + ':' + v)
                                     .join(' ') || 'none',
                               { framework_id: f.id, label: 'framework ' + f.name })),
        el('td', {}, f.offers || 0),
        el('td', { className: 'why' }, f.why_no_offers || ''),
        el('td', {}, f.removed ? '' : actionButton('Tear down', 'teardown', () =>
            confirmAction('Tear down framework ' + f.name + ' (' + f.id + ')? All its tasks '
                          + 'are killed and it is removed for good.',
                          '../frameworks/teardown?' + query({ framework_id: f.id }),
                          'Tear down framework ' + f.name + ' (' + f.id + ')'))))));
}

function agentAction(a) {
    const name = a.hostname + ' (' + a.id + ')';
    if (a.drain)
        return actionButton('Undrain', 'undrain', () =>
            confirmAction('Undrain agent ' + name + '? It is offered to frameworks again.',
                          '../agents/undrain?' + query({ agent_id: a.id }),
                          'Undrain agent ' + name));
    return actionButton('Drain', 'drain', () =>
        confirmAction('Drain agent ' + name + '? No more offers are made on it and its '
                      + a.tasks + ' task(s) are killed.',
                      '../agents/drain?' + query({ agent_id: a.id }),
                      'Drain agent ' + name));
}

/*  A link that shows only the tasks of one agent or framework.           */
function scopeLink(text, scope) {
    const a = el('a', { href: '#tasks', className: 'scope' }, text);
    a.addEventListener('click', () => {
        ui.scope = scope;
        refilter();
    });
    return a;
}

function drawScope() {
    $('task-scope').hidden = !ui.scope;
    setText('task-scope-text', ui.scope ? 'only ' + ui.scope.label : '');
}

function drawAgents(agents) {
    agents.sort((a, b) => a.hostname.localeCompare(b.hostname) || a.id.localeCompare(b.id));
    ui.hostnames = new Map(agents.map((a) => [a.id, a.hostname]));
    fillRows('agents', agents.map((a) => el('tr', { dataset: { agent: a.id } },
        el('td', {}, a.hostname), el('td', {}, a.id), el('td', {}, a.state),
        el('td', {}, num(a.used.cpus, 2) + ' / ' + num(a.resources.cpus, 2)),
        el('td', {}, num(a.used.mem, 0) + ' / ' + num(a.resources.mem, 0)),
        el('td', {}, scopeLink(String(a.tasks), { agent_id: a.id, label: 'agent ' + a.hostname })),
        el('td', { className: 'why' }, a.why_idle || ''),
        el('td', {}, a.state === 'UNREACHABLE' ? '' : agentAction(a)))));
}

function drawTasks(page) {
    ui.total = page.total;
    const rows = page.tasks.map((t) => {
        const tr = el('tr', { dataset: { task: t.id } },
            el('td', {}, t.id), el('td', {}, t.name), el('td', {}, t.state),
            el('td', { title: t.framework_id }, ui.fwnames.get(t.framework_id) || t.framework_id),
            el('td', { title: t.agent_id }, ui.hostnames.get(t.agent_id) || t.agent_id),
            el('td', {}, time(t.updated)));
        tr.addEventListener('click', () => {
            ui.details = { id: t.id, framework_id: t.framework_id };
            loadDetails();
        });
        return tr;
    });
    if (rows.length === 0)
        rows.push(el('tr', {}, el('td', { colSpan: 6 }, 'no tasks')));
    fillRows('tasks', rows);
    const last = Math.min(page.offset + page.tasks.length, page.total);
    setText('task-page', page.total ? (page.offset + 1) + '-' + last + ' of ' + page.total
                                    : '0 of 0');
    $('task-prev').disabled = page.offset === 0;
    $('task-next').disabled = last >= page.total;
}

function tasksURL() {
    const p = new URLSearchParams();
    const state = $('task-state').value;
    const q = $('task-q').value.trim();
    if (state)
        p.set('state', state);
    if (q)
        p.set('q', q);
    if (ui.scope && ui.scope.agent_id)
        p.set('agent_id', ui.scope.agent_id);
    if (ui.scope && ui.scope.framework_id)
        p.set('framework_id', ui.scope.framework_id);
    p.set('offset', ui.offset);
    p.set('limit', PAGE);
    return '../tasks?' + p.toString();
}

async function loadDetails() {
    if (!ui.details)
        return;
    const p = new URLSearchParams({ task_id: ui.details.id,
                                    framework_id: ui.details.framework_id });
    let t;
    try {
        t = await getJSON('../tasks?' + p.toString());
    } catch (e) {
        showError(e);
        return;
    }
    $('task-details').hidden = false;
    setText('task-details-id', t.id);
    ui.details.state = t.state;
    $('task-kill').hidden = TERMINAL.has(t.state);
    const dl = $('task-details-fields');
    clear(dl);
    const fields = [['Name', t.name], ['State', t.state], ['Reason', t.reason],
                    ['Message', t.message], ['Exit code', t.exit_code],
                    ['Framework', (t.framework_name || '') + ' ' + t.framework_id],
                    ['Agent', t.agent ? t.agent.hostname + ' ' + t.agent.id : t.agent_id],
                    ['CPUs', t.resources && t.resources.cpus],
                    ['Memory MB', t.resources && t.resources.mem],
                    ['Command', t.command], ['Updated', time(t.updated)]];
    for (const [k, v] of fields)
        if (v !== undefined && v !== null && v !== '')
            dl.append(el('dt', {}, k), el('dd', {}, v));
    fillRows('task-history', (t.history || []).map((h) => el('tr', {},
        el('td', {}, time(h.time)), el('td', {}, h.state), el('td', {}, h.reason || ''))));
    loadLog();
}

/* The shown task's output, read through the master (GET
   ../tasks/files/read): the last LOG_MAX bytes at first, then from the
   X-Cairn-Next-Offset of each read, so it follows a running task. */
const LOG_MAX = 65536;

async function loadLog() {
    const d = ui.details;
    if (!d)
        return;
    const file = $('task-log-file').value;
    const key = d.framework_id + '/' + d.id + '/' + file;
    if (!ui.log || ui.log.key !== key)
        ui.log = { key, offset: -1, text: '', decoder: new TextDecoder() };
    const log = ui.log;
    const p = new URLSearchParams({ task_id: d.id, framework_id: d.framework_id, file });
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
    try {
        if (log.offset < 0) {
            p.set('length', '0');
            const r = await fetch('../tasks/files/read?' + p.toString(),
                                  { cache: 'no-store', signal: ctl.signal });
            const size = Number(r.headers.get('X-Cairn-File-Size') || 0);
            log.offset = Math.max(0, size - LOG_MAX);
        }
        p.set('offset', String(log.offset));
        p.set('length', String(LOG_MAX));
        const r = await fetch('../tasks/files/read?' + p.toString(),
                              { cache: 'no-store', signal: ctl.signal });
        if (ui.log !== log)
            return;
        if (!r.ok) {
            const body = await r.json().catch(() => null);
            setText('task-log', '(' + r.status + (body && body.error ? ' ' + body.error : '')
                                + ')');
            return;
        }
        const data = await r.arrayBuffer();
        if (ui.log !== log)
            return;
        const next = Number(r.headers.get('X-Cairn-Next-Offset'));
        log.offset = Number.isFinite(next) && next >= log.offset ? next
                                                                : log.offset + data.byteLength;
        log.text = (log.text + log.decoder.decode(data, { stream: true })).slice(-LOG_MAX);
        setText('task-log', log.text);
    } catch (e) {
        setText('task-log', '(cannot read the output: ' + (e && e.message ? e.message : e) + ')');
    } finally {
        clearTimeout(timer);
    }
}

function showError(e) {
    const p = $('error');
    p.textContent = 'Cannot reach the master: ' + (e && e.message ? e.message : e);
    p.hidden = false;
}

async function poll() {
    clearTimeout(ui.timer);
    const started = Date.now();
    try {
        const [summary, health, agents, tasks] = await Promise.all([
            getJSON('../state/summary'), getJSON('../health'), getJSON('../agents'),
            getJSON(tasksURL())]);
        drawSummary(summary, health);
        drawAgents(agents.agents);
        drawTasks(tasks);
        drawScope();
        $('error').hidden = true;
        document.body.dataset.ready = '1';
        ui.delay = Date.now() - started > SLOW_MS ? Math.min(ui.delay * 2, MAX_POLL_MS)
                                                  : POLL_MS;
    } catch (e) {
        showError(e);
        ui.delay = Math.min(ui.delay * 2, MAX_POLL_MS);
    }
    ui.timer = setTimeout(poll, ui.delay);
}

function refilter() {
    ui.offset = 0;
    poll();
}

document.addEventListener('DOMContentLoaded', () => {
    let typing = null;
    $('task-state').addEventListener('change', refilter);
    $('task-q').addEventListener('input', () => {
        clearTimeout(typing);
        typing = setTimeout(refilter, 300);
    });
    $('task-filter').addEventListener('submit', (e) => {
        e.preventDefault();
        refilter();
    });
    $('task-scope-clear').addEventListener('click', () => {
        ui.scope = null;
        refilter();
    });
    $('task-prev').addEventListener('click', () => {
        ui.offset = Math.max(0, ui.offset - PAGE);
        poll();
    });
    $('task-next').addEventListener('click', () => {
        if (ui.offset + PAGE < ui.total)
            ui.offset += PAGE;
        poll();
    });
    $('task-log-file').addEventListener('change', () => {
        ui.log = null;
        setText('task-log', '');
        loadLog();
    });
    $('task-details-close').addEventListener('click', () => {
        ui.details = null;
        ui.log = null;
        setText('task-log', '');
        $('task-details').hidden = true;
    });
    $('task-kill').addEventListener('click', () => {
        const d = ui.details;
        if (!d)
            return;
        confirmAction('Kill task ' + d.id + ' of framework ' + d.framework_id + '?',
                      '../tasks/kill?' + query({ task_id: d.id, framework_id: d.framework_id }),
                      'Kill task ' + d.id);
    });
    $('confirm-yes').addEventListener('click', runPending);
    $('confirm-no').addEventListener('click', () => {
        ui.pending = null;
        $('confirm').hidden = true;
    });
    const tok = $('token');
    tok.value = token();
    tok.addEventListener('input', () => {
        try {
            if (tok.value)
                sessionStorage.setItem(TOKEN_KEY, tok.value);
            else
                sessionStorage.removeItem(TOKEN_KEY);
        } catch (e) {
            /* no storage: the token is not kept */
        }
    });
    poll();
});
