/* Killing a running task from its page, through the confirmation: Cancel
 * sends nothing (the master still has the task running), Confirm kills
 * it (TASK_KILLED in the master's API, then in the task table and on
 * the task's page). */
'use strict';
const assert = require('node:assert/strict');
const { open, test, done, until, task, typeToken, waitRows, confirmDone } = require('./lib.js');

const VICTIM = 'web-4';

(async () => {
    const { browser, page } = await open();
    const posts = [];
    page.on('request', (r) => {
        if (r.method() === 'POST')
            posts.push(r.url());
    });
    /* The State field of the task's page. */
    const stateField = () => page.$$eval('#task-details-fields dt', (dts) => {
        const dt = dts.find((d) => d.textContent === 'State');
        return dt ? dt.nextElementSibling.textContent : null;
    });
    try {
        const t = await task(VICTIM);
        assert.equal(t.state, 'TASK_RUNNING');

        await test('the operator types the token, opens ' + VICTIM + ', clicks Kill task', async () => {
            await typeToken(page);
            await page.locator(`#tasks tr[data-task="${VICTIM}"]`).click();
            await page.waitForFunction(
                (id) => document.getElementById('task-details-id').textContent === id, VICTIM);
            await page.locator('#task-kill').click();
            await page.locator('#confirm').waitFor({ state: 'visible' });
        });

        await test('the confirmation names the task and its framework', async () => {
            assert.equal(await page.locator('#confirm-text').textContent(),
                         `Kill task ${VICTIM} of framework ${t.framework_id}?`);
        });

        await test('Cancel: the confirmation goes, nothing is sent', async () => {
            await page.locator('#confirm-no').click();
            await page.locator('#confirm').waitFor({ state: 'hidden' });
            /* The page's next poll has come and gone: anything Cancel
               had sent would have been sent before it. */
            await page.waitForResponse((r) => r.url().includes('/state/summary'));
            assert.deepEqual(posts, []);
            assert.equal(await page.locator('#action-result').isVisible(), false);
        });

        await test('after Cancel the master still has ' + VICTIM + ' running', async () => {
            assert.equal((await task(VICTIM)).state, 'TASK_RUNNING');
            assert.equal(await stateField(), 'TASK_RUNNING');
            assert.equal(await page.locator('#task-kill').isVisible(), true);
        });

        await test('Kill task, Confirm: the page says it is done', async () => {
            await page.locator('#task-kill').click();
            await page.locator('#confirm').waitFor({ state: 'visible' });
            await confirmDone(page, 'Kill task ' + VICTIM);
            assert.equal(posts.length, 1);
            assert.match(posts[0], new RegExp('/tasks/kill\\?task_id=' + VICTIM + '&'));
        });

        await test('the master\'s API has ' + VICTIM + ' TASK_KILLED', async () => {
            await until(VICTIM + ' killed', async () => (await task(VICTIM)).state === 'TASK_KILLED',
                        30000);
        });

        await test('its page shows it TASK_KILLED without a reload', async () => {
            await page.waitForFunction(() => [...document.querySelectorAll('#task-details-fields dt')]
                .some((dt) => dt.textContent === 'State'
                      && dt.nextElementSibling.textContent === 'TASK_KILLED'), null,
                { timeout: 30000 });
        });

        await test('the task table shows it TASK_KILLED', async () => {
            await page.locator('#task-details-close').click();
            await page.locator('#tasks').waitFor({ state: 'visible' });
            await page.selectOption('#task-state', 'TASK_KILLED');
            const rows = await waitRows(page, [VICTIM]);
            assert.equal(rows[0].state, 'TASK_KILLED');
        });

        await test('its page shows TASK_KILLED, ends its history so, and no Kill button', async () => {
            await page.locator(`#tasks tr[data-task="${VICTIM}"]`).click();
            /*  The fields and the history are filled by the same poll, but
                wait for both: the page may still show what it drew before. */
            await page.waitForFunction(() => {
                const rows = document.querySelectorAll('#task-history tbody tr');
                return [...document.querySelectorAll('#task-details-fields dt')]
                    .some((dt) => dt.textContent === 'State'
                          && dt.nextElementSibling.textContent === 'TASK_KILLED')
                    && rows.length > 0
                    && rows[rows.length - 1].cells[1].textContent === 'TASK_KILLED';
            });
            const states = await page.$$eval('#task-history tbody tr',
                                             (trs) => trs.map((tr) => tr.cells[1].textContent));
            assert.equal(states[states.length - 1], 'TASK_KILLED');
            assert.equal(await page.locator('#task-kill').isVisible(), false);
        });

        await test('the other web tasks still run', async () => {
            for (const id of ['web-1', 'web-2', 'web-3'])
                assert.equal((await task(id)).state, 'TASK_RUNNING', id);
        });
    } finally {
        await done(browser);
    }
})();
