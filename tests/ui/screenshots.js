/* tests/ui/screenshots.js DIR - the README's pictures of the web UI in
 * a 1280x800 window, from the live cluster tests/ui/run.sh --screenshots
 * started (node3 draining): the window as the page opens (DIR/webui.png),
 * the agents, frameworks and tasks sections (each cut to its section),
 * an agent's, a framework's and a task's page (with its log), and the
 * confirmation a kill asks for (the window).
 * `make screenshots` writes them into doc/. Prints a result per picture,
 * as the tests do. */
'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { open, test, done } = require('./lib.js');

const dir = process.argv[2];

(async () => {
    assert.ok(dir, 'usage: screenshots.js DIR');
    const { browser, page } = await open();
    try {
        /* Every view filled: the three agents (node3 draining), the five
           frameworks, the tasks. */
        await page.waitForFunction(() =>
            document.querySelectorAll('#agents tbody tr').length === 3
            && [...document.querySelectorAll('#agents td.why')].some((td) => td.textContent === 'draining')
            && document.querySelectorAll('#frameworks tbody tr').length === 5
            && document.querySelectorAll('#tasks tbody tr[data-task]').length >= 7);

        /* shot NAME [SELECTOR [FULLPAGE]]: the window from the top (the
           whole page with FULLPAGE), or only the element SELECTOR, into
           DIR/NAME. */
        const shot = async (name, selector, fullPage) => {
            const file = path.join(dir, name);
            if (selector) {
                await page.locator(selector).screenshot({ path: file });
            } else {
                await page.evaluate(() => window.scrollTo(0, 0));
                await page.screenshot({ path: file, fullPage: !!fullPage });
            }
            assert.ok(fs.statSync(file).size > 10000, file + ' is not empty');
        };

        await test('doc/webui.png: the overview', () => shot('webui.png', null));
        await test('doc/webui-agents.png: the agents', () =>
            shot('webui-agents.png', 'section:has(> #agents)'));
        await test('doc/webui-frameworks.png: the frameworks', () =>
            shot('webui-frameworks.png', 'section:has(> #frameworks)'));
        await test('doc/webui-tasks.png: the tasks, every state', async () => {
            await page.selectOption('#task-state', '');
            await page.waitForFunction(() => [...document.querySelectorAll('#tasks tbody td')]
                .some((td) => td.textContent === 'TASK_FINISHED'));
            await shot('webui-tasks.png', 'section:has(> #tasks)');
        });
        await test('doc/webui-agent.png: the page of agent node1', async () => {
            await page.locator('#agents tbody tr', { hasText: 'node1' }).locator('a.drill').first().click();
            await page.waitForFunction(() => document.body.dataset.view === 'agent'
                && document.getElementById('agent-hostname').textContent === 'node1'
                && document.querySelectorAll('#agent-tasks tr[data-task]').length > 0);
            await shot('webui-agent.png', null);
            await page.goBack();
            await page.waitForFunction(() => document.body.dataset.view === 'overview');
        });
        await test('doc/webui-framework.png: a framework\'s page', async () => {
            await page.locator('#frameworks a.drill').first().click();
            await page.waitForFunction(() => document.body.dataset.view === 'framework'
                && document.getElementById('framework-name').textContent !== '');
            await shot('webui-framework.png', null);
            await page.goBack();
            await page.waitForFunction(() => document.body.dataset.view === 'overview');
        });
        await test('doc/webui-task.png: the page of task report-1, its log followed', async () => {
            await page.selectOption('#task-state', '');
            await page.locator('#tasks tr[data-task="report-1"]').click();
            await page.waitForFunction(
                () => document.getElementById('task-details-id').textContent === 'report-1'
                    && document.getElementById('log-text').textContent.includes('cairn-ui-log'));
            await shot('webui-task.png', null, true);
        });
        await test('doc/webui-kill.png: Kill task asks first', async () => {
            await page.locator('#task-kill').click();
            await page.locator('#confirm').waitFor({ state: 'visible' });
            await shot('webui-kill.png', null);
            await page.locator('#confirm-no').click();
        });
    } finally {
        await done(browser);
    }
})();
