/* Opening a task: a click on its row in the task table shows its page
 * (the details section) with its id, state, agent and status history,
 * as the master's API has them. */
'use strict';
const assert = require('node:assert/strict');
const { open, test, done, api, task } = require('./lib.js');

(async () => {
    const { browser, page } = await open();
    try {
        const t = await task('etl-1');
        const agents = (await api('/agents')).agents;
        const agent = agents.find((a) => a.id === t.agent_id);

        await test('the etl-1 row names its agent by hostname', async () => {
            const row = page.locator('#tasks tr[data-task="etl-1"]');
            await row.waitFor();
            assert.equal(await row.locator('td').nth(4).textContent(), agent.hostname);
        });

        await test('clicking etl-1 opens its page with its id', async () => {
            assert.equal(await page.locator('#task-details').isVisible(), false,
                         'no task page before the click');
            await page.locator('#tasks tr[data-task="etl-1"]').click();
            await page.locator('#task-details').waitFor({ state: 'visible' });
            await page.waitForFunction(
                () => document.getElementById('task-details-id').textContent === 'etl-1');
        });

        /* The fields of the page as {label: value}. */
        const fields = () => page.$$eval('#task-details-fields dt', (dts) =>
            Object.fromEntries(dts.map((dt) => [dt.textContent, dt.nextElementSibling.textContent])));

        await test('its page shows state TASK_RUNNING, the agent and the framework', async () => {
            const f = await fields();
            assert.equal(f.State, 'TASK_RUNNING');
            assert.equal(f.Agent, agent.hostname + ' ' + agent.id);
            assert.match(f.Framework, /^nightly-etl /);
            assert.equal(f.Framework, 'nightly-etl ' + t.framework_id);
            assert.equal(f.Command, 'sleep 600');
        });

        await test('its status history ends in TASK_RUNNING, as the API has it', async () => {
            const full = await api('/tasks?' + new URLSearchParams({
                task_id: 'etl-1', framework_id: t.framework_id }));
            const states = await page.$$eval('#task-history tbody tr',
                                             (trs) => trs.map((tr) => tr.cells[1].textContent));
            assert.deepEqual(states, full.history.map((h) => h.state));
            assert.equal(states[states.length - 1], 'TASK_RUNNING');
            assert.ok(states.length >= 2, 'more than one state: ' + states);
        });

        await test('a running task has a Kill task button', async () => {
            assert.equal(await page.locator('#task-kill').isVisible(), true);
        });

        await test('Close goes back to the task table', async () => {
            await page.locator('#task-details-close').click();
            await page.locator('#task-details').waitFor({ state: 'hidden' });
            await page.locator('#tasks').waitFor({ state: 'visible' });
        });

        await test('another row opens that task instead: backup-1, finished, no kill', async () => {
            await page.selectOption('#task-state', 'completed');
            await page.locator('#tasks tr[data-task="backup-1"]').click();
            await page.waitForFunction(
                () => document.getElementById('task-details-id').textContent === 'backup-1');
            const f = await fields();
            assert.equal(f.State, 'TASK_FINISHED');
            assert.equal(f['Exit code'], '0');
            assert.equal(await page.locator('#task-kill').isVisible(), false);
            const states = await page.$$eval('#task-history tbody tr',
                                             (trs) => trs.map((tr) => tr.cells[1].textContent));
            assert.equal(states[states.length - 1], 'TASK_FINISHED');
        });

        await test('Close hides the task page', async () => {
            await page.locator('#task-details-close').click();
            await page.locator('#task-details').waitFor({ state: 'hidden' });
        });
    } finally {
        await done(browser);
    }
})();
