/* Draining an agent for maintenance and back, through the confirmation:
 * node3 (it runs no task) gets Drain; Cancel sends nothing; Confirm
 * drains it (the master's /agents says so, its row gets Undrain and
 * "draining"); Undrain, Confirm brings it back. */
'use strict';
const assert = require('node:assert/strict');
const { open, test, done, api, until, typeToken, confirmDone } = require('./lib.js');

(async () => {
    const { browser, page } = await open();
    const posts = [];
    page.on('request', (r) => {
        if (r.method() === 'POST')
            posts.push(r.url());
    });
    const node3 = async () => (await api('/agents')).agents.find((a) => a.hostname === 'node3');
    try {
        const a = await node3();
        assert.ok(a && !a.drain, 'node3 is there, not draining');
        assert.equal(a.tasks, 0, 'node3 runs no task');
        const row = page.locator(`#agents tr[data-agent="${a.id}"]`);
        const name = `node3 (${a.id})`;

        await test('Drain on node3\'s row asks first, naming the agent', async () => {
            await typeToken(page);
            await row.locator('button[data-action="drain"]').click();
            await page.locator('#confirm').waitFor({ state: 'visible' });
            assert.match(await page.locator('#confirm-text').textContent(),
                         new RegExp('^Drain agent ' + name.replace(/[()]/g, '\\$&') + '\\? '));
        });

        await test('Cancel: nothing is sent, node3 is not draining', async () => {
            await page.locator('#confirm-no').click();
            await page.locator('#confirm').waitFor({ state: 'hidden' });
            await page.waitForResponse((r) => r.url().includes('/state/summary'));
            assert.deepEqual(posts, []);
            assert.ok(!(await node3()).drain);
            assert.equal(await row.locator('button[data-action="drain"]').count(), 1);
        });

        await test('Drain, Confirm: the page says it is done, the master drains node3', async () => {
            await row.locator('button[data-action="drain"]').click();
            await page.locator('#confirm').waitFor({ state: 'visible' });
            await confirmDone(page, 'Drain agent ' + name);
            await until('node3 draining', async () => !!(await node3()).drain);
        });

        await test('node3\'s row says draining and offers Undrain', async () => {
            await row.locator('button[data-action="undrain"]').waitFor();
            assert.equal(await row.locator('td.why').textContent(), 'draining');
            assert.equal(await row.locator('button[data-action="drain"]').count(), 0);
        });

        await test('Undrain, Confirm: node3 is offered again, its row has Drain', async () => {
            await row.locator('button[data-action="undrain"]').click();
            await page.locator('#confirm').waitFor({ state: 'visible' });
            assert.match(await page.locator('#confirm-text').textContent(), /^Undrain agent node3 /);
            await confirmDone(page, 'Undrain agent ' + name);
            await until('node3 not draining', async () => !(await node3()).drain);
            await row.locator('button[data-action="drain"]').waitFor();
            assert.equal(posts.length, 2);
        });
    } finally {
        await done(browser);
    }
})();
