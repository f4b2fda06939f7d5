/* Filtering the task table: by state (the select) and by free text (the
 * search field, typed key by key); only the matching rows remain, as the
 * master's own filter says, and text matching nothing shows the table's
 * "no tasks" row. */
'use strict';
const assert = require('node:assert/strict');
const { open, test, done, api, waitRows } = require('./lib.js');

/* The ids the master's /tasks gives for these filters. */
async function ids(params) {
    const page = await api('/tasks?' + new URLSearchParams({ ...params, limit: 500 }));
    return page.tasks.map((t) => t.id);
}

(async () => {
    const { browser, page } = await open();
    try {
        await test('the task table starts with the active tasks', async () => {
            const want = await ids({ state: 'active' });
            assert.ok(want.length >= 7, 'the cluster runs at least 7 tasks: ' + want);
            await waitRows(page, want);
        });

        await test('state TASK_RUNNING: only running tasks remain', async () => {
            await page.selectOption('#task-state', 'TASK_RUNNING');
            const want = await ids({ state: 'TASK_RUNNING' });
            const rows = await waitRows(page, want);
            assert.ok(rows.length >= 7);
            for (const r of rows)
                assert.equal(r.state, 'TASK_RUNNING', r.id + ' is shown as ' + r.state);
        });

        await test('state TASK_FINISHED: only backup-1 and backup-2', async () => {
            await page.selectOption('#task-state', 'TASK_FINISHED');
            const rows = await waitRows(page, ['backup-1', 'backup-2']);
            assert.deepEqual(rows.map((r) => r.state), ['TASK_FINISHED', 'TASK_FINISHED']);
        });

        await test('state completed: the finished and the failed tasks, no running one', async () => {
            await page.selectOption('#task-state', 'completed');
            const want = await ids({ state: 'completed' });
            assert.ok(want.includes('flaky-1') && want.includes('backup-1'), 'API: ' + want);
            const rows = await waitRows(page, want);
            assert.ok(rows.every((r) => r.state !== 'TASK_RUNNING'));
            assert.equal(rows.find((r) => r.id === 'flaky-1').state, 'TASK_FAILED');
        });

        await test('state all, search "web": only the web-* tasks', async () => {
            await page.selectOption('#task-state', '');
            await page.locator('#task-q').pressSequentially('web');
            const want = await ids({ q: 'web' });
            assert.ok(want.length >= 1 && want.every((id) => id.startsWith('web-')), 'API: ' + want);
            await waitRows(page, want);
        });

        await test('search "etl-2": one row, etl-2', async () => {
            await page.locator('#task-q').fill('');
            await page.locator('#task-q').pressSequentially('etl-2');
            const rows = await waitRows(page, ['etl-2']);
            assert.equal(rows.length, 1);
        });

        await test('search with state: "backup" and TASK_RUNNING shows nothing', async () => {
            await page.locator('#task-q').fill('');
            await page.locator('#task-q').pressSequentially('backup');
            await waitRows(page, ['backup-1', 'backup-2']);
            await page.selectOption('#task-state', 'TASK_RUNNING');
            await page.waitForFunction(() => {
                const trs = document.querySelectorAll('#tasks tbody tr');
                return trs.length === 1 && !trs[0].dataset.task;
            });
        });

        await test('text matching no task: the table says "no tasks", 0 of 0', async () => {
            await page.selectOption('#task-state', '');
            await page.locator('#task-q').fill('');
            await waitRows(page, await ids({}));
            await page.locator('#task-q').pressSequentially('no-such-task-zz');
            await page.waitForFunction(() => {
                const trs = document.querySelectorAll('#tasks tbody tr');
                return trs.length === 1 && trs[0].textContent === 'no tasks'
                    && document.getElementById('task-page').textContent === '0 of 0';
            });
        });

        await test('clearing the search shows every task again', async () => {
            await page.locator('#task-q').fill('');
            await waitRows(page, await ids({}));
        });

        await test('no JavaScript error in the page', async () => {
            assert.deepEqual(page.cairnErrors, []);
        });
    } finally {
        await done(browser);
    }
})();
