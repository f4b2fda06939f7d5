/* tests/ui/lib.js - what the web UI's interaction tests share.
 *
 * Each tests/ui/*.test.js is a plain node script, run by tests/ui/run.sh
 * against the live cluster it started (CAIRN_UI_URL, CAIRN_UI_API,
 * CAIRN_UI_TOKEN...). It opens the UI in headless Chromium through
 * playwright-core, runs its steps with test(), and prints one line per
 * result, "ok - WHAT" or "not ok - WHAT" (run.sh numbers them into the
 * TAP stream), with "#" lines explaining a failure. A failed step leaves
 * a screenshot in CAIRN_UI_ARTIFACTS.
 *
 * Waits are for conditions (waitForSelector, waitForFunction, the API
 * polled until it agrees), never fixed sleeps; WAIT_MS bounds each. */
'use strict';

const { chromium } = require('playwright-core');
const fs = require('node:fs');
const path = require('node:path');

const URL_UI = process.env.CAIRN_UI_URL;
const API = process.env.CAIRN_UI_API;
const TOKEN = process.env.CAIRN_UI_TOKEN;
const ARTIFACTS = process.env.CAIRN_UI_ARTIFACTS;
const WAIT_MS = 20000;
/* What the UI's tests and pictures run Chromium with: no sandbox (CI
   runs as root), nothing fetched from the network but the master. */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu',
                       '--disable-quic', '--no-first-run', '--disable-background-networking',
                       '--disable-component-update', '--disable-sync'];

if (!URL_UI || !API)
    throw new Error('run me through tests/ui/run.sh (CAIRN_UI_URL and CAIRN_UI_API are not set)');

let current = null;             /* the page a failure is pictured from */

/* A fresh browser (its own temporary profile) and a 1280x800 page on
   /ui/, once the UI marks its first data load (body[data-ready="1"]).
   Uncaught errors in the page are collected in page.cairnErrors. */
async function open(opts) {
    const browser = await chromium.launch({
        executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
        args: CHROMIUM_ARGS,
        timeout: 60000,
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 },
                                               ...(opts || {}) });
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.cairnErrors = [];
    page.on('pageerror', (e) => page.cairnErrors.push(String(e)));
    await page.goto(URL_UI);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 30000 });
    current = page;
    return { browser, page };
}

function say(line) {
    process.stdout.write(line + '\n');
}

function diag(text) {
    for (const l of String(text).split('\n'))
        say('# ' + l);
}

/* Runs one step; a thrown error (an assert, a timed-out wait) fails it. */
async function test(name, fn) {
    try {
        await fn();
        say('ok - ' + name);
    } catch (e) {
        say('not ok - ' + name);
        diag((e && e.stack) || String(e));
        if (current && ARTIFACTS) {
            const file = path.join(ARTIFACTS, name.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 80)
                                              + '.png');
            await current.screenshot({ path: file, fullPage: true }).catch(() => {});
            diag('screenshot: ' + file);
        }
    }
}

function skip(name, reason) {
    say('ok - ' + name + ' # SKIP ' + reason);
}

/* Ends the script. Its status stays 0 when steps failed (each said so):
   a non-zero status means the script itself broke (an exception outside
   test(), Chromium not starting), which run.sh reports as a failure. */
async function done(browser) {
    if (browser)
        await browser.close().catch(() => {});
}

/* GET one of the master's endpoints (PATH like '/tasks?...'), as JSON. */
async function api(p) {
    const r = await fetch(API + p, { signal: AbortSignal.timeout(10000) });
    if (!r.ok)
        throw new Error('GET ' + p + ': ' + r.status);
    return r.json();
}

/* Polls fn (async, truthy when done) until it holds; throws with what
   it last returned after ms. */
async function until(what, fn, ms) {
    const deadline = Date.now() + (ms || WAIT_MS);
    let last;
    for (;;) {
        last = await fn();
        if (last)
            return last;
        if (Date.now() > deadline)
            throw new Error('timed out waiting for ' + what);
        await new Promise((r) => setTimeout(r, 200));
    }
}

/* One task as the master's API shows it. */
async function task(id) {
    const page = await api('/tasks?' + new URLSearchParams({ state: '', q: id, limit: 500 }));
    const t = page.tasks.find((x) => x.id === id);
    if (!t)
        throw new Error('the master does not list task ' + id);
    return t;
}

/* The task table's rows as the page shows them: [{id, state, agent}],
   or [{empty: text}] for its "no tasks" row. */
async function taskRows(page) {
    return page.$$eval('#tasks tbody tr', (trs) => trs.map((tr) => tr.dataset.task
        ? { id: tr.dataset.task, state: tr.cells[2].textContent, agent: tr.cells[4].textContent }
        : { empty: tr.textContent }));
}

/* Waits until the task table shows exactly the tasks ids (any order);
   returns the rows. */
async function waitRows(page, ids, ms) {
    const want = [...ids].sort();
    try {
        await page.waitForFunction((w) => {
            const got = [...document.querySelectorAll('#tasks tbody tr[data-task]')]
                .map((tr) => tr.dataset.task).sort();
            return JSON.stringify(got) === JSON.stringify(w);
        }, want, { timeout: ms || WAIT_MS });
    } catch (e) {
        const got = (await taskRows(page)).map((r) => r.id || r.empty);
        throw new Error('the task table shows [' + got.join(', ') + '], not ['
                        + want.join(', ') + ']');
    }
    return taskRows(page);
}

/* Types the operator token into the header's field, key by key. */
async function typeToken(page) {
    await page.locator('#token').pressSequentially(TOKEN);
}

/* Clicks the confirmation's Confirm and waits for the page to say that
 * the action `what` ("Kill task web-4") is done. */
async function confirmDone(page, what) {
    await page.locator('#confirm-yes').click();
    await page.waitForFunction((w) => {
        const p = document.getElementById('action-result');
        return !p.hidden && p.textContent === w + ': done.';
    }, what);
}

module.exports = { open, test, skip, done, diag, api, until, task, taskRows, waitRows,
                   typeToken, confirmDone, fs, WAIT_MS, TOKEN, CHROMIUM_ARGS };
