/* Cairn web UI: reads the master's JSON endpoints and draws the cluster.
 *
 * Plain JavaScript, no framework, no build step. Every URL is relative
 * (the page is /ui/, the API one level up), so the UI works behind a
 * reverse proxy on a sub-path. Every string from the cluster goes into
 * the page as text (textContent / createTextNode), never as HTML: task
 * names, messages and log output come from whoever launched the tasks.
 *
 * Views, chosen by the URL's fragment (so they can be bookmarked and the
 * browser's Back button works):
 *   (anything else)       the overview: counts, resource bars, the
 *                         allocator's charts, agents, frameworks, tasks
 *   #agent/ID             one agent: resources, usage, its tasks
 *   #framework/ID         one framework: its tasks and outstanding offers
 *   #task/FRAMEWORK/TASK  one task: status history, resources and usage,
 *                         health, its sandbox and a pager over its output
 *
 * The header shows the master and, when masters run with --zk (the
 * summary has "ha"), the election: this master's role, the leader, the
 * standbys, ZooKeeper and the last failover (#ha, hidden otherwise).
 *
 * The page polls what the view shows. The interval grows with the
 * cluster (past 10,000 tasks) and with the master's response time
 * (10 x the last one, at least POLL_MS), doubles while requests fail, and
 * polling stops while the page is hidden. document.body.dataset.ready is
 * "1" after the first successful load, and .view names the view drawn
 * (tests wait for them).
 *
 * Operator actions (kill a task, drain or undrain an agent, tear down a
 * framework) POST to the master after an in-page confirmation naming
 * what will happen. The operator token typed in the header is kept in
 * sessionStorage only (gone with the tab) and sent as a bearer token. */
'use strict';

const POLL_MS = 2000;
const MAX_POLL_MS = 60000;
const LARGE_TASKS = 10000;      /* past this, poll less often */
const TIMEOUT_MS = 10000;
const PAGE = 50;
const LOG_CHUNK = 65536;        /* bytes per read of a task's file */
const LOG_TAIL = 262144;        /* shown at first of a large file */
const LOG_KEEP = 1 << 20;       /* characters kept in the page */
const LOG_FOLLOW_MS = 1000;
const SVG_NS = 'http://www.w3.org/2000/svg';

const ui = {
    delay: POLL_MS,
    timer: null,
    paused: false,              /* the page was hidden: no poll scheduled */
    seq: 0,                     /* of the latest poll: older ones draw nothing */
    view: { kind: 'overview' },
    offset: 0,                  /* of the overview's task page */
    total: 0,
    vtask: { offset: 0, total: 0 },     /* the agent's or framework's task page */
    details: null,              /* {id, framework_id, state} of the task shown */
    scope: null,                /* {agent_id | framework_id, label}: the tasks shown */
    hostnames: new Map(),       /* agent id -> hostname, for the task tables */
    fwnames: new Map(),         /* framework id -> name */
    summary: null,              /* the last /state/summary */
    pending: null,              /* the action awaiting confirmation */
    cpu: new Map(),             /* key -> {cpu_seconds, at}: for CPU rates */
    sandbox: { path: '', key: '' },
    log: null,                  /* the file being paged: see openFile */
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

/* An SVG element; attrs as attributes (numbers and fixed names only). */
function svg(tag, attrs) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {}))
        e.setAttribute(k, String(v));
    return e;
}

function setText(id, text) {
    $(id).textContent = String(text);
}

function clear(node) {
    while (node.firstChild)
        node.removeChild(node.firstChild);
}

/* An error from the master: status and its JSON error text. */
class HTTPError extends Error {
    constructor(path, status, text) {
        super(path + ': ' + status + (text ? ' ' + text : ''));
        this.status = status;
        this.text = text || '';
    }
}

async function request(path) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
    try {
        const r = await fetch(path, { cache: 'no-store', signal: ctl.signal });
        if (!r.ok) {
            const body = await r.json().catch(() => null);
            throw new HTTPError(path, r.status, body && body.error);
        }
        return r;
    } finally {
        clearTimeout(timer);
    }
}

async function getJSON(path) {
    const r = await request(path);
    return r.json();
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

function ago(s) {
    return s < 60 ? num(s, 1) + ' s ago' : duration(s) + ' ago';
}

function time(t) {
    return t ? new Date(t * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '';
}

function num(x, digits) {
    return Number(x || 0).toFixed(digits);
}

function bytes(n) {
    n = Number(n || 0);
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) {
        n /= 1024;
        i++;
    }
    return (i ? n.toFixed(1) : String(n)) + ' ' + units[i];
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

/* A definition list from [label, value] pairs; empty values are left out. */
function fillFields(id, fields) {
    const dl = $(id);
    clear(dl);
    for (const [k, v] of fields)
        if (v !== undefined && v !== null && v !== '')
            dl.append(el('dt', {}, k), el('dd', {}, v));
}

/* A stacked bar: parts [[class, value, title]], out of total. */
function bar(parts, total, small) {
    const b = el('div', { className: small ? 'bar small' : 'bar' });
    for (const [cls, v, title] of parts) {
        const part = el('div', { className: cls, title: title || cls });
        part.style.width = (total > 0 ? Math.min(100, 100 * v / total) : 0) + '%';
        b.appendChild(part);
    }
    return b;
}

/* The bar rows of resources used/offered/idle out of a total. */
function resourceBars(id, total, used, offered) {
    const bars = $(id);
    clear(bars);
    for (const [key, label, unit, digits] of [['cpus', 'CPUs', '', 2],
                                              ['mem', 'Memory', ' MB', 0],
                                              ['disk', 'Disk', ' MB', 0]]) {
        const t = (total || {})[key] || 0;
        const u = (used || {})[key] || 0;
        const off = (offered || {})[key] || 0;
        const idle = Math.max(0, t - u - off);
        bars.appendChild(el('div', { className: 'bar-row', dataset: { resource: key } },
            el('span', { className: 'bar-label' }, label),
            bar([['used', u, 'allocated ' + num(u, digits) + unit],
                 ['offered', off, 'offered ' + num(off, digits) + unit],
                 ['idle', idle, 'idle ' + num(idle, digits) + unit]], t),
            el('span', { className: 'bar-text' },
               'total ' + num(t, digits) + unit + ', allocated ' + num(u, digits)
               + ', offered ' + num(off, digits) + ', idle ' + num(idle, digits))));
    }
}

/* CPUs used between two samples of a cumulative cpu_seconds; null until
   two samples with time between them were seen. at is in seconds. */
function cpuRate(key, cpuSeconds, at) {
    const prev = ui.cpu.get(key);
    if (prev && (at <= prev.at || cpuSeconds === prev.cpu_seconds))
        return prev.rate;       /* no new sample since */
    const rate = prev ? Math.max(0, (cpuSeconds - prev.cpu_seconds) / (at - prev.at)) : null;
    ui.cpu.set(key, { cpu_seconds: cpuSeconds, at, rate });
    return rate;
}

/*  Links to the drill-down views.                                        */

function agentHref(id) {
    return '#agent/' + encodeURIComponent(id);
}

function frameworkHref(id) {
    return '#framework/' + encodeURIComponent(id);
}

function taskHref(fw, id) {
    return '#task/' + encodeURIComponent(fw) + '/' + encodeURIComponent(id);
}

function link(href, text, attrs) {
    return el('a', Object.assign({ href, className: 'drill' }, attrs || {}), text);
}

/*  The overview.                                                          */

function drawHeader(summary, health) {
    const name = summary.cluster_name || 'cairn';
    setText('cluster-name', name);
    document.title = name + ' \u2013 Cairn';
    setText('master-id', summary.master_id);
    setText('master-version', summary.version);
    setText('master-uptime', duration(summary.uptime_s));
    if (health)
        setText('master-status', health.status);
    drawHA(summary.ha, health && health.ha);
}

/* "hostname (id)" of a master in the election's list. */
function masterName(m) {
    return m.hostname ? m.hostname + ' (' + m.id + ')' : String(m.id);
}

/* The election (masters run with --zk): hidden for a single master. The
   role is that of the master serving the page (its own /health). */
function drawHA(ha, own) {
    $('ha').hidden = !ha;
    if (!ha)
        return;
    setText('ha-role', (own || ha).role);
    setText('ha-leader', ha.leader ? masterName(ha.leader) : 'none elected');
    const leaderId = ha.leader ? ha.leader.id : null;
    const standbys = (ha.masters || []).filter((m) => m.id !== leaderId);
    setText('ha-masters', standbys.length + (standbys.length === 1 ? ' standby' : ' standbys')
            + (standbys.length ? ': ' + standbys.map(masterName).join(', ') : ''));
    let zk = ha.zk_connected ? 'connected' : 'disconnected';
    if (ha.zk_disconnected_ms)
        zk += ' for ' + num(ha.zk_disconnected_ms / 1000, 1) + ' s';
    if (ha.lease_ms_left !== undefined)
        zk += ', lease ' + num(ha.lease_ms_left / 1000, 1) + ' s left';
    setText('ha-zk', zk);
    const fo = ha.last_failover;
    setText('ha-failover', fo ? fo.from + ' \u2192 ' + fo.to + ', '
            + ago(Math.max(0, Date.now() / 1000 - fo.at)) : 'none seen');
}

/* A small line chart of values (oldest first), one every intervalS. */
function drawChart(id, values, intervalS, unit, digits) {
    const fig = $(id);
    const old = fig.querySelector('svg');
    if (old)
        fig.removeChild(old);
    const W = 240, H = 60, PAD = 2;
    const s = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, width: W, height: H,
                           class: 'sparkline', role: 'img' });
    const span = Math.round(values.length * intervalS);
    const title = svg('title');
    title.textContent = values.length ? 'last ' + duration(span) + ', one sample every '
                                        + intervalS + ' s' : 'no samples yet';
    s.appendChild(title);
    s.appendChild(svg('line', { x1: 0, y1: H - PAD, x2: W, y2: H - PAD, class: 'axis' }));
    const max = Math.max(...values, 0);
    if (values.length > 0) {
        const n = Math.max(values.length - 1, 1);
        const pts = (values.length === 1 ? [values[0], values[0]] : values).map((v, i) =>
            num(i * W / n, 1) + ',' + num(H - PAD - (max > 0 ? v / max : 0) * (H - 2 * PAD), 1));
        s.appendChild(svg('polyline', { points: pts.join(' '), class: 'line' }));
    } else {
        const t = svg('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'empty' });
        t.textContent = 'collecting samples\u2026';
        s.appendChild(t);
    }
    fig.appendChild(s);
    const last = values.length ? values[values.length - 1] : 0;
    setText(id + '-value', values.length ? num(last, digits) + unit + ' (max ' + num(max, digits)
                                           + unit + ', last ' + duration(span) + ')' : '');
}

function drawSummary(summary) {
    fillList('agent-counts', summary.agents);
    const fw = { connected: 0, disconnected: 0, removed: 0 };
    for (const f of summary.frameworks)
        fw[f.removed ? 'removed' : f.connected ? 'connected' : 'disconnected']++;
    fillList('framework-counts', fw);
    fillList('task-counts', summary.tasks);
    resourceBars('resource-bars', summary.resources, summary.used, summary.offered);

    const series = summary.series || { interval_s: 5, allocation_ms: [], launch_rate: [] };
    drawChart('chart-allocation', series.allocation_ms || [], series.interval_s, ' ms', 2);
    drawChart('chart-launch', series.launch_rate || [], series.interval_s, ' tasks/s', 2);

    fillRows('frameworks', summary.frameworks.map((f) => el('tr', { dataset: { framework: f.id } },
        el('td', {}, f.name), el('td', {}, link(frameworkHref(f.id), f.id)), el('td', {}, f.role),
        el('td', {}, f.principal || ''),
        el('td', {}, f.removed ? 'removed' : f.connected ? 'yes' : 'no'),
        el('td', {}, num(f.used.cpus, 2)), el('td', {}, num(f.used.mem, 0)),
        el('td', {}, num(f.dominant_share * 100, 1) + '%'),
        el('td', {}, scopeLink(taskCounts(f.tasks),
                               { framework_id: f.id, label: 'framework ' + f.name })),
        el('td', {}, f.offers || 0),
        el('td', { className: 'why' }, f.why_no_offers || ''),
        el('td', {}, f.removed ? '' : teardownButton(f)))));
    fillSelect('task-framework', summary.frameworks.map((f) => [f.id, f.name + ' (' + f.id + ')']));
}

function taskCounts(tasks) {
    return Object.entries(tasks).map(([k, v]) => k.replace('TASK_', '') + ':' + v).join(' ')
        || 'none';
}

/* Sets a filter's options ([value, label]) if they changed, keeping the
   choice; the scope decides what is chosen. */
function fillSelect(id, options) {
    const sel = $(id);
    const key = JSON.stringify(options);
    if (sel.dataset.options !== key) {
        while (sel.options.length > 1)
            sel.remove(1);
        for (const [v, label] of options.slice(0, 2000))
            sel.add(el('option', { value: v }, label));
        sel.dataset.options = key;
    }
    const want = ui.scope && (id === 'task-agent' ? ui.scope.agent_id : ui.scope.framework_id);
    sel.value = want || '';
}

function teardownButton(f) {
    return actionButton('Tear down', 'teardown', () =>
        confirmAction('Tear down framework ' + f.name + ' (' + f.id + ')? All its tasks '
                      + 'are killed and it is removed for good.',
                      '../frameworks/teardown?' + query({ framework_id: f.id }),
                      'Tear down framework ' + f.name + ' (' + f.id + ')'));
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

function usedCell(used, total, digits) {
    return el('td', {}, bar([['used', used]], total, true),
              num(used, digits) + ' / ' + num(total, digits));
}

function drawAgents(agents) {
    agents.sort((a, b) => a.hostname.localeCompare(b.hostname) || a.id.localeCompare(b.id));
    ui.hostnames = new Map(agents.map((a) => [a.id, a.hostname]));
    fillRows('agents', agents.map((a) => el('tr', { dataset: { agent: a.id } },
        el('td', {}, a.hostname), el('td', {}, link(agentHref(a.id), a.id)), el('td', {}, a.state),
        usedCell(a.used.cpus, a.resources.cpus, 2),
        usedCell(a.used.mem, a.resources.mem, 0),
        el('td', {}, scopeLink(String(a.tasks), { agent_id: a.id, label: 'agent ' + a.hostname })),
        el('td', {}, a.last_seen_s_ago === undefined ? '' : ago(a.last_seen_s_ago)),
        el('td', { className: 'why' }, a.why_idle || ''),
        el('td', {}, a.state === 'UNREACHABLE' ? '' : agentAction(a)))));
    fillSelect('task-agent', agents.map((a) => [a.id, a.hostname + ' (' + a.id + ')']));
}

function taskRow(t, columns) {
    const tr = el('tr', { dataset: { task: t.id } }, ...columns);
    tr.addEventListener('click', (e) => {
        if (e.target.closest('a'))
            return;
        location.hash = taskHref(t.framework_id, t.id);
    });
    return tr;
}

function drawTasks(page) {
    ui.total = page.total;
    const rows = page.tasks.map((t) => taskRow(t, [
        el('td', {}, t.id), el('td', {}, t.name), el('td', {}, t.state),
        el('td', { title: t.framework_id }, ui.fwnames.get(t.framework_id) || t.framework_id),
        el('td', { title: t.agent_id }, ui.hostnames.get(t.agent_id) || t.agent_id),
        el('td', {}, time(t.updated))]));
    if (rows.length === 0)
        rows.push(el('tr', {}, el('td', { colSpan: 6 }, 'no tasks')));
    fillRows('tasks', rows);
    pageText('task', page);
}

/* The "1-50 of 120" text and the Previous/Next buttons of a task page. */
function pageText(prefix, page) {
    const last = Math.min(page.offset + page.tasks.length, page.total);
    setText(prefix + '-page', page.total ? (page.offset + 1) + '-' + last + ' of ' + page.total
                                         : '0 of 0');
    $(prefix + '-prev').disabled = page.offset === 0;
    $(prefix + '-next').disabled = last >= page.total;
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

/*  One agent.                                                             */

function drawAgentView(a, page) {
    if (!a) {
        setText('agent-hostname', '(not known to the master)');
        fillFields('agent-fields', [['Id', ui.view.id]]);
        return;
    }
    setText('agent-hostname', a.hostname);
    setText('crumb-current', 'agent ' + a.hostname);
    const actions = $('agent-actions');
    clear(actions);
    if (a.state !== 'UNREACHABLE')
        actions.appendChild(agentAction(a));
    actions.appendChild(scopeButton({ agent_id: a.id, label: 'agent ' + a.hostname }));
    const attrs = Object.entries(a.attributes || {}).map(([k, v]) => k + '=' + v).join(', ');
    fillFields('agent-fields', [
        ['Id', a.id], ['State', a.state],
        ['Draining', a.drain ? 'since ' + time(a.drain.since) + ', grace ' + a.drain.grace_s + ' s'
                             : 'no'],
        ['Why idle', a.why_idle], ['Version', a.version], ['HTTP address', a.http_address],
        ['Principal', a.principal], ['Attributes', attrs],
        ['Registered', ago(a.registered_s_ago)],
        ['Last seen', a.last_seen_s_ago === undefined ? '' : ago(a.last_seen_s_ago)],
        ['Tasks', a.tasks], ['Decline filters', a.filters]]);
    resourceBars('agent-bars', a.resources, a.used, a.offered);
    const u = a.usage || {};
    const rate = u.tasks_sampled ? cpuRate('agent/' + a.id, u.cpu_seconds, Date.now() / 1000)
                                 : null;
    fillFields('agent-usage', u.tasks_sampled ? [
        ['Tasks sampled', u.tasks_sampled + ' of ' + a.tasks],
        ['Memory', bytes(u.mem_bytes) + ' used of ' + num(a.used.mem, 0) + ' MB allocated'],
        ['CPU time', num(u.cpu_seconds, 1) + ' s'
                     + (rate === null ? '' : ' (about ' + num(rate, 2) + ' of '
                                             + num(a.used.cpus, 2) + ' CPUs allocated)')]]
        : [['Usage', 'no usage reported by this agent\'s tasks yet']]);
    drawViewTasks('agent', page, (t) => [
        el('td', {}, t.id), el('td', {}, t.name), el('td', {}, t.state),
        el('td', { title: t.framework_id },
           link(frameworkHref(t.framework_id), ui.fwnames.get(t.framework_id) || t.framework_id)),
        el('td', {}, num(t.resources && t.resources.cpus, 2)),
        el('td', {}, num(t.resources && t.resources.mem, 0)), el('td', {}, time(t.updated))]);
}

function scopeButton(scope) {
    const b = el('button', { type: 'button' }, 'In the task table');
    b.addEventListener('click', () => {
        ui.scope = scope;
        ui.offset = 0;
        location.hash = '#tasks';
    });
    return b;
}

function drawViewTasks(prefix, page, columns) {
    ui.vtask.total = page.total;
    const rows = page.tasks.map((t) => taskRow(t, columns(t)));
    if (rows.length === 0)
        rows.push(el('tr', {}, el('td', { colSpan: 7 }, 'no tasks')));
    fillRows(prefix + '-tasks', rows);
    pageText(prefix + '-task', page);
}

/*  One framework.                                                         */

function drawFrameworkView(f, page, offers) {
    if (!f) {
        setText('framework-name', '(not known to the master)');
        fillFields('framework-fields', [['Id', ui.view.id]]);
        return;
    }
    setText('framework-name', f.name);
    setText('crumb-current', 'framework ' + f.name);
    const actions = $('framework-actions');
    clear(actions);
    if (!f.removed)
        actions.appendChild(teardownButton(f));
    actions.appendChild(scopeButton({ framework_id: f.id, label: 'framework ' + f.name }));
    fillFields('framework-fields', [
        ['Id', f.id], ['Role', f.role], ['Principal', f.principal || '(none)'], ['User', f.user],
        ['Connected', f.removed ? 'removed' : f.connected ? 'yes' : 'no'],
        ['Dominant share', num(f.dominant_share * 100, 1) + '%'],
        ['Allocated', num(f.used.cpus, 2) + ' CPUs, ' + num(f.used.mem, 0) + ' MB memory, '
                      + num(f.used.disk, 0) + ' MB disk'],
        ['Suppressed', f.suppressed ? 'yes' : 'no'], ['Why no offers', f.why_no_offers],
        ['Failover timeout', f.failover_timeout_s + ' s'],
        ['Partition aware', f.partition_aware ? 'yes' : 'no']]);
    fillList('framework-task-counts', f.tasks);
    drawViewTasks('framework', page, (t) => [
        el('td', {}, t.id), el('td', {}, t.name), el('td', {}, t.state),
        el('td', { title: t.agent_id },
           link(agentHref(t.agent_id), ui.hostnames.get(t.agent_id) || t.agent_id)),
        el('td', {}, num(t.resources && t.resources.cpus, 2)),
        el('td', {}, num(t.resources && t.resources.mem, 0)), el('td', {}, time(t.updated))]);
    if (!offers) {
        setText('framework-offers-total', '(not available from this master)');
        fillRows('framework-offers', []);
        return;
    }
    setText('framework-offers-total', offers.total > offers.offers.length
        ? '(' + offers.offers.length + ' oldest of ' + offers.total + ')'
        : '(' + offers.total + ')');
    const rows = offers.offers.map((o) => el('tr', { dataset: { offer: o.id } },
        el('td', {}, o.id),
        el('td', { title: o.agent_id }, link(agentHref(o.agent_id), o.hostname || o.agent_id)),
        el('td', {}, num(o.resources.cpus, 2)), el('td', {}, num(o.resources.mem, 0)),
        el('td', {}, num(o.resources.disk, 0)),
        el('td', {}, (o.resources.ports || []).map((r) => r[0] + '-' + r[1]).join(', ')),
        el('td', {}, num(o.age_s, 1) + ' s')));
    if (rows.length === 0)
        rows.push(el('tr', {}, el('td', { colSpan: 7 }, 'no outstanding offers')));
    fillRows('framework-offers', rows);
}

/*  One task.                                                              */

function drawDetails(t) {
    setText('task-details-id', t.id);
    setText('crumb-current', 'task ' + t.id);
    ui.details.state = t.state;
    $('task-kill').hidden = TERMINAL.has(t.state);
    const health = t.healthy === true ? 'healthy' : t.healthy === false ? 'unhealthy'
                 : 'no health check reported';
    const fwLink = link(frameworkHref(t.framework_id),
                        (t.framework_name || '') + ' ' + t.framework_id);
    const agentLink = link(agentHref(t.agent_id),
                           t.agent ? t.agent.hostname + ' ' + t.agent.id : t.agent_id);
    fillFields('task-details-fields', [
        ['Name', t.name], ['State', t.state], ['Health', health], ['Reason', t.reason],
        ['Message', t.message], ['Exit code', t.exit_code], ['Signal', t.signal],
        ['Framework', fwLink], ['Agent', agentLink],
        ['Command', t.command], ['Updated', time(t.updated)]]);
    drawTaskUsage(t);
    const history = t.history || [];
    fillRows('task-history', history.map((h, i) => el('tr', {},
        el('td', {}, time(h.time)), el('td', {}, h.state), el('td', {}, h.reason || ''),
        /* The master keeps the message of the latest update only. */
        el('td', {}, h.message || (i === history.length - 1 && h.state === t.state
                                  ? t.message || '' : '')))));
}

function drawTaskUsage(t) {
    const box = $('task-usage');
    clear(box);
    const r = t.resources || {};
    const u = t.usage;
    const memTotal = (r.mem || 0) * 1048576;
    const rows = [];
    if (u) {
        const rate = cpuRate('task/' + t.framework_id + '/' + t.id, u.cpu_seconds, u.sampled);
        rows.push(['CPUs', rate === null ? 0 : rate, r.cpus || 0,
                   (rate === null ? 'CPUs used: shown from the next sample on; '
                                  : num(rate, 2) + ' used of ')
                   + num(r.cpus, 2) + ' allocated (' + num(u.cpu_seconds, 1)
                   + ' s of CPU time)']);
        rows.push(['Memory', u.mem_bytes, memTotal,
                   bytes(u.mem_bytes) + ' used of ' + num(r.mem, 0) + ' MB allocated (peak '
                   + bytes(u.mem_peak_bytes) + (u.mem_limit_bytes > 0 ? ', limit '
                                                + bytes(u.mem_limit_bytes) : '') + ')']);
    } else {
        rows.push(['CPUs', 0, r.cpus || 0, num(r.cpus, 2) + ' allocated']);
        rows.push(['Memory', 0, memTotal, num(r.mem, 0) + ' MB allocated']);
    }
    rows.push(['Disk', 0, r.disk || 0, num(r.disk, 0) + ' MB allocated']);
    for (const [label, used, total, text] of rows)
        box.appendChild(el('div', { className: 'bar-row', dataset: { resource: label } },
            el('span', { className: 'bar-label' }, label), bar([['used', used]], total),
            el('span', { className: 'bar-text' }, text)));
    if (r.ports && r.ports.length)
        box.appendChild(el('p', {}, 'Ports: ' + r.ports.map((p) => p[0] + '-' + p[1]).join(', ')));
    box.appendChild(el('p', { className: 'note', id: 'task-usage-note' }, u
        ? 'Usage sampled by the agent at ' + time(u.sampled) + '.'
        : 'The agent has not reported usage for this task (yet): only what it was given '
          + 'is shown.'));
}

/* The text for a failed request to a task's files. */
function filesError(e) {
    if (e instanceof HTTPError) {
        if (e.status === 502 || e.status === 504)
            return 'The agent running this task cannot be reached (' + e.status + ')'
                   + (e.text ? ': ' + e.text : '') + '. Its files will show once it answers.';
        if (e.status === 404)
            return 'Not found (404)' + (e.text ? ': ' + e.text : '')
                   + '. The sandbox may be gone, or this master does not serve task files.';
        return 'The master answered ' + e.status + (e.text ? ': ' + e.text : '');
    }
    return 'Cannot read the task\'s files: ' + (e && e.message ? e.message : e);
}

function filesQuery(extra) {
    return query(Object.assign({ framework_id: ui.details.framework_id,
                                 task_id: ui.details.id }, extra));
}

function joinPath(dir, name) {
    return dir ? dir + '/' + name : name;
}

/* Lists a directory of the task's sandbox ('' is its top). */
async function loadSandbox(path) {
    if (!ui.details)
        return;
    const d = ui.details;
    ui.sandbox.path = path;
    setText('sandbox-path', '/' + path);
    const status = $('sandbox-status');
    let list;
    try {
        list = await getJSON('../tasks/files/browse?' + filesQuery(path ? { path } : {}));
    } catch (e) {
        if (ui.details !== d)
            return;
        status.textContent = filesError(e);
        status.hidden = false;
        fillRows('sandbox-files', []);
        return;
    }
    if (ui.details !== d || ui.sandbox.path !== path)
        return;
    status.hidden = true;
    list = Array.isArray(list) ? list : [];
    list.sort((a, b) => (a.type === 'directory' ? 0 : 1) - (b.type === 'directory' ? 0 : 1)
                        || a.name.localeCompare(b.name));
    const rows = [];
    if (path) {
        const up = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
        const a = el('a', { href: '#', className: 'file' }, '..');
        a.addEventListener('click', (e) => {
            e.preventDefault();
            loadSandbox(up);
        });
        rows.push(el('tr', { dataset: { file: '..' } }, el('td', {}, a), el('td', {}, 'directory'),
                     el('td', {}), el('td', {})));
    }
    for (const f of list) {
        const full = joinPath(path, f.name);
        const a = el('a', { href: '#', className: 'file' }, f.name);
        a.addEventListener('click', (e) => {
            e.preventDefault();
            if (f.type === 'directory')
                loadSandbox(full);
            else
                openFile(full, f.size);
        });
        rows.push(el('tr', { dataset: { file: full, type: f.type } },
            el('td', {}, f.type === 'file' || f.type === 'directory' ? a : f.name),
            el('td', {}, f.type), el('td', {}, f.type === 'file' ? bytes(f.size) : ''),
            el('td', {}, time(f.mtime))));
    }
    if (rows.length === 0)
        rows.push(el('tr', {}, el('td', { colSpan: 4 }, 'empty')));
    fillRows('sandbox-files', rows);
}

/*  The pager over one of the task's files: it reads LOG_CHUNK bytes at a
    time from where it got to, appends them as text, and while Follow is
    on reads again every LOG_FOLLOW_MS; it stops once the task is
    terminal and a read comes back short (the output is all there).
    "Earlier output" reads back towards the start. At most LOG_KEEP
    characters stay in the page: the oldest go first.                    */

function stopLog() {
    if (ui.log)
        clearTimeout(ui.log.timer);
    ui.log = null;
}

function logStatus(text, isError) {
    const p = $('log-status');
    p.textContent = text;
    p.classList.toggle('error', !!isError);
}

async function openFile(file, size) {
    stopLog();
    const log = ui.log = { file, start: 0, end: 0, timer: null, busy: false, done: false,
                           decoder: new TextDecoder('utf-8'), kept: 0 };
    setText('log-file', file);
    for (const b of document.querySelectorAll('#log-bar button[data-file]'))
        b.classList.toggle('current', b.dataset.file === file);
    clear($('log-text'));
    logStatus('loading ' + file + '\u2026');
    if (size === undefined) {
        /* Where to start: the tail of a large file. */
        const dir = file.includes('/') ? file.slice(0, file.lastIndexOf('/')) : '';
        const name = file.slice(dir ? dir.length + 1 : 0);
        try {
            const list = await getJSON('../tasks/files/browse?' + filesQuery(dir ? { path: dir } : {}));
            const entry = (Array.isArray(list) ? list : []).find((f) => f.name === name);
            size = entry ? entry.size : 0;
        } catch (e) {
            size = 0;       /* the read says what is wrong */
        }
    }
    if (ui.log !== log)
        return;
    log.start = log.end = Math.max(0, (size || 0) - LOG_TAIL);
    $('log-earlier').disabled = log.start === 0;
    readLog(log);
}

async function readLog(log) {
    if (ui.log !== log || log.busy)
        return;
    clearTimeout(log.timer);
    if (document.visibilityState === 'hidden') {
        log.timer = setTimeout(() => readLog(log), LOG_FOLLOW_MS);
        return;
    }
    log.busy = true;
    let buf;
    try {
        const r = await request('../tasks/files/read?'
                                + filesQuery({ file: log.file, offset: log.end, length: LOG_CHUNK }));
        buf = new Uint8Array(await r.arrayBuffer());
    } catch (e) {
        log.busy = false;
        if (ui.log !== log)
            return;
        logStatus(filesError(e), true);
        if ($('log-follow').checked)
            log.timer = setTimeout(() => readLog(log), 5 * LOG_FOLLOW_MS);
        return;
    }
    log.busy = false;
    if (ui.log !== log)
        return;
    log.end += buf.length;
    appendLog(log, log.decoder.decode(buf, { stream: true }));
    const terminal = ui.details && TERMINAL.has(ui.details.state);
    if (buf.length === LOG_CHUNK) {
        logStatus('reading\u2026 (' + bytes(log.end) + ')');
        log.timer = setTimeout(() => readLog(log), 0);
    } else if (terminal) {
        log.done = true;
        logStatus('The task has ended: all of ' + log.file + ' is shown (' + bytes(log.end)
                  + ').');
    } else if ($('log-follow').checked) {
        logStatus('following ' + log.file + ' (' + bytes(log.end) + ')');
        log.timer = setTimeout(() => readLog(log), LOG_FOLLOW_MS);
    } else {
        logStatus('not following (' + bytes(log.end) + ' read)');
    }
    document.body.dataset.logBytes = String(log.end);
}

function appendLog(log, text) {
    if (!text)
        return;
    const pre = $('log-text');
    const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    pre.appendChild(document.createTextNode(text));
    log.kept += text.length;
    if (log.kept > LOG_KEEP) {
        /* Keep the newest three quarters of the limit, as one text node. */
        const all = pre.textContent;
        const cut = all.length - Math.floor(LOG_KEEP * 3 / 4);
        log.start += new TextEncoder().encode(all.slice(0, cut)).length;
        pre.textContent = all.slice(cut);
        log.kept = all.length - cut;
        $('log-earlier').disabled = true;       /* it would not fit */
    }
    if ($('log-follow').checked && atBottom)
        pre.scrollTop = pre.scrollHeight;
}

async function readEarlier() {
    const log = ui.log;
    if (!log || log.start === 0)
        return;
    const from = Math.max(0, log.start - LOG_TAIL);
    try {
        const r = await request('../tasks/files/read?'
                                + filesQuery({ file: log.file, offset: from,
                                               length: log.start - from }));
        const buf = new Uint8Array(await r.arrayBuffer());
        if (ui.log !== log)
            return;
        const pre = $('log-text');
        const text = new TextDecoder('utf-8').decode(buf);
        pre.insertBefore(document.createTextNode(text), pre.firstChild);
        log.kept += text.length;
        log.start = from;
        $('log-earlier').disabled = from === 0 || log.kept > LOG_KEEP;
    } catch (e) {
        logStatus(filesError(e), true);
    }
}

/*  Views and polling.                                                     */

function parseView() {
    const parts = location.hash.replace(/^#/, '').split('/').map((p) => {
        try {
            return decodeURIComponent(p);
        } catch (e) {
            return '';
        }
    });
    if (parts[0] === 'agent' && parts[1])
        return { kind: 'agent', id: parts[1] };
    if (parts[0] === 'framework' && parts[1])
        return { kind: 'framework', id: parts[1] };
    if (parts[0] === 'task' && parts[1] && parts[2])
        return { kind: 'task', framework_id: parts[1], id: parts[2] };
    return { kind: 'overview' };
}

function showView() {
    const v = parseView();
    const same = JSON.stringify(v) === JSON.stringify(ui.view);
    ui.view = v;
    $('view-overview').hidden = v.kind !== 'overview';
    $('view-agent').hidden = v.kind !== 'agent';
    $('view-framework').hidden = v.kind !== 'framework';
    $('task-details').hidden = v.kind !== 'task';
    $('crumbs').hidden = v.kind === 'overview';
    if (same)
        return;
    ui.vtask.offset = 0;
    if (v.kind === 'task') {
        ui.details = { id: v.id, framework_id: v.framework_id };
        for (const id of ['task-details-id', 'crumb-current'])
            setText(id, v.id);
        clear($('task-details-fields'));
        fillRows('task-history', []);
        fillRows('sandbox-files', []);
        ui.sandbox.path = '';
        loadSandbox('');
        openFile('stdout');
    } else {
        ui.details = null;
        stopLog();
    }
    if (v.kind === 'agent' || v.kind === 'framework')
        setText('crumb-current', v.kind + ' ' + v.id);
    if (v.kind !== 'overview')
        window.scrollTo(0, 0);
}

/* The next poll's delay: 10 x the master's last response time, at least
   POLL_MS, more for a large cluster; doubled while polls fail. */
function nextDelay(elapsedMs, failed) {
    if (failed)
        return Math.min(ui.delay * 2, MAX_POLL_MS);
    let d = Math.max(POLL_MS, 10 * elapsedMs);
    const s = ui.summary;
    if (s) {
        const tasks = Object.values(s.tasks || {}).reduce((a, b) => a + b, 0);
        const agents = Object.values(s.agents || {}).reduce((a, b) => a + b, 0);
        const size = Math.max(tasks, 10 * agents);
        if (size > LARGE_TASKS)
            d = Math.max(d, 5000 * Math.log10(size / 1000));
    }
    return Math.min(Math.round(d), MAX_POLL_MS);
}

function drawPollInterval() {
    document.body.dataset.pollMs = String(ui.delay);
    setText('poll-interval', ui.paused ? 'paused (page hidden)'
                                       : 'every ' + num(ui.delay / 1000, 1) + ' s');
}

/* Fetches and draws what the view shows; seq tells whether a newer poll
   started meanwhile (then this one draws nothing). */
async function pollView(summaryP, seq) {
    const v = ui.view;
    const stale = () => seq !== ui.seq;
    if (v.kind === 'overview') {
        const [agents, tasks] = await Promise.all([getJSON('../agents'), getJSON(tasksURL())]);
        const summary = await summaryP;
        if (stale())
            return;
        drawSummary(summary);
        drawAgents(agents.agents);
        drawTasks(tasks);
        drawScope();
    } else if (v.kind === 'agent') {
        const [agents, page] = await Promise.all([
            getJSON('../agents'),
            getJSON('../tasks?' + query({ agent_id: v.id, offset: ui.vtask.offset, limit: PAGE }))]);
        await summaryP;
        if (stale())
            return;
        ui.hostnames = new Map(agents.agents.map((a) => [a.id, a.hostname]));
        drawAgentView(agents.agents.find((a) => a.id === v.id), page);
    } else if (v.kind === 'framework') {
        const offersP = getJSON('../offers?' + query({ framework_id: v.id, limit: PAGE }))
            .catch(() => null);
        const page = await getJSON('../tasks?' + query({ framework_id: v.id,
                                                         offset: ui.vtask.offset, limit: PAGE }));
        if (page.tasks.some((t) => !ui.hostnames.has(t.agent_id))) {
            /* Opened here first: the agents' hostnames, once. */
            const agents = await getJSON('../agents');
            ui.hostnames = new Map(agents.agents.map((a) => [a.id, a.hostname]));
        }
        const summary = await summaryP;
        const offers = await offersP;
        if (stale())
            return;
        drawFrameworkView(summary.frameworks.find((f) => f.id === v.id), page, offers);
    } else if (v.kind === 'task' && ui.details) {
        const d = ui.details;
        const t = await getJSON('../tasks?' + query({ task_id: d.id, framework_id: d.framework_id }));
        await summaryP;
        if (!stale() && ui.details === d)
            drawDetails(t);
    }
}

async function poll() {
    clearTimeout(ui.timer);
    if (document.visibilityState === 'hidden') {
        ui.paused = true;
        drawPollInterval();
        return;
    }
    const started = Date.now();
    const view = ui.view;
    const seq = ++ui.seq;
    let failed = false;
    try {
        const summaryP = getJSON('../state/summary').then((s) => {
            ui.summary = s;
            ui.fwnames = new Map(s.frameworks.map((f) => [f.id, f.name]));
            return s;
        });
        const [summary, health] = await Promise.all([summaryP, getJSON('../health'),
                                                     pollView(summaryP, seq)]);
        if (seq !== ui.seq)
            return;             /* a newer poll draws and schedules */
        drawHeader(summary, health);
        $('error').hidden = true;
        document.body.dataset.ready = '1';
        document.body.dataset.view = view.kind;
    } catch (e) {
        if (seq !== ui.seq)
            return;
        failed = true;
        showError(e);
    }
    ui.delay = nextDelay(Date.now() - started, failed);
    drawPollInterval();
    ui.timer = setTimeout(poll, ui.delay);
}

function showError(e) {
    const p = $('error');
    p.textContent = 'Cannot reach the master: ' + (e && e.message ? e.message : e);
    p.hidden = false;
}

function refilter() {
    ui.offset = 0;
    poll();
}

function pager(prefix, state, page) {
    $(prefix + '-prev').addEventListener('click', () => {
        state.offset = Math.max(0, state.offset - page);
        poll();
    });
    $(prefix + '-next').addEventListener('click', () => {
        if (state.offset + page < state.total)
            state.offset += page;
        poll();
    });
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
    for (const [id, key, kind] of [['task-framework', 'framework_id', 'framework'],
                                   ['task-agent', 'agent_id', 'agent']])
        $(id).addEventListener('change', (e) => {
            const sel = e.target;
            ui.scope = sel.value ? { [key]: sel.value,
                                     label: kind + ' ' + sel.selectedOptions[0].textContent }
                                 : null;
            refilter();
        });
    $('task-scope-clear').addEventListener('click', () => {
        ui.scope = null;
        refilter();
    });
    pager('task', ui, PAGE);
    pager('agent-task', ui.vtask, PAGE);
    pager('framework-task', ui.vtask, PAGE);
    $('task-details-close').addEventListener('click', () => {
        location.hash = '#tasks';
    });
    $('task-kill').addEventListener('click', () => {
        const d = ui.details;
        if (!d)
            return;
        confirmAction('Kill task ' + d.id + ' of framework ' + d.framework_id + '?',
                      '../tasks/kill?' + query({ task_id: d.id, framework_id: d.framework_id }),
                      'Kill task ' + d.id);
    });
    $('sandbox-refresh').addEventListener('click', () => loadSandbox(ui.sandbox.path));
    for (const b of document.querySelectorAll('#log-bar button[data-file]'))
        b.addEventListener('click', () => openFile(b.dataset.file));
    $('log-follow').addEventListener('change', () => {
        if (ui.log && !ui.log.done && $('log-follow').checked)
            readLog(ui.log);
        else if (ui.log && !ui.log.done)
            logStatus('not following (' + bytes(ui.log.end) + ' read)');
    });
    $('log-earlier').addEventListener('click', readEarlier);
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
    window.addEventListener('hashchange', () => {
        showView();
        poll();
    });
    document.addEventListener('visibilitychange', () => {
        if (document.visibilityState === 'visible' && ui.paused) {
            ui.paused = false;
            poll();
        }
    });
    showView();
    poll();
});
