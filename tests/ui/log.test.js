/* Following a task's log on its page. The task report-1 printed
 * "cairn-ui-log: first line" and prints "cairn-ui-log: later line" once
 * this test creates CAIRN_UI_LOG_GO. Its page's log pager (#log-text,
 * stdout by default, Follow on) must show the first line, read through
 * the master, then the later one without the page being reloaded. */
'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { open, test, done } = require('./lib.js');

const LOG = '#log-text';
const FIRST = 'cairn-ui-log: first line';
const LATER = 'cairn-ui-log: later line';

(async () => {
    const { browser, page } = await open();
    try {
        await test('clicking report-1 opens its page', async () => {
            await page.locator('#tasks tr[data-task="report-1"]').click();
            await page.waitForFunction(
                () => document.getElementById('task-details-id').textContent === 'report-1');
        });
        await test('its pager shows stdout and follows it', async () => {
            await page.locator(LOG).waitFor({ state: 'attached' });
            assert.equal(await page.locator('#log-follow').isChecked(), true);
            assert.equal(await page.locator('#log-file').textContent(), 'stdout');
        });
        await test('the task page shows the task\'s stdout', async () => {
            await page.waitForFunction(([sel, text]) => {
                const e = document.querySelector(sel);
                return e && e.textContent.includes(text);
            }, [LOG, FIRST], { timeout: 30000 });
        });
        await test('output printed later appears without a reload', async () => {
            /* Gone if the page is reloaded or navigated away. */
            await page.evaluate(() => { window.cairnNotReloaded = true; });
            const text = await page.locator(LOG).textContent();
            assert.ok(!text.includes(LATER), 'the later line is not there before it is printed');
            fs.writeFileSync(process.env.CAIRN_UI_LOG_GO, '');
            await page.waitForFunction(([sel, text]) => {
                const e = document.querySelector(sel);
                return e && e.textContent.includes(text);
            }, [LOG, LATER], { timeout: 30000 });
            assert.equal(await page.evaluate(() => window.cairnNotReloaded), true,
                         'the page was not reloaded');
        });
    } finally {
        await done(browser);
    }
})();
